"""Keywords, greetings and red flags per locale, and input normalization.

The words themselves are data (messages/keywords.toml for English, locales/<locale>/keywords.toml
for each locale), loaded by service.content.lexicon into a Lexicon the engine is handed.

Rules (SPEC.md "Keywords"): case, surrounding space and trailing punctuation never matter; a word
is a keyword only when it is the whole message ("stop the pain" is not an opt-out). English
keywords work for everyone. A locale's own navigation words work only for people in that locale,
so a word that is a command in one language and an ordinary word in another cannot misfire.
Opt-out and help words of every locale work for everyone: opt-out must never fail.
Accents are folded for matching only in locales whose keywords.toml allows it: in Vietnamese,
"dừng" (stop) and "dùng" (use) differ only by their marks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from .redflags import Flag, RedFlags

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
MENU = "menu"
BACK = "back"
MORE = "more"
LANG = "lang"
TRIALS = "trials"  # a command word: "TRIALS 94110 HR+" (see Lexicon.trials_args)
KINDS = (OPT_OUT, HELP, OPT_IN, MENU, BACK, MORE, LANG, TRIALS)  # precedence order
EVERYONE = (OPT_OUT, HELP)  # kinds whose words from any locale work for anyone
_PRECEDENCE = {kind: rank for rank, kind in enumerate(KINDS)}

_EDGE = r"[\s.!?¡¿,;:'\"()\-_*~…。！？、،؟]+"
_TRAILING = re.compile(_EDGE + "$")
_LEADING = re.compile("^" + _EDGE)
_SPACES = re.compile(r"\s+")
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u2018`\u00b4"), None)  # "D’accord" == "DACCORD"


# One message is normalized (and folded) by several checks in one turn, and the same few words
# ("1", "MORE", "MENU") make up most traffic: cached, pure, bounded (4096 entries; a text is at
# most 1,600 characters).
@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Casefold, drop control and invisible characters and edge punctuation, collapse spaces."""
    text = unicodedata.normalize("NFKC", text or "").translate(_CONTROL)
    # Zero-width and direction marks (category Cf) sneak in from phone keyboards and RTL text.
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = _LEADING.sub("", _TRAILING.sub("", text.strip()))
    return _SPACES.sub(" ", text).casefold()


_WORD_THEN_DIGITS = re.compile(r"^(\D+?)(\d[\d-]*)$")


def command_words(norm: str) -> list[str]:
    """Split a normalized command into words. Chinese, Korean and Japanese writers often leave
    out the space before the ZIP ("试验94110"), so a first word ending in digits is split there."""
    first, *rest = norm.split(" ")
    joined = _WORD_THEN_DIGITS.match(first)
    return [joined.group(1), joined.group(2), *rest] if joined else [first, *rest]


@lru_cache(maxsize=4096)
def fold_accents(text: str) -> str:
    """'más' -> 'mas'. Only for matching, never for display."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def choice_number(text: str) -> int | None:
    """'3', ' 3. ', '#3', '３' -> 3; anything else -> None."""
    norm = normalize(text).lstrip("#")
    if norm.isdigit() and len(norm) <= 3:
        return int(norm)
    return None


@dataclass(frozen=True)
class LocaleWords:
    fold: bool = False
    words: dict[str, frozenset[str]] = field(default_factory=dict)  # kind -> normalized words
    greetings: frozenset[str] = frozenset()
    affirm: frozenset[str] = frozenset()  # "yes" words (never consent right after a safety reply)

    def forms(self, text: str) -> set[str]:
        norm = normalize(text)
        return {norm, fold_accents(norm)} if self.fold else {norm}


def _words(values) -> frozenset[str]:
    return frozenset(normalize(v) for v in values)


@dataclass(frozen=True, eq=False)
class AskWords:
    """Terms a person can ask about, and topic words (messages/ask.toml, issue 15).

    `find` reads a short message the menu did not understand: the term it names (its definition
    is the string `key`), else the topic it names, else None. `language` says which language a
    question is written in ("que es HER2" is Spanish), for a first message.
    """

    terms: tuple[tuple[str, str], ...] = ()  # (word, string key)
    topics: tuple[tuple[str, str], ...] = ()  # (word, topic id)
    max_words: int = 8
    languages: tuple[tuple[str, str], ...] = ()  # (question word or local term, locale)

    @classmethod
    def build(cls, data: dict) -> "AskWords":
        def pairs(table: dict) -> tuple[tuple[str, str], ...]:
            return tuple((fold_accents(normalize(w)), name) for name, words in table.items() for w in words)

        return cls(pairs(data.get("terms", {})), pairs(data.get("topics", {})), int(data.get("max_words", 8)),
                   pairs(data.get("languages", {})))

    def find(self, text: str) -> tuple[str, str] | None:
        """("term", string key) or ("topic", topic id) for a short message, else None."""
        norm = fold_accents(normalize(text))
        if not norm or len(norm.split()) > self.max_words:
            return None
        for kind, (pattern, names) in (("term", self._terms), ("topic", self._topics)):
            found = pattern.search(norm)
            if found:
                return kind, names[found.group(0)]
        return None

    def language(self, text: str) -> str | None:
        """The locale of the first language word in a message that asks something, or None."""
        if self.find(text) is None:
            return None
        pattern, names = self._languages
        found = pattern.search(fold_accents(normalize(text)))
        return names[found.group(0)] if found else None

    @cached_property
    def _languages(self) -> tuple[re.Pattern[str], dict[str, str]]:
        return _word_pattern(self.languages), dict(self.languages)

    @cached_property
    def _terms(self) -> tuple[re.Pattern[str], dict[str, str]]:
        return _word_pattern(self.terms), dict(self.terms)

    @cached_property
    def _topics(self) -> tuple[re.Pattern[str], dict[str, str]]:
        return _word_pattern(self.topics), dict(self.topics)


def _word_pattern(pairs: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    """One pattern for all words, longest first. Latin-script words must stand alone among Latin
    letters ("什么是HER2" still finds her2); Cyrillic ones among letters; others match anywhere."""
    parts = []
    for word in sorted({w for w, _ in pairs}, key=len, reverse=True):
        if word.isascii():
            parts.append(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9+])")
        elif _BOUNDED.fullmatch(word):
            parts.append(rf"(?<!\w){re.escape(word)}(?![\w+])")
        else:
            parts.append(re.escape(word))
    return re.compile("|".join(parts)) if parts else re.compile(r"(?!x)x")


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: built once per app
class Lexicon:
    """Everything the engine needs to understand words, for the enabled locales."""

    locales: dict[str, LocaleWords]
    names: dict[str, str]  # enabled locale -> its own name ("ESPAÑOL")
    source: str = "en"
    red_flags: RedFlags = field(default_factory=lambda: RedFlags({}))  # every locale's terms
    ask: AskWords = field(default_factory=AskWords)  # terms and topic words (messages/ask.toml)

    @classmethod
    def build(cls, tables: dict[str, dict], names: dict[str, str], source: str = "en") -> "Lexicon":
        """tables: locale -> the parsed keywords.toml (kinds as lists, greetings, red_flags)."""
        locales = {}
        for locale, data in tables.items():
            fold = bool(data.get("fold_accents", False))
            conv = (lambda ws: frozenset(fold_accents(w) for w in _words(ws)) | _words(ws)) if fold else _words
            locales[locale] = LocaleWords(
                fold=fold,
                words={kind: conv(data.get(kind, ())) for kind in KINDS},
                greetings=conv(data.get("greetings", ())),
                affirm=conv(data.get("affirm", ())),
            )
        return cls(locales, dict(names), source, RedFlags(tables))

    def red_flag(self, text: str) -> Flag | None:
        """The red flag this message reports (emergency, crisis or urgent), or None."""
        return self.red_flags.detect(text)

    def affirms(self, text: str) -> bool:
        """A "yes" in any language (or an opt-in keyword of the person's or any locale)."""
        table = self._affirm_table
        norm = normalize(text).translate(_APOSTROPHES)
        return norm in table or fold_accents(norm) in table

    @cached_property
    def _affirm_table(self) -> frozenset[str]:
        words: set[str] = set()
        for locale in self.locales.values():
            words |= locale.affirm | locale.words.get(OPT_IN, frozenset())
        return frozenset(w.translate(_APOSTROPHES) for w in words)

    def classify(self, text: str, locale: str) -> str | None:
        """The keyword kind of a whole message for a person in `locale`, or None."""
        exact, folded = self._kind_tables(locale)
        norm = normalize(text)
        by_word = exact.get(norm)
        by_folded = folded.get(fold_accents(norm)) if folded else None
        if by_word is None or by_folded is None:
            return by_word or by_folded
        return by_word if _PRECEDENCE[by_word] <= _PRECEDENCE[by_folded] else by_folded

    def _kind_tables(self, locale: str) -> tuple[dict[str, str], dict[str, str]]:
        """(word -> kind, folded word -> kind) for a person in `locale`, built once per locale.

        The rules, in KINDS order (the first kind wins): English words and the locale's own words
        match as written, and folded where that locale folds (each word set already holds the
        folded forms where folding is allowed, so folded input only matches a word folding was
        allowed to produce); the words of EVERYONE kinds from every locale match for anyone.
        A message is then two lookups, not a walk over every word set (about 4.5 µs a call).
        """
        tables = self._classify_tables.get(locale)
        if tables is None:
            exact: dict[str, str] = {}
            folded: dict[str, str] = {}
            for kind in KINDS:
                sets = [self.locales.get(self.source), self.locales.get(locale)]
                if kind in EVERYONE:
                    sets += self.locales.values()
                for words in sets:
                    if words is None:
                        continue
                    for word in words.words.get(kind, ()):
                        exact.setdefault(word, kind)
                        if words.fold:
                            folded.setdefault(word, kind)
            tables = self._classify_tables[locale] = (exact, folded)
        return tables

    @cached_property
    def _classify_tables(self) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
        return {}

    def keyword_locale(self, text: str) -> str | None:
        """The locale whose own keyword or greeting this whole message is (not English).

        A word that is also an English keyword ("MENU", Spanish "MENÚ" folded) says nothing about
        the language: English keywords work for everyone, so it keeps the default language.
        """
        source = self.locales.get(self.source)
        if source is not None:
            forms = source.forms(text)
            first = source.forms(command_words(normalize(text))[0])
            if any(forms & ws for ws in source.words.values()) or first & source.words.get(TRIALS, frozenset()):
                return None
        for locale, words in self.locales.items():
            if locale == self.source or locale not in self.names:
                continue
            forms = words.forms(text)
            if forms & words.greetings or any(forms & ws for ws in words.words.values()):
                return locale
            if words.forms(command_words(normalize(text))[0]) & words.words.get(TRIALS, frozenset()):
                return locale  # "ENSAYOS 94110": a command word with arguments
        return None

    def trials_args(self, text: str, locale: str) -> tuple[str, ...] | None:
        """'TRIALS 94110 HR+' -> ('94110', 'hr+'); None unless the first word is a trials word.

        Unlike other keywords this one takes arguments, so only its first word must match.
        """
        first, *rest = command_words(normalize(text))
        folded = fold_accents(first)
        for words in (self.locales.get(self.source), self.locales.get(locale)):
            if words is not None:
                ws = words.words.get(TRIALS, frozenset())
                if first in ws or (words.fold and folded in ws):
                    return tuple(rest)
        return None

    def question_locale(self, text: str) -> str | None:
        """The enabled locale a question about a term or topic is written in ("que es HER2"), or None."""
        locale = self.ask.language(text)
        return locale if locale in self.names and locale != self.source else None

    def language_named(self, text: str) -> str | None:
        """The enabled locale whose own name this message is ("español", "ESPANOL"), or None."""
        return self._names_folded.get(fold_accents(normalize(text)))

    @cached_property
    def _names_folded(self) -> dict[str, str]:
        """Folded own name -> locale, first locale wins (built once, not per message). Folding
        alone suffices: two equal normalized names also fold equal."""
        table: dict[str, str] = {}
        for locale, name in self.names.items():
            table.setdefault(fold_accents(normalize(name)), locale)
        return table


# Words spaced and uninflected at their edges (Latin, Cyrillic): matched as whole words.
_BOUNDED = re.compile(r"[\sa-z0-9'\-\u00c0-\u024f\u0400-\u04ff]+")
