"""The SMS texts for a trials search, from catalog strings, each within the segment budget.

A results page lists up to three studies. When a locale's frame leaves too little room (UCS-2
languages get 201 characters in three segments), titles are shortened step by step, then dropped,
and only then does a page list fewer studies. Pages are recomputed from the first, so TRIALS MORE
always continues exactly where the last text stopped, in every language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..content.catalog import Catalog
from ..content.locales import SOURCE_LOCALE, isolate_ltr
from ..content.segments import GSM7_BASIC, GSM7_EXTENSION, count
from .search import Hit

BUDGET = 3  # segments per text (SPEC.md "Content")
PER_PAGE = 3
TITLE_STEPS = (90, 70, 55, 42, 30, 0)  # characters of title to try, longest first
STALE_DAYS = 7
_ASCII = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
          "\u2026": "...", "\u2265": ">=", "\u2264": "<=", "\u00b1": "+/-", "\u00d7": "x"}


@dataclass(frozen=True)
class Search:
    zip: str
    subtype: str | None
    radius: int
    age_days: int | None  # days since the last good sync; None before any

    @property
    def stale(self) -> bool:
        return self.age_days is not None and self.age_days > STALE_DAYS


def gsm_safe(text: str) -> str:
    """Registry text in GSM-7 where it can be: one curly quote would halve an English text's room."""
    out = []
    for char in text:
        char = _ASCII.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in char):
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFD", char) if unicodedata.category(c) != "Mn")
        out.append(base if base and all(c in GSM7_BASIC for c in base) else " ")
    return " ".join("".join(out).split())


def shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 3)].rsplit(" ", 1)[0].rstrip(" ,;:-(")
    return f"{cut}..." if cut else ""


def phase_label(phases: str) -> str:
    """'PHASE2,PHASE3' -> '2/3'; EARLY_PHASE1 counts as 1 (a first safety study); NA -> ''."""
    numbers = []
    for phase in phases.split(","):
        digit = phase.strip().upper().removeprefix("EARLY_").removeprefix("PHASE")
        if digit.isdigit() and digit not in numbers:
            numbers.append(digit)
    return "/".join(sorted(numbers))


def distance_label(miles: float) -> str:
    return "<1" if miles < 1 else str(round(miles))


def fits(text: str) -> bool:
    return count(text).segments <= BUDGET


_SENTENCE_END = re.compile(r"(?<=[.?!\u3002\uff1f\uff01\u061f])\s*")


def split_to_fit(text: str) -> list[str]:
    """A text over the budget, cut between sentences into texts that fit (a long translation
    costs one more text instead of breaking the budget)."""
    if fits(text):
        return [text]
    parts: list[str] = []
    for sentence in (p for p in _SENTENCE_END.split(text) if p):
        joined = f"{parts[-1]} {sentence}" if parts else sentence
        if parts and fits(joined):
            parts[-1] = joined
        else:
            while not fits(sentence):  # one sentence over 3 segments: cut it (never seen in practice)
                cut = len(sentence) // 2
                parts.append(sentence[:cut])
                sentence = sentence[cut:]
            parts.append(sentence)
    return parts


def pack(pieces: list[str]) -> list[str]:
    """Join pieces into as few texts as fit the budget."""
    texts: list[str] = []
    for piece in (part for whole in pieces for part in split_to_fit(whole)):
        if texts and fits(f"{texts[-1]}\n{piece}"):
            texts[-1] = f"{texts[-1]}\n{piece}"
        else:
            texts.append(piece)
    return texts


class Composer:
    def __init__(self, catalog: Catalog):
        self.cat = catalog

    def s(self, locale: str, name: str, **params) -> str:
        return self.cat.string(locale, name, **{k: str(v) for k, v in params.items()})

    def results(self, locale: str, search: Search, hits: list[Hit], page: int) -> list[str]:
        """One text: page `page` of the hits (hits non-empty)."""
        offset = 0
        for number in range(page + 1):
            if offset >= len(hits):
                break
            text, shown = self._fit(locale, search, hits, offset)
            if number == page:
                return [text]
            offset += shown
        return [self.s(locale, "trials_no_more", zip=search.zip)]

    def _fit(self, locale: str, search: Search, hits: list[Hit], offset: int) -> tuple[str, int]:
        remaining = len(hits) - offset
        for shown in range(min(PER_PAGE, remaining), 0, -1):
            for title_room in TITLE_STEPS:
                text = self._page(locale, search, hits[offset:offset + shown], title_room,
                                  more=offset + shown < len(hits))
                if fits(text):
                    return text, shown
        # Last resort for a long UCS-2 frame: one study, without the closing advice and "opens soon".
        more = offset + 1 < len(hits)
        return self._page(locale, search, hits[offset:offset + 1], 0, more=more, compact=True), 1

    def _page(self, locale: str, search: Search, hits: list[Hit], title_room: int, more: bool,
              compact: bool = False) -> str:
        s = self.s
        if search.subtype:
            lines = [s(locale, "trials_header_subtype", subtype=isolate_ltr(locale, search.subtype), zip=search.zip,
                       radius=search.radius)]
        else:
            lines = [s(locale, "trials_header", zip=search.zip, radius=search.radius)]
        if search.stale:
            lines.append(s(locale, "trials_age", days=search.age_days))
        if title_room and locale != SOURCE_LOCALE:
            lines.append(s(locale, "trials_titles_english"))
        for hit in hits:
            first = hit.nct_id
            phase = phase_label(hit.phases)
            if phase:
                first += " " + s(locale, "trials_phase", phase=phase)
            title = shorten(gsm_safe(hit.title), title_room) if title_room else ""
            if title:
                first += ": " + isolate_ltr(locale, title)
            second = s(locale, "trials_where", city=gsm_safe(hit.city) or "?", miles=distance_label(hit.miles))
            if hit.status == "NOT_YET_RECRUITING" and not compact:
                second += ". " + s(locale, "trials_soon")
            if hit.phone:
                second += ". " + s(locale, "trials_call", phone=isolate_ltr(locale, gsm_safe(hit.phone)))
            lines.append(f"{first}\n{second}")
        if more or not compact:
            lines.append(s(locale, "trials_more" if more else "trials_last"))
        return "\n".join(lines)

    def no_zip(self, locale: str) -> list[str]:
        return pack([self.s(locale, "trials_how"), *self.explain(locale)])

    def unknown_zip(self, locale: str, zip_code: str) -> list[str]:
        return pack([self.s(locale, "trials_unknown_zip", zip=zip_code), *self.explain(locale)])

    def none_found(self, locale: str, search: Search) -> list[str]:
        if search.age_days is None:  # never synced: "none found" would be untrue
            return pack([self.s(locale, "trials_unavailable"), *self.explain(locale)])
        if search.subtype:
            first = self.s(locale, "trials_none_subtype", subtype=isolate_ltr(locale, search.subtype), zip=search.zip,
                           radius=search.radius)
        else:
            first = self.s(locale, "trials_none", zip=search.zip, radius=search.radius)
        if search.stale:
            first += " " + self.s(locale, "trials_age", days=search.age_days)
        return pack([first, *self.explain(locale)])

    def explain(self, locale: str) -> list[str]:
        return [self.s(locale, "trials_explain"), self.s(locale, "trials_nci")]
