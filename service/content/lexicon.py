"""Load keyword, greeting and red-flag tables (messages/keywords.toml + locales/*/keywords.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import replace

from ..engine.keywords import AskWords, Lexicon
from .locales import KNOWN_LOCALES, LOCALES_DIR, SOURCE_LOCALE, locale_dir
from .source import MESSAGES_DIR


def keyword_tables(locales: list[str]) -> dict[str, dict]:
    tables = {}
    with (MESSAGES_DIR / "keywords.toml").open("rb") as fh:
        tables[SOURCE_LOCALE] = tomllib.load(fh)
    for locale in locales:
        path = LOCALES_DIR / locale_dir(locale) / "keywords.toml"
        if locale != SOURCE_LOCALE and path.exists():
            with path.open("rb") as fh:
                tables[locale] = tomllib.load(fh)
    return tables


def load_lexicon(locales: list[str]) -> Lexicon:
    """Keywords of every known locale (opt-out must work in any language); names of enabled ones."""
    tables = keyword_tables(list(KNOWN_LOCALES))
    lexicon = Lexicon.build(tables, {loc: KNOWN_LOCALES[loc] for loc in locales})
    return replace(lexicon, ask=load_ask())


def load_ask() -> AskWords:
    """Terms a person can ask about and topic words (messages/ask.toml)."""
    with (MESSAGES_DIR / "ask.toml").open("rb") as fh:
        return AskWords.build(tomllib.load(fh))
