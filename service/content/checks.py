"""Content checks: every problem a reviewer or patient would notice, as one line each.

Used by `flask --app service content check` and by the tests.
"""

from __future__ import annotations

import re
import statistics
import warnings
import tomllib
from dataclasses import dataclass

from .catalog import Catalog
from .locales import LOCALES_DIR, SOURCE_LOCALE, locale_dir
from .render import SmsRenderer
from .segments import count
from .source import MESSAGES_DIR

MENU_BUDGET = 2
TEXT_BUDGET = 3
MAX_GRADE = 8.0  # every English text and spoken prompt, short ones included (issue 15)
MAX_MEDIAN_GRADE = 6.0  # medical.md section 4: target 6th grade
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Characters that force UCS-2 for no reason in a language that does not need them.
# Numbers a translation must keep exactly: 911, 988 and phone numbers (1-800-4-CANCER too).
KEPT_NUMBERS = re.compile(r"(?<![\d-])(?:911|988)(?![\d-])|\b1-800-[0-9A-Z-]*[0-9A-Z]|\b\d{3}-\d{3}-\d{4}\b")
AVOIDABLE = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2026": "..."}


@dataclass(frozen=True)
class Problem:
    locale: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.locale}: {self.where}: {self.message}"


def _readable(text: str) -> str:
    """The text as graded: each placeholder read as one short word."""
    return PLACEHOLDER.sub("it", text)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade (textstat below 0.7.5 counts syllables with pyphen: works offline)."""
    import textstat

    textstat.set_lang("en_US")
    return float(textstat.flesch_kincaid_grade(_readable(text)))


def dale_chall(text: str) -> float:
    """Dale-Chall score: sees long, uncommon words that Flesch-Kincaid misses (4.9 or less is
    grade 4 and below, 5.0-5.9 grades 5-6, 6.0-6.9 grades 7-8)."""
    import textstat

    textstat.set_lang("en_US")
    with warnings.catch_warnings():
        # textstat 0.7.4 reads its easy-word list (once per process) without closing the file.
        warnings.simplefilter("ignore", ResourceWarning)
        return float(textstat.dale_chall_readability_score(_readable(text)))


def graded(source) -> bool:
    """Texts that must read plainly: everything sent or said, not menu labels."""
    return source.kind in ("text", "voice") and bool(source.text.strip())


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
    grades = []
    for key, source in content.texts.items():
        # Every text and spoken prompt, short ones included (menu labels are not sentences).
        # Spoken prompts (kind "voice") must be plain too; they only skip the SMS budgets.
        if graded(source):
            grade = reading_grade(source.text)
            grades.append(grade)
            if grade > MAX_GRADE:
                problems.append(Problem(SOURCE_LOCALE, key, f"reading grade {grade:.1f} is above {MAX_GRADE:g}"))
        wanted = set(PLACEHOLDER.findall(source.text))
        numbers = KEPT_NUMBERS.findall(source.text)
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
            lost = [n for n in numbers if n not in text]
            if lost:
                problems.append(Problem(locale, key, f"number(s) {lost} lost in translation"))
            if text.strip() == source.text.strip() and len(source.text) > 12 and not key.endswith(".label"):
                problems.append(Problem(locale, key, "identical to the English source (untranslated?)"))
    median = statistics.median(grades) if grades else 0.0
    if median > MAX_MEDIAN_GRADE:
        problems.append(Problem(SOURCE_LOCALE, "all texts", f"median reading grade {median:.1f} is above {MAX_MEDIAN_GRADE:g}"))
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
