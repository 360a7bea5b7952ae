"""Keyword tables and input normalization.

Case, surrounding space and trailing punctuation never matter (SPEC.md "Keywords"). English
keywords work in every locale; each locale adds its own words. A word is only a keyword when it is
the whole message: "stop the pain" is not an opt-out, and "no" is not a command in any language.
"""

from __future__ import annotations

import re
import unicodedata

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
MENU = "menu"
BACK = "back"
MORE = "more"
LANG = "lang"

# Words that are commands whatever language the person has chosen.
ENGLISH: dict[str, frozenset[str]] = {
    OPT_OUT: frozenset(
        {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke",
         "optout", "opt out", "opt-out"}
    ),
    OPT_IN: frozenset({"start", "unstop", "yes"}),
    HELP: frozenset({"help", "info"}),
    MENU: frozenset({"menu"}),
    BACK: frozenset({"0", "back"}),
    MORE: frozenset({"more"}),
    LANG: frozenset({"lang", "language"}),
}

# Each locale's own words, matched after accents are folded ("más" == "mas").
BY_LOCALE: dict[str, dict[str, frozenset[str]]] = {
    "es": {
        OPT_OUT: frozenset({"parar", "alto", "cancelar", "baja", "detener", "no mas", "basta"}),
        OPT_IN: frozenset({"inicio", "comenzar", "si"}),
        HELP: frozenset({"ayuda"}),
        MENU: frozenset({"menu"}),
        BACK: frozenset({"atras", "volver"}),
        MORE: frozenset({"mas", "siguiente"}),
        LANG: frozenset({"idioma"}),
    },
}

# Opt-out must work "in every language" even before the person chose one: these words opt out
# from any locale. Help words likewise answer from any locale (they are harmless).
ALWAYS = {
    OPT_OUT: frozenset().union(*(t.get(OPT_OUT, frozenset()) for t in BY_LOCALE.values())),
    HELP: frozenset().union(*(t.get(HELP, frozenset()) for t in BY_LOCALE.values())),
}

_TRAILING = re.compile(r"[\s.!?¡¿,;:'\"()\-_*~…。！？،؟]+$")
_LEADING = re.compile(r"^[\s.!?¡¿,;:'\"()\-_*~…。！？،؟]+")
_SPACES = re.compile(r"\s+")
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def normalize(text: str) -> str:
    """Casefold, drop control characters and surrounding punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_CONTROL)
    # Zero-width and direction marks (category Cf) sneak in from phone keyboards and RTL text.
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = _LEADING.sub("", _TRAILING.sub("", text.strip()))
    return _SPACES.sub(" ", text).casefold()


def fold_accents(text: str) -> str:
    """'más' -> 'mas'. Only for matching keywords, never for display."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    )


def classify(text: str, locale: str) -> str | None:
    """The keyword kind of a whole message, or None when it is not a keyword."""
    norm = normalize(text)
    folded = fold_accents(norm)
    own = BY_LOCALE.get(locale, {})
    for kind in (OPT_OUT, HELP, OPT_IN, MENU, BACK, MORE, LANG):
        words = ENGLISH[kind] | own.get(kind, frozenset()) | ALWAYS.get(kind, frozenset())
        if norm in words or folded in words:
            return kind
    return None


def choice_number(text: str) -> int | None:
    """'3', ' 3. ', '#3' -> 3; anything else -> None. Full-width digits count too (NFKC)."""
    norm = normalize(text).lstrip("#")
    if norm.isdigit() and len(norm) <= 3:
        return int(norm)
    return None
