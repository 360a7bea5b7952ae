"""Content checks: every problem a reviewer or patient would notice, as one line each.

Used by `flask --app service content check` and by the tests.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from .catalog import Catalog
from .locales import LOCALES_DIR, SOURCE_LOCALE, locale_dir
from .render import SmsRenderer
from .segments import count
from .source import MESSAGES_DIR

MENU_BUDGET = 2
TEXT_BUDGET = 3
MAX_GRADE = 8.0
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Characters that force UCS-2 for no reason in a language that does not need them.
AVOIDABLE = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}


@dataclass(frozen=True)
class Problem:
    locale: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.locale}: {self.where}: {self.message}"


def reading_grade(text: str) -> float:
    import textstat

    textstat.set_lang("en_US")
    return float(textstat.flesch_kincaid_grade(text))


def glossary(locale: str) -> dict[str, str]:
    """English term -> this locale's one rendering (empty when the locale has no glossary)."""
    path = LOCALES_DIR / locale_dir(locale) / "glossary.toml"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {k.lower(): v for k, v in tomllib.load(fh).get("terms", {}).items()}


def glossary_terms() -> tuple[list[str], list[str]]:
    """(terms, phrases to ignore) from messages/glossary.toml, lowercased."""
    with (MESSAGES_DIR / "glossary.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return [t.lower() for t in data["terms"]], [p.lower() for p in data.get("ignore", [])]


def check_glossary(catalog: Catalog, locale: str) -> list[Problem]:
    renderings = glossary(locale)
    problems = []
    terms, ignore = glossary_terms()
    for term in terms:
        rendering = renderings.get(term)
        if rendering is None:
            if renderings:
                problems.append(Problem(locale, "glossary.toml", f"no rendering for {term!r}"))
            continue
        for key, source in catalog.content.texts.items():
            english = source.text.lower()
            for phrase in ignore:
                english = english.replace(phrase, "")
            if key.endswith(".label") or term not in english or not catalog.translated(locale, key):
                continue
            if rendering.lower() not in catalog.get(locale, key).lower():
                problems.append(Problem(locale, key, f"glossary: {term!r} must be rendered {rendering!r}"))
    return problems


def check_catalog(catalog: Catalog, renderer: SmsRenderer, locales: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    content = catalog.content
    for locale in locales:
        if locale != SOURCE_LOCALE:
            problems.extend(check_glossary(catalog, locale))
    for key, source in content.texts.items():
        # Grade only sentences: labels and menu headers are too short for Flesch-Kincaid.
        # Spoken prompts (kind "voice") must be plain too; they only skip the SMS budgets.
        if source.kind in ("text", "voice") and len(source.text.split()) >= 8:
            grade = reading_grade(source.text)
            if grade > MAX_GRADE:
                problems.append(Problem(SOURCE_LOCALE, key, f"reading grade {grade:.1f} is above {MAX_GRADE:g}"))
        wanted = set(PLACEHOLDER.findall(source.text))
        for locale in locales:
            if locale == SOURCE_LOCALE:
                continue
            if not catalog.translated(locale, key):
                problems.append(Problem(locale, key, "missing or untranslated"))
                continue
            text = catalog.get(locale, key)
            got = set(PLACEHOLDER.findall(text))
            if got != wanted:
                problems.append(Problem(locale, key, f"placeholders {sorted(got)} differ from source {sorted(wanted)}"))
            if text.strip() == source.text.strip() and len(source.text) > 12 and not key.endswith(".label"):
                problems.append(Problem(locale, key, "identical to the English source (untranslated?)"))
    for locale in locales:
        for where, kind, text in renderer.all_texts(locale):
            budget = MENU_BUDGET if kind == "menu" else TEXT_BUDGET
            seg = count(text)
            if seg.segments > budget:
                problems.append(Problem(locale, where, f"{seg.segments} segments ({seg.encoding}, {seg.units} units) exceeds {budget}"))
            bad = sorted({c for c in text if c in AVOIDABLE})
            if bad:
                problems.append(Problem(locale, where, f"avoidable UCS-2 characters {bad}"))
    return problems
