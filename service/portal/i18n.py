"""The portal's own words in English and Spanish (gettext domain "portal").

Staff-facing text is not patient content: it has its own small catalog,
service/portal/translations/<locale>/LC_MESSAGES/portal.po, read at start-up (no compile step).
Refresh it with `python -m service.portal.i18n` after changing a template or view; a test fails
while any Spanish entry is missing.
"""

from __future__ import annotations

import gettext as gettext_mod
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import g, request, session

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
LOCALES = ("en", "es")
NAMES = {"en": "English", "es": "Español"}
DOMAIN = "portal"


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def translations(locale: str) -> gettext_mod.NullTranslations:
    path = po_path(locale)
    if locale == "en" or not path.exists():
        return gettext_mod.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext_mod.GNUTranslations(buf)


def current_locale() -> str:
    locale = g.get("portal_locale")
    if locale is None:
        chosen = session.get("portal_lang")
        locale = chosen if chosen in LOCALES else (request.accept_languages.best_match(LOCALES) or "en")
        g.portal_locale = locale
    return locale


def gettext(message: str, **params) -> str:
    text = translations(current_locale()).gettext(message)
    return text % params if params else text


_ = gettext


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    """'1 row needs fixing' / '3 rows need fixing' (Spanish has the same two forms); `n` is
    passed to the text as %(n)s."""
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % {"n": n, **params}


def N_(message: str) -> str:  # noqa: N802 - marks a string for extraction, translated later
    return message


class LazyString:
    """Translated when shown, for texts defined at import time (form validator messages)."""

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __mod__(self, params) -> str:  # WTForms formats some validator messages (Length) with %
        return str(self) % params if "%(" in self.message else str(self)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


def extract() -> Catalog:
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="MBC Guide portal", domain=DOMAIN)
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "N_": None, "ngettext": (1, 2)}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(HERE), method_map, options, keywords=keywords
    ):
        catalog.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def main() -> None:
    template = extract()
    for locale in LOCALES[1:]:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
            catalog.update(template)
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=locale, project="MBC Guide portal", domain=DOMAIN)
            catalog.update(template)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=0, sort_output=True)
        missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        print(f"{path.relative_to(HERE.parents[1])}: {len(template)} texts, {len(missing)} to translate")


if __name__ == "__main__":
    main()
