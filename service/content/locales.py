"""The one list of locales the line knows, in order of US need (SPEC.md)."""

from __future__ import annotations

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
SOURCE_LOCALE = "en"
# Locales written right to left. Latin insertions in their texts (a subtype such as "HR+", an
# English trial title, a phone number) are wrapped in Unicode isolates (see `isolate_ltr`) so a
# trailing "+" or "-" stays where it was typed instead of jumping to the other end.
RTL_LOCALES = frozenset({"ar"})
LRI, PDI = "\u2066", "\u2069"


def isolate_ltr(locale: str, text: str) -> str:
    """`text` as a left-to-right island inside a right-to-left locale's sentence; unchanged elsewhere."""
    return f"{LRI}{text}{PDI}" if locale in RTL_LOCALES and text else text

# locale code -> the language's own name, as a patient would type or read it
KNOWN_LOCALES: dict[str, str] = {
    "en": "ENGLISH",
    "es": "ESPAÑOL",
    "zh-Hans": "中文",
    "zh-Hant": "繁體中文",
    "vi": "TIẾNG VIỆT",
    "ko": "한국어",
    "tl": "TAGALOG",
    "ru": "РУССКИЙ",
    "ar": "العربية",
    "ht": "KREYÒL",
    "pt-BR": "PORTUGUÊS",
    "fr": "FRANÇAIS",
}


def locale_dir(locale: str) -> str:
    """gettext folder name for a locale code: zh-Hans -> zh_Hans."""
    return locale.replace("-", "_")


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale_dir(locale) / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def available_locales() -> list[str]:
    """Locales with a catalog on disk (plus English, the source)."""
    return [loc for loc in KNOWN_LOCALES if loc == SOURCE_LOCALE or po_path(loc).exists()]
