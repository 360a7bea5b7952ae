"""Runtime lookup of translated texts (gettext .mo files compiled from locales/*.po).

The msgctxt is the content key and the msgid the English source, so an untranslated or stale
entry falls back to English instead of failing: a patient gets an answer either way, and
`content check` reports the gap.
"""

from __future__ import annotations

import gettext
from functools import lru_cache

from .locales import KNOWN_LOCALES, SOURCE_LOCALE, mo_path
from .source import REVIEWED_KEY, Content, load_content, string_key


class MissingCatalog(RuntimeError):
    pass


class Catalog:
    def __init__(self, content: Content, locales: list[str]):
        self.content = content
        self._translations: dict[str, gettext.NullTranslations] = {}
        for locale in locales:
            if locale == SOURCE_LOCALE:
                self._translations[locale] = gettext.NullTranslations()
                continue
            path = mo_path(locale)
            if not path.exists():
                raise MissingCatalog(f"{path} is missing: run `make catalogs`")
            with path.open("rb") as fh:
                self._translations[locale] = gettext.GNUTranslations(fh)

    @property
    def locales(self) -> list[str]:
        return list(self._translations)

    def has(self, locale: str) -> bool:
        return locale in self._translations

    def get(self, locale: str, key: str, **params: str) -> str:
        source = self.content.texts[key]
        tr = self._translations.get(locale) or self._translations[SOURCE_LOCALE]
        text = tr.pgettext(key, source.text)
        return text.format(**params) if params else text

    def translated(self, locale: str, key: str) -> bool:
        """True when the locale has its own (non-fuzzy) text for this key."""
        if locale == SOURCE_LOCALE:
            return True
        tr = self._translations.get(locale)
        if tr is None:
            return False
        return _has_entry(tr, key, self.content.texts[key].text)

    def string(self, locale: str, name: str, **params: str) -> str:
        return self.get(locale, string_key(name), **params)

    def reviewed_as_of(self, locale: str) -> str:
        return self.get(locale, REVIEWED_KEY)

    def own_names(self, locales: list[str]) -> dict[str, str]:
        return {loc: KNOWN_LOCALES[loc] for loc in locales if loc in self._translations}


def _has_entry(tr: gettext.GNUTranslations, key: str, msgid: str) -> bool:
    # GNUTranslations stores context entries as "ctxt\x04msgid" in its _catalog.
    return f"{key}\x04{msgid}" in getattr(tr, "_catalog", {})


@lru_cache(maxsize=8)
def load_catalog(locales: tuple[str, ...]) -> Catalog:
    return Catalog(load_content(), list(locales))
