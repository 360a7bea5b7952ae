"""The one red-flag detector: SMS, voice speech, clinic check-ins and the outage spool all ask it.

`RedFlags.detect(text)` says whether a message reports an emergency, a crisis or an urgent
problem (medical.md section 6), and which words said so. It reads text as people write it:

- case, accents, punctuation and apostrophes never matter ("CAN'T BREATHE!" == "cant breathe");
  runs of three or more equal letters count as two ("cant breeeathe");
- a term's words may come in any order with a few words between them ("pain in my chest" for
  "chest pain"); `word*` is any word starting with it ("breath*");
- a word of six or more letters also matches one typo away (nine or more: two), keeping its first
  letter (rapidfuzz's optimal-string-alignment distance); a five-letter word one inserted or
  swapped letter away ("feaver"); and, in languages with a Snowball stemmer, any word with the
  same stem (PyStemmer: "pains", "dolores", "douleurs");
- scripts written without spaces between words (Chinese, Japanese), and Korean and Arabic, whose
  words carry particles and prefixes, match each part of a term anywhere in the text;
- a temperature is read from numbers: 38 C / 100.4 F or more with a unit or a temperature word
  is a fever ("fever 101", "temp 38.5", "38,5°C"), and a stated lower reading is not;
- a negation just before a term's words ("no fever", "sin dolor de pecho") cancels it, and
  phrases that put a sign in the past ("a fever last year") or make it a question ("what if I
  get a fever") cancel the classes that can be history or a question (never a crisis).

Every locale's terms are checked for every message: a Spanish speaker may not have chosen Spanish
yet. The words are data (messages/keywords.toml, locales/*/keywords.toml, [red_flags] table);
recall and false positives are measured per locale by tests/engine/test_redflag_corpus.py.
Erring towards a safety reply costs one extra text; a miss could cost a life.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

EMERGENCY = "emergency"
CRISIS = "crisis"
URGENT = "urgent"
CLASSES = (EMERGENCY, CRISIS, URGENT)  # precedence: the first class found in this order wins
# What the `past` and `hypothetical` phrases may cancel: a crisis is never put aside.
_PAST_CANCELS = frozenset({EMERGENCY, URGENT})
_HYPOTHETICAL_CANCELS = frozenset({URGENT})

FEVER_C = 38.0  # medical.md section 6: 100.4 F (38 C) or higher
FEVER_F = 100.4

# Locales (keywords.toml folder names and codes) with a Snowball stemmer.
STEMMERS = {"en": "english", "es": "spanish", "fr": "french", "pt_BR": "portuguese", "pt-BR": "portuguese",
            "ru": "russian"}

SPAN_EXTRA_WORDS = 7  # a term's words may spread over its own length plus this many tokens (one clause)
SPAN_EXTRA_CHARS = 6  # the same for character-matched parts
NEGATION_WORDS = 3  # a negation this many tokens before a term's word cancels it
NEGATION_CHARS = 4  # ... or this many characters, for character-matched parts
# Words for "now" (folded): after a past phrase they bring the message back to the present.
_NOW = frozenset({"now", "today", "tonight", "currently", "ahora", "hoy", "agora", "hoje", "maintenant",
                  "aujourdhui", "kounye", "jodi", "ngayon", "sekarang", "сейчас", "теперь", "сегодня",
                  "hien", "nay", "bay", "gio", "الان", "اليوم"})
_NOW_CHARS = ("现在", "現在", "今天", "지금", "오늘")

_CHARS_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u1100-\u11ff\u3040-\u30ff\u3130-\u318f"
                           r"\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u2018`\u00b4\u02bc"), None)
_LETTER_MAP = str.maketrans({"đ": "d", "ð": "d", "ł": "l", "ø": "o", "ё": "е", "ß": "ss", "ı": "i",
                             "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None,
                             "٫": ".", "،": ","})
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TOKEN = re.compile(r"\w+")
_TOKEN_OR_BREAK = re.compile(r"\w+|[,.!?;:\n\u3002\uff01\uff1f\uff0c\uff1b\u060c\u061b\u061f]")
_SCRIPT_RUNS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ELISION = re.compile(r"(?<!\w)([cdjlmnst]|qu)['\u2019](?=\w)")
# "not ok", "no, ...": a negation followed by these says nothing about a red flag.
_NOT_A_NEGATION_BEFORE = frozenset({"ok", "okay", "well", "good", "sure", "fine", "bien", "muy"})
_REPEATS = re.compile(r"(\w)\1{2,}")
# A reading: 2-3 digits, maybe a decimal (point or comma), maybe a unit right after it.
_READING = re.compile(r"(?<![\d.,])(\d{2,3})(?:[.,](\d{1,2})|度(\d))?(?![\d])\s*"
                      r"(°\s*[cf]?|º\s*[cf]?|℃|℉|度|도|độ|درجه|(?:degrees?|deg|grados?|graus?|degres?|градус\w*|do|f|c)"
                      r"(?![^\W\d_]))?")
_LATIN_LETTER = re.compile(r"[a-z]")
_IN_WORD_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")  # Arabic, Hangul


def fold(text: str) -> str:
    """Casefolded, accents and apostrophes gone, look-alike letters merged: for matching only.
    French elisions become words of their own ("m'évanouir" -> "m evanouir")."""
    text = _ELISION.sub(r"\1 ", unicodedata.normalize("NFKC", text or "").casefold())
    text = text.translate(_APOSTROPHES).translate(_ARABIC_DIGITS)
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))
    return unicodedata.normalize("NFC", text).translate(_LETTER_MAP)


def tokens_of(folded: str) -> list[str]:
    return [_REPEATS.sub(r"\1\1", t) for t in _TOKEN.findall(folded)]


def clauses_of(folded: str) -> tuple[list[str], list[int]]:
    """The words, and for each the number of its clause: a comma or a full stop ends a clause, and
    a negation never reaches across one ("no, i have chest pain")."""
    words, clauses, clause = [], [], 0
    for match in _TOKEN_OR_BREAK.finditer(folded):
        piece = match.group(0)
        if _TOKEN.fullmatch(piece):
            for run in _SCRIPT_RUNS.findall(piece):  # "我妈妈chest" is two words: 我妈妈, chest
                words.append(_REPEATS.sub(r"\1\1", run))
                clauses.append(clause)
        else:
            clause += 1
    return words, clauses


def marked(text: str) -> str:
    """Casefolded with accents kept (for locales whose marks change meaning)."""
    text = _ELISION.sub(r"\1 ", unicodedata.normalize("NFKC", text or "").casefold()).translate(_APOSTROPHES)
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Cf"))


@dataclass(frozen=True)
class Flag:
    """A red flag found in a message."""

    kind: str  # EMERGENCY | CRISIS | URGENT
    term: str  # the term (or "temperature") that matched, as written in the data
    words: str  # the person's own words that matched, for the clinic's task

    def __str__(self) -> str:
        return self.term


@dataclass(frozen=True)
class _Term:
    kind: str
    text: str
    parts: tuple[str, ...]
    chars: bool  # parts match as substrings of the spaceless text
    locale: str
    # Where marks change meaning (Vietnamese "sốt" fever, "sót" missed): the parts with their
    # marks. A word typed with marks must match these; one typed without matches `parts`.
    marked: tuple[str, ...] | None = None
    ordered: bool = False  # the words must come in the term's order (Vietnamese: "đau tim", not "tìm ... đâu")


@dataclass(frozen=True)
class _Match:
    words: str  # the person's words that matched
    where: frozenset  # ("w", token index) or ("c", character index) of each matched part
    negated: bool = False


@dataclass(frozen=True)
class _Words:
    tokens: list[str]  # folded words
    clauses: list[int]  # the clause of each word
    raw: list[str] | None  # the same words with their marks, where they line up


@dataclass
class _Locale:
    """One locale's [red_flags] table, normalized."""

    terms: dict[str, list[str]] = field(default_factory=dict)
    negations: list[str] = field(default_factory=list)
    negations_after: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    hypothetical: list[str] = field(default_factory=list)
    temperature: list[str] = field(default_factory=list)
    near_misses: list[str] = field(default_factory=list)
    ordered: bool = False


def _phrase(text: str) -> str:
    return " ".join(tokens_of(fold(text)))


class RedFlags:
    """Built once per app from every locale's [red_flags] table; `detect` is pure and cached."""

    def __init__(self, tables: dict[str, dict]):
        self.terms: list[_Term] = []
        self._exact: dict[str, set[int]] = {}  # word -> indexes of part keys
        self._prefix: dict[str, set[int]] = {}  # prefix (without *) -> part keys
        self._stems: dict[str, dict[str, set[int]]] = {}  # stemmer -> stem -> part keys
        self._part_keys: list[tuple[int, int]] = []  # part key -> (term index, part index)
        self._first_key: list[int] = []  # term index -> its first part's key (a term's keys follow)
        self._fuzzy: dict[str, list[str]] = {}  # first letter -> words that may match a typo
        self._fuzzy_keys: dict[str, set[int]] = {}  # such a word -> part keys
        self._fuzzy_prefix: dict[str, list[str]] = {}  # first letter -> prefixes of 5+ letters
        self._fuzzy_prefix_keys: dict[str, set[int]] = {}  # such a prefix -> part keys
        self._char_parts: dict[str, set[int]] = {}  # substring -> part keys (character-matched terms)
        self._stemmers = {name: Stemmer.Stemmer(name) for name in sorted(set(STEMMERS.values()))}
        near_misses = set()
        # A term's own locale's negations only: Portuguese "no" is "in the".
        self._negations: dict[str, frozenset[str]] = {}
        self._negations_after: dict[str, frozenset[str]] = {}
        self._char_negations: dict[str, tuple[str, ...]] = {}
        self._char_negations_after: dict[str, tuple[str, ...]] = {}
        past: list[str] = []
        hypothetical: list[str] = []
        self._temperature: set[str] = set()
        for locale, table in tables.items():
            data = _locale_table(table)
            before = frozenset(_phrase(w) for w in data.negations if w.strip())
            after = frozenset(_phrase(w) for w in data.negations_after if w.strip())
            self._negations[locale], self._negations_after[locale] = before, after
            self._char_negations[locale] = tuple(n.replace(" ", "") for n in before if _CHARS_SCRIPT.search(n))
            self._char_negations_after[locale] = tuple(n.replace(" ", "") for n in after if _CHARS_SCRIPT.search(n))
            near_misses |= {_phrase(w) for w in data.near_misses if w.strip()}
            past += [_phrase(p) for p in data.past if p.strip()]
            hypothetical += [_phrase(p) for p in data.hypothetical if p.strip()]
            self._temperature |= {_phrase(w) for w in data.temperature if w.strip()}
            keep_marks = table.get("fold_accents", True) is False
            for kind in CLASSES:
                for raw in data.terms.get(kind, ()):
                    self._add_term(kind, raw, locale, keep_marks, data.ordered)
        self._char_parts_by_first: dict[str, list[tuple[str, set[int], bool]]] = {}
        for part, keys in self._char_parts.items():
            self._char_parts_by_first.setdefault(part[0], []).append((part, keys, bool(_IN_WORD_SCRIPT.search(part))))
        self._past, self._hypothetical = _Phrases(past), _Phrases(hypothetical)
        self._temperature_phrases = _Phrases(self._temperature)
        self._near_misses = frozenset(m for m in near_misses if " " not in m)
        # Phrases whose words are no red flag there ("cuoi muon chet": dying of laughter).
        self._near_miss_phrases = tuple(m.split(" ") for m in near_misses
                                        if " " in m and not _CHARS_SCRIPT.search(m))
        self._char_near_misses = tuple(m.replace(" ", "") for m in near_misses if _CHARS_SCRIPT.search(m))
        self.detect = lru_cache(maxsize=4096)(self._detect)
        self._token_keys = lru_cache(maxsize=65536)(self._keys_of_token)

    # --- building ----------------------------------------------------------------------------

    def _add_term(self, kind: str, raw: str, locale: str, keep_marks: bool = False, ordered: bool = False) -> None:
        folded = fold(raw)
        chars = bool(_CHARS_SCRIPT.search(folded))
        with_marks = None
        if chars:
            parts = tuple(p for p in (_REPEATS.sub(r"\1\1", "".join(_TOKEN.findall(w))) for w in folded.split()) if p)
        else:
            parts = tuple(w + ("*" if raw_w.endswith("*") else "")
                          for raw_w in folded.split() for w in tokens_of(raw_w))
            if keep_marks:
                with_marks = tuple(w + ("*" if raw_w.endswith("*") else "")
                                   for raw_w in marked(raw).split() for w in _TOKEN.findall(raw_w))
                if len(with_marks) != len(parts) or with_marks == parts:
                    with_marks = None
        if not parts:
            return
        term_index = len(self.terms)
        self.terms.append(_Term(kind, raw, parts, chars, locale, with_marks, ordered))
        self._first_key.append(len(self._part_keys))
        stemmer = STEMMERS.get(locale)
        for part_index, part in enumerate(parts):
            key = len(self._part_keys)
            self._part_keys.append((term_index, part_index))
            if chars:
                self._char_parts.setdefault(part, set()).add(key)
            elif part.endswith("*"):
                self._prefix.setdefault(part[:-1], set()).add(key)
                if len(part) > 4:  # "breath*" also takes "breeathing", "pain*" "pians"
                    if part[:-1] not in self._fuzzy_prefix_keys:
                        self._fuzzy_prefix.setdefault(part[0], []).append(part[:-1])
                    self._fuzzy_prefix_keys.setdefault(part[:-1], set()).add(key)
            else:
                self._exact.setdefault(part, set()).add(key)
                stem = self._stemmers[stemmer].stemWord(part) if stemmer else ""
                if len(stem) >= 5:  # shorter stems meet ordinary words ("tuer" -> "tu", "matar" -> "mat")
                    self._stems.setdefault(stemmer, {}).setdefault(stem, set()).add(key)
                if len(part) >= 4 and not part.isdigit():
                    if part not in self._fuzzy_keys:
                        self._fuzzy.setdefault(part[0], []).append(part)
                    self._fuzzy_keys.setdefault(part, set()).add(key)

    # --- matching ----------------------------------------------------------------------------

    def _detect(self, text: str) -> Flag | None:
        folded = fold(text)
        tokens, clauses = clauses_of(folded)
        if not tokens:
            return None
        compact = "".join(tokens)
        found: dict[str, Flag] = {}
        reading = self._reading(folded, tokens)
        if reading is not None and reading[0]:
            found[URGENT] = Flag(URGENT, "temperature", reading[1])
        positions = self._word_positions(tokens)
        raw_tokens = clauses_of(marked(text))[0]
        raw_tokens = raw_tokens if len(raw_tokens) == len(tokens) else None
        bounds = [0]
        for token in tokens:
            bounds.append(bounds[-1] + len(token))
        char_positions = self._char_positions(compact, bounds) if _CHARS_SCRIPT.search(compact) else {}
        touched = {self._part_keys[k][0] for k in (*positions, *char_positions)}
        # The clauses that speak of the past or ask "what if" (None: a phrase of a script without
        # spaces, which cancels in the whole message).
        past = self._past.spans(tokens, compact) if touched else set()
        asked = self._hypothetical.spans(tokens, compact) if touched else set()
        below_fever = reading is not None and not reading[0]
        words = _Words(tokens, clauses, raw_tokens)
        matches, negated = [], []
        for term_index in sorted(touched):
            term = self.terms[term_index]
            if below_fever and term.kind == URGENT and any(p.rstrip("*") in self._temperature for p in term.parts):
                continue  # "fever 99.5", "a temp of 99": the number says it is not a fever
            match = (self._match_chars(term_index, char_positions, compact) if term.chars
                     else self._match_words(term_index, positions, words))
            if match is not None and (term.kind in _PAST_CANCELS and past or term.kind in _HYPOTHETICAL_CANCELS and asked):
                hit = (past if term.kind in _PAST_CANCELS else set()) | (asked if term.kind in _HYPOTHETICAL_CANCELS else set())
                if self._put_aside(match, hit, words, bounds):
                    continue
            if match is not None:
                matches.append((term, match))
                if match.negated:
                    negated.append(match.where)
        for term, match in matches:
            # A negation said in any language wins over the same words read in another one
            # ("no tengo fiebre" also reads as Portuguese "febre", whose negations differ).
            if term.kind not in found and not match.negated and not (
                    term.kind != CRISIS and any(n.issuperset(match.where) for n in negated)):
                found[term.kind] = Flag(term.kind, term.text, match.words)
        for kind in CLASSES:
            if kind in found:
                return found[kind]
        return None

    def _put_aside(self, match: "_Match", hit: set, words: "_Words", bounds: list[int]) -> bool:
        """Whether a past or what-if phrase puts this match aside: said in the same clause, before
        it, with no word for "now" between ("a fever last year"; not "surgery last year, now
        chest pain", nor "surgery years ago and now I can't breathe")."""
        token_of = _token_index(bounds)
        at = sorted({i if k == "w" else token_of(i) for k, i in match.where})
        for kind, lo, hi in hit:
            first, last = (lo, hi) if kind == "w" else (token_of(lo), token_of(hi))
            if words.clauses[first] not in {words.clauses[i] for i in at}:
                continue
            between = words.tokens[min(last, at[0]) + 1:max(first, at[-1])]
            if not any(t in _NOW for t in between) and not any(n in "".join(between) for n in _NOW_CHARS):
                return True
        return False

    def _word_positions(self, tokens: list[str]) -> dict[int, list[int]]:
        """part key -> the token positions it matches."""
        hits: dict[int, list[int]] = {}
        for i, token in enumerate(tokens):
            for key in self._token_keys(token):
                hits.setdefault(key, []).append(i)
        covered = set()
        for phrase in self._near_miss_phrases:
            n = len(phrase)
            for i in range(len(tokens) - n + 1):
                if tokens[i:i + n] == phrase:
                    covered.update(range(i, i + n))
        if covered:
            hits = {key: kept for key, found in hits.items() if (kept := [i for i in found if i not in covered])}
        return hits

    def _keys_of_token(self, token: str) -> tuple[int, ...]:
        """The part keys one word matches: exactly, by prefix, by stem or one typo away. Cached per
        word (self._token_keys): most words of most texts were seen before."""
        keys: set[int] = set(self._exact.get(token, ()))
        if token in self._near_misses:
            return tuple(keys)  # a real word one typo or one stem away from a term word
        for length in range(2, len(token) + 1):
            keys.update(self._prefix.get(token[:length], ()))
        for name, table in self._stems.items():
            keys.update(table.get(self._stemmers[name].stemWord(token), ()))
        if len(token) >= 4 and not token.isdigit():
            choices = self._fuzzy.get(token[0])
            if choices:
                for word, distance, _ in process.extract(token, choices, scorer=OSA.distance,
                                                         score_cutoff=2, limit=None):
                    if distance and _typo_of(token, word, distance):
                        keys.update(self._fuzzy_keys[word])
            for prefix in self._fuzzy_prefix.get(token[0], ()):
                if not token.startswith(prefix) and _typo_prefix(token, prefix):
                    keys.update(self._fuzzy_prefix_keys[prefix])
        return tuple(sorted(keys))

    def _char_positions(self, compact: str, bounds: list[int]) -> dict[int, list[int]]:
        """part key -> where it starts in the spaceless text, unless it overlaps a near miss there
        ("想死你了": missing someone, not wanting to die). Korean and Arabic parts must lie inside one
        word (their words carry particles and prefixes, but "العصر عندي" holds no "صرع")."""
        covered: set[int] = set()
        for miss in self._char_near_misses:
            start = compact.find(miss)
            while start != -1:
                covered.update(range(start, start + len(miss)))
                start = compact.find(miss, start + 1)
        word_of = [0] * len(compact)
        for w, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            word_of[lo:hi] = [w] * (hi - lo)
        hits: dict[int, list[int]] = {}
        by_first = self._char_parts_by_first
        for start, char in enumerate(compact):
            for part, keys, in_word in by_first.get(char, ()):
                end = start + len(part)
                if not compact.startswith(part, start) or not covered.isdisjoint(range(start, end)):
                    continue
                if in_word and word_of[start] != word_of[end - 1]:
                    continue
                for key in keys:
                    hits.setdefault(key, []).append(start)
        return hits

    def _match_words(self, term_index: int, positions: dict[int, list[int]], words: "_Words") -> "_Match | None":
        term = self.terms[term_index]
        tokens, raw_tokens = words.tokens, words.raw
        options = []
        for part_index in range(len(term.parts)):
            key = self._key(term_index, part_index)
            found = positions.get(key)
            if found and term.marked and raw_tokens:
                want = term.marked[part_index]
                found = [i for i in found if raw_tokens[i] == tokens[i] or raw_tokens[i] == want
                         or (want.endswith("*") and raw_tokens[i].startswith(want[:-1]))]
            if not found:
                return None
            options.append(found)
        limit = len(term.parts) + SPAN_EXTRA_WORDS
        negated = None
        for combo in _bounded(product(*options)):
            if len(set(combo)) != len(combo) or max(combo) - min(combo) >= limit:
                continue
            if len({words.clauses[i] for i in combo}) > 1:
                continue  # "chest port placed, no pain": a term's words share one clause
            if term.ordered and list(combo) != sorted(combo):
                continue
            span = " ".join(tokens[min(combo):max(combo) + 1])
            if term.kind != CRISIS and self._negated_words(term.locale, words, combo):
                negated = negated or _Match(span, frozenset(("w", i) for i in combo), True)
                continue
            return _Match(span, frozenset(("w", i) for i in combo))
        return negated

    def _negated_words(self, locale: str, words: "_Words", combo: tuple[int, ...]) -> bool:
        """A negation of the term's own language just before one of its words, in its clause
        ("no fever", "sin dolor de pecho"), or just after where the language puts it there."""
        tokens, clauses = words.tokens, words.clauses
        before, after = self._negations.get(locale, ()), self._negations_after.get(locale, ())
        used = set(combo)
        for i in combo:
            for j in range(max(0, i - NEGATION_WORDS), i):
                if j in used or clauses[j] != clauses[i]:
                    continue
                nxt = tokens[j + 1] if j + 1 < len(tokens) else ""
                if tokens[j] in before and nxt not in _NOT_A_NEGATION_BEFORE:
                    return True
                if j + 1 < i and j + 1 not in used and f"{tokens[j]} {nxt}" in before:
                    return True
            for j in range(i + 1, min(len(tokens), i + 3)):
                if j not in used and clauses[j] == clauses[i] and tokens[j] in after:
                    return True
        return False

    def _match_chars(self, term_index: int, positions: dict[int, list[int]], compact: str) -> "_Match | None":
        term = self.terms[term_index]
        options = []
        for part_index, part in enumerate(term.parts):
            found = positions.get(self._key(term_index, part_index))
            if not found:
                return None
            options.append([(s, s + len(part)) for s in found])
        limit = sum(len(p) for p in term.parts) + SPAN_EXTRA_CHARS
        negated = None
        for combo in _bounded(product(*options)):
            starts = sorted(combo)
            if any(a[1] > b[0] for a, b in zip(starts, starts[1:])):
                continue  # parts overlap
            lo, hi = starts[0][0], starts[-1][1]
            if hi - lo > limit:
                continue
            where = frozenset(("c", i) for a, b in starts for i in range(a, b))
            if term.kind != CRISIS and self._negated_chars(term.locale, compact, starts):
                negated = negated or _Match(compact[lo:hi], where, True)
                continue
            return _Match(compact[lo:hi], where)
        return negated

    def _negated_chars(self, locale: str, compact: str, spans: list[tuple[int, int]]) -> bool:
        covered = set()
        for lo, hi in spans:
            covered.update(range(lo, hi))
        for lo, hi in spans:
            window = range(max(0, lo - NEGATION_CHARS), lo)
            for neg in self._char_negations.get(locale, ()):
                for s in window:
                    if compact.startswith(neg, s) and not covered.intersection(range(s, s + len(neg))):
                        return True
            for neg in self._char_negations_after.get(locale, ()):
                for s in range(hi, min(len(compact), hi + NEGATION_CHARS)):
                    if compact.startswith(neg, s) and not covered.intersection(range(s, s + len(neg))):
                        return True
        return False

    def _key(self, term_index: int, part_index: int) -> int:
        return self._first_key[term_index] + part_index

    def _reading(self, folded: str, tokens: list[str]) -> tuple[bool, str] | None:
        """(is a fever, the words) for the highest temperature stated in the message, else None.

        A number counts only with a unit right after it or a temperature word in the message:
        "fever 101", "temp 38.5", "38,5°C", "102 degrees"; "I am 38" is not a reading."""
        has_word = bool(self._temperature_phrases.spans(tokens, "".join(tokens)))
        best = None
        for match in _READING.finditer(folded):
            whole, decimal, cjk_decimal, unit = match.groups()
            decimal = decimal or cjk_decimal  # "38度5" is 38.5
            number_end = max(match.end(g) for g in (1, 2, 3) if match.group(g))
            if unit is None and _LATIN_LETTER.match(folded, number_end):
                continue  # "38kg", "100mg"
            if unit in ("f", "c", "do", None) and not has_word and not (decimal and unit in ("f", "c")):
                continue  # "5 c", "do": too common alone; "38.5 c" is clear; a bare number needs a word
            value = float(f"{whole}.{decimal or 0}")
            if unit in ("℉", "f") or (unit or "").endswith("f") or 95 <= value <= 110:
                fever = value >= FEVER_F
            elif 35 <= value <= 43:
                fever = value >= FEVER_C
            else:
                continue
            if best is None or (fever and not best[0]):
                best = (fever, match.group(0).strip())
        return best


class _Phrases:
    """Phrases to look for: word phrases by their first word, and spaceless-script phrases."""

    def __init__(self, phrases):
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        self.chars: list[str] = []
        for phrase in phrases:
            if _CHARS_SCRIPT.search(phrase):
                self.chars.append(phrase.replace(" ", ""))
            elif phrase:
                words = tuple(phrase.split(" "))
                self.by_first.setdefault(words[0], []).append(words)

    def spans(self, tokens: list[str], compact: str) -> set:
        """Where each phrase is said: ("w", first word, last word), or for a script without spaces
        ("c", first character, last character) of the spaceless text."""
        found: set = set()
        for i, token in enumerate(tokens):
            for words in self.by_first.get(token, ()):
                if tuple(tokens[i:i + len(words)]) == words:
                    found.add(("w", i, i + len(words) - 1))  # first and last word
        if self.chars and _CHARS_SCRIPT.search(compact):
            for phrase in self.chars:
                start = compact.find(phrase)
                while start != -1:
                    found.add(("c", start, start + len(phrase) - 1))  # first and last character
                    start = compact.find(phrase, start + 1)
        return found


def _token_index(bounds: list[int]):
    """Character index of the spaceless text -> index of the word it is in."""
    def token_of(i: int) -> int:
        for t in range(len(bounds) - 1):
            if bounds[t] <= i < bounds[t + 1]:
                return t
        return max(0, len(bounds) - 2)
    return token_of


def _typo_of(token: str, word: str, distance: int) -> bool:
    """One typo for words of 6+ letters (two for 9+), first letter kept; a 5-letter word only one
    inserted or swapped letter away ("feaver", "fevre"), never a substitution ("fewer"); a
    4-letter word only two swapped letters ("pian")."""
    if distance == 0 or token[0] != word[0]:
        return distance == 0
    if len(word) >= 9:
        return distance <= 2
    if len(word) >= 6:
        return distance <= 1
    swapped = len(token) == len(word) and sorted(token) == sorted(word)
    if len(word) == 5:  # an inserted, a deleted ("fevr", "chst") or two swapped letters; never a substitution
        return distance == 1 and (abs(len(token) - len(word)) == 1 or swapped)
    return distance == 1 and swapped


def _typo_prefix(token: str, prefix: str) -> bool:
    """The token starts with the prefix but for one typo (as _typo_of counts them)."""
    n = len(prefix)
    if len(token) < n:
        return False  # "груди" is not "грудин*" with a letter missing: it is another word
    # One typo at most, whatever the length: a prefix has no ending to tell "automutil*" from "automatic".
    return any(_typo_of(token[:m], prefix, distance) for m in (n - 1, n, n + 1)
               if len(token) >= m and (distance := OSA.distance(token[:m], prefix)) <= 1)


def _bounded(combos, limit: int = 256):
    """At most `limit` combinations: a text repeating one word 50 times must stay cheap."""
    for n, combo in enumerate(combos):
        if n >= limit:
            return
        yield combo


def _locale_table(table: dict) -> _Locale:
    data = table.get("red_flags", {})
    if isinstance(data, list):  # the old flat list: every term treated as urgent
        return _Locale(terms={URGENT: list(data)})
    return _Locale(
        terms={kind: list(data.get(kind, ())) for kind in CLASSES},
        negations=list(data.get("negations", ())),
        negations_after=list(data.get("negations_after", ())),
        past=list(data.get("past", ())),
        hypothetical=list(data.get("hypothetical", ())),
        temperature=list(data.get("temperature", ())),
        near_misses=list(data.get("near_misses", ())),
        ordered=bool(data.get("ordered", False)),
    )
