"""Write locales/messages.pot from messages/ and merge it into every locale's .po.

Run with `python -m service.content.extract` (or `make pot`). Existing translations are kept;
entries whose English changed are marked fuzzy, so `content check` reports them until reviewed.
"""

from __future__ import annotations

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .locales import KNOWN_LOCALES, LOCALES_DIR, SOURCE_LOCALE, po_path, mo_path
from .source import load_content

POT_PATH = LOCALES_DIR / "messages.pot"
PROJECT = "MBC Guide"


def build_template() -> Catalog:
    content = load_content()
    pot = Catalog(project=PROJECT, version="1", fuzzy=False)
    for key, text in content.texts.items():
        comments = [f"kind: {text.kind}"]
        if text.sources:
            comments.append("sources: " + ", ".join(text.sources))
        pot.add(text.text, context=key, locations=[(f"messages/{text.origin}", 0)],
                auto_comments=comments)
    return pot


def write_catalog(catalog: Catalog, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        # width=0 keeps one msgid per line: diffs stay readable and grep finds a text.
        write_po(fh, catalog, width=0, omit_header=False, sort_output=False)


def update_locales(pot: Catalog, only: list[str] | None = None) -> list[str]:
    updated = []
    for locale in KNOWN_LOCALES:
        path = po_path(locale)
        if locale == SOURCE_LOCALE or (only and locale not in only):
            continue
        if not only and not path.parent.exists():
            continue
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale.replace("-", "_"))
            catalog.update(pot, no_fuzzy_matching=False)
            # Drop entries no longer in the source instead of keeping #~ obsolete clutter.
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=locale.replace("-", "_"), project=PROJECT, fuzzy=False)
            catalog.update(pot)
            catalog.mime_headers  # noqa: B018 - touch to build defaults
        write_catalog(catalog, path)
        updated.append(locale)
    return updated


def compile_locales() -> list[str]:
    """Compile every .po to .mo (fuzzy entries are left out, as gettext does)."""
    done = []
    for locale in KNOWN_LOCALES:
        path = po_path(locale)
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale.replace("-", "_"))
        with mo_path(locale).open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        done.append(locale)
    return done


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--locale", action="append", help="only merge into this locale (creates it)")
    args = parser.parse_args(argv)
    pot = build_template()
    write_catalog(pot, POT_PATH)
    updated = update_locales(pot, args.locale)
    print(f"wrote {POT_PATH.relative_to(LOCALES_DIR.parent)} ({len(pot)} texts); updated: {', '.join(updated) or 'none'}")


if __name__ == "__main__":
    main()
