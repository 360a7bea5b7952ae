"""The SMS texts for a trials search, from catalog strings, each within the segment budget.

Each study reads as a patient can act on it (issue 19):
    INAVO122: Inavolisib + Phesgo (Phase 3, NCT05894239)
    Name of the Cancer Center, Houston, about 5 mi. Call 888-662-6728
The study's name is the registry's acronym and the treatments it tests, else a short name made
from the title (boilerplate such as "A Study to Evaluate the Efficacy and Safety of" removed); then
the site's name and city with an honestly rounded distance; then that site's phone, a US study
contact, or NCI's free line (1-800-4-CANCER) when there is neither.

A results page lists up to three studies. When a locale's frame leaves too little room (UCS-2
languages get 201 characters in three segments), names and facilities are shortened step by step,
then dropped, and only then does a page list fewer studies. Pages are recomputed from the first, so
TRIALS MORE always continues exactly where the last text stopped, in every language.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..content.catalog import Catalog
from ..content.locales import SOURCE_LOCALE, isolate_ltr
from ..content.segments import GSM7_BASIC, GSM7_EXTENSION, count
from .search import Hit, phase_numbers, rounded_miles

BUDGET = 3  # segments per text (SPEC.md "Content")
PER_PAGE = 3
# (characters of study name, characters of facility name) to try, longest first.
# The facility is where the patient goes: it keeps more room than the study's name.
TITLE_STEPS = ((70, 50), (55, 45), (42, 42), (32, 38), (24, 34), (24, 26), (24, 0), (0, 26), (0, 0))
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
    return "/".join(str(n) for n in phase_numbers(phases))


_BOILERPLATE = re.compile(
    r"^(?:(?:a|an|the)\s+)?(?:(?:phase\s*[0-9ivx/]+[ab]?|first[\s-]in[\s-]human|randomi[sz]ed|open[\s-]label|"
    r"double[\s-]blind|placebo[\s-]controlled|multi-?cent(?:er|re)|international|global|pilot|single[\s-]arm|"
    r"prospective|non-?randomi[sz]ed|interventional|clinical)[\s,]*)*(?:study|trial|research\s+study)\s+"
    r"(?:(?:to|that\s+will)\s+(?:evaluate|learn\s+about|assess|compare|test|investigate|study|see|determine|"
    r"find\s+out|look\s+at|understand)\s+)?(?:(?:if|whether|how\s+well)\s+)?(?:the\s+)?"
    r"(?:(?:efficacy|effectiveness|safety|tolerability|activity|pharmacokinetics|effects?)"
    r"(?:,?\s+(?:and|&)\s+|,\s*))*(?:efficacy|effectiveness|safety|tolerability|activity|pharmacokinetics|effects?)?"
    r"\s*(?:of\s+)?(?:(?:the\s+)?study\s+medicines?\s+called\s+|a\s+new\s+|the\s+)?|"
    r"^(?:study|trial)\s+of\s+",
    re.IGNORECASE,
)
# What follows the treatment in a title: the comparison and the population.
_POPULATION = re.compile(
    r"\s+(?:versus|vs\.?|compared\s+(?:to|with))\s+.*$"
    r"|\s+(?:in|for|among)\s+(?:adult\s+|female\s+|male\s+)?"
    r"(?:participants|patients|people|women|men|adults|subjects|individuals|persons)\b.*$",
    re.IGNORECASE,
)


def short_name(title: str) -> str:
    """'A Study to Evaluate the Efficacy and Safety of Drug X in Participants With ...' -> 'Drug X'."""
    name = _BOILERPLATE.sub("", title, count=1).strip(" ,:;-")
    name = _POPULATION.sub("", name).strip(" ,:;-")
    if not name:
        return title
    return name[0].upper() + name[1:]


def study_name(hit: Hit) -> str:
    """What a patient calls the study: 'INAVO122: Inavolisib + Phesgo', else its treatments, else a
    short name from the title."""
    what = hit.interventions
    if hit.acronym and what:
        return f"{hit.acronym}: {what}"
    return hit.acronym or what or short_name(hit.title)


def distance_miles(miles: float) -> str:
    """The {miles} of trials_site (rounded as search.py orders); under 1 mile is trials_site_near."""
    return str(rounded_miles(miles))


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
            for rooms in TITLE_STEPS:
                text = self._page(locale, search, hits[offset:offset + shown], rooms,
                                  more=offset + shown < len(hits))
                if fits(text):
                    return text, shown
        # Last resort for a long UCS-2 frame: one study, without the closing advice, phase and "opens soon".
        more = offset + 1 < len(hits)
        return self._page(locale, search, hits[offset:offset + 1], (0, 0), more=more, compact=True), 1

    def _page(self, locale: str, search: Search, hits: list[Hit], rooms: tuple[int, int], more: bool,
              compact: bool = False) -> str:
        title_room, facility_room = rooms
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
            phase = phase_label(hit.phases)
            phase_text = s(locale, "trials_phase", phase=phase) if phase and not compact else ""
            name = shorten(gsm_safe(study_name(hit)), title_room) if title_room else ""
            if name:
                detail = f"{phase_text}, {hit.nct_id}" if phase_text else hit.nct_id
                first = f"{isolate_ltr(locale, name)} ({detail})"
            else:
                first = f"{hit.nct_id} {phase_text}".strip()
            facility = shorten(gsm_safe(hit.facility), facility_room) if facility_room else ""
            city = gsm_safe(hit.city)
            place = ", ".join(p for p in (facility, city) if p) or "?"
            if rounded_miles(hit.miles) == 0:
                second = s(locale, "trials_site_near", place=isolate_ltr(locale, place))
            else:
                second = s(locale, "trials_site", place=isolate_ltr(locale, place), miles=distance_miles(hit.miles))
            if hit.status == "NOT_YET_RECRUITING" and not compact:
                second += ". " + s(locale, "trials_soon")
            if hit.phone:
                second += ". " + s(locale, "trials_call", phone=isolate_ltr(locale, gsm_safe(hit.phone)))
            else:
                second += ". " + s(locale, "trials_call_nci")
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


def check_texts(catalog: Catalog, locale: str):
    """(label, kind, text) for the trials texts that need no study data, for checks and reports."""
    composer = Composer(catalog)
    for label, texts in (("trials how", composer.no_zip(locale)),
                         ("trials unknown ZIP", composer.unknown_zip(locale, "00000"))):
        for number, text in enumerate(texts, start=1):
            yield f"{label} {number}", "text", text
