"""Clinical review of the texts, the pure part: what a reviewer approves and how it is bound to the words.

An approval covers one text (a catalog key) in one locale and records a hash of the key, the
English source and the translation the reviewer saw (`text_hash`). When either changes, the
approval no longer matches: the text is "changed since approval" until someone approves it again.

Statuses per (locale, key): approved | changed (approved once, words differ now) |
changes_requested (a reviewer asked for changes to these very words) | unreviewed.
The record of approvals lives in the database (table content_reviews, service/reviews.py) and
travels with the code as locales/reviews.json (`flask --app service content reviews export|import`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from babel.dates import format_skeleton

from .catalog import Catalog
from .locales import LOCALES_DIR, SOURCE_LOCALE

REVIEWS_FILE = LOCALES_DIR / "reviews.json"

APPROVED = "approved"
CHANGED = "changed"
REQUESTED = "changes_requested"
UNREVIEWED = "unreviewed"
STATUSES = (APPROVED, CHANGED, REQUESTED, UNREVIEWED)
EXPORT_STATUSES = (APPROVED, CHANGED, UNREVIEWED)  # a request for changes exports as unreviewed
DECISIONS = (APPROVED, REQUESTED)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Haitian Creole has no CLDR month names in Babel: the months as Haitian readers write them.
_HT_MONTHS = ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb",
              "novanm", "desanm")


def text_hash(key: str, english: str, translation: str) -> str:
    """SHA-256 over the key, the English source and the translation: what an approval is bound to."""
    return hashlib.sha256(f"{key}\x00{english}\x00{translation}".encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Words:
    locale: str
    key: str
    english: str
    translation: str  # the English itself for "en"; the English fallback when untranslated
    translated: bool
    hash: str


def words(catalog: Catalog, locale: str, key: str) -> Words:
    english = catalog.content.texts[key].text
    translated = catalog.translated(locale, key)
    translation = english if locale == SOURCE_LOCALE else catalog.get(locale, key)
    return Words(locale, key, english, translation, translated, text_hash(key, english, translation))


def all_words(catalog: Catalog, locales: list[str]) -> dict[tuple[str, str], Words]:
    return {(loc, key): words(catalog, loc, key) for loc in locales for key in catalog.content.texts}


@dataclass(frozen=True)
class Decision:
    """One recorded decision (a row of content_reviews, or an entry of reviews.json)."""

    locale: str
    key: str
    hash: str
    decision: str  # approved | changes_requested
    reviewer: str
    at: datetime
    comment: str = ""
    english: str = ""
    translation: str = ""


@dataclass(frozen=True)
class TextStatus:
    status: str
    reviewer: str = ""  # of the approval (current or, for "changed", the outdated one)
    reviewed_at: datetime | None = None
    comment: str = ""  # the latest request for changes on these words
    approved: Decision | None = None  # the latest approval, whatever words it saw


def status_of(current: Words, decisions: list[Decision]) -> TextStatus:
    """decisions: this (locale, key)'s decisions, oldest first."""
    approvals = [d for d in decisions if d.decision == APPROVED]
    last_approval = approvals[-1] if approvals else None
    last = decisions[-1] if decisions else None
    if last is not None and last.decision == REQUESTED and last.hash == current.hash:
        return TextStatus(REQUESTED, last.reviewer, last.at, last.comment, last_approval)
    matching = [d for d in approvals if d.hash == current.hash]
    if matching:
        return TextStatus(APPROVED, matching[-1].reviewer, matching[-1].at, "", matching[-1])
    if last_approval is not None:
        return TextStatus(CHANGED, last_approval.reviewer, last_approval.at, "", last_approval)
    return TextStatus(UNREVIEWED)


def month_year(day: date, locale: str) -> str:
    """"June 2026" in the locale's words, for the patient-facing "reviewed" line."""
    if locale == "ht":
        return f"{_HT_MONTHS[day.month - 1]} {day.year}"
    return format_skeleton("yMMMM", day, locale=locale.replace("-", "_"))


# --- locales/reviews.json --------------------------------------------------------------------


def export_entries(current: dict[tuple[str, str], Words], statuses: dict[tuple[str, str], TextStatus]) -> list[dict]:
    """One object per (locale, key), English included, sorted: the file diffs well in review."""
    entries = []
    for (locale, key), w in sorted(current.items()):
        st = statuses[(locale, key)]
        status = st.status if st.status in EXPORT_STATUSES else UNREVIEWED
        entry = {"locale": locale, "key": key, "hash": w.hash, "status": status,
                 "reviewer": st.reviewer if status != UNREVIEWED else "",
                 "reviewed_at": st.reviewed_at.isoformat() if st.reviewed_at and status != UNREVIEWED else None}
        if st.status == REQUESTED:
            entry["changes_requested"] = st.comment
        entries.append(entry)
    return entries


def dump(entries: list[dict]) -> str:
    """A JSON list with one entry per line."""
    body = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    return f"[\n{body}\n]\n" if entries else "[]\n"


def load(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ValueError(f"{path}: expected a JSON list of objects")
    return data


def parse_time(value) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        raise ValueError(f"reviewed_at {value!r} has no time zone")
    return at


def decisions_from_file(path: Path = REVIEWS_FILE) -> list[Decision]:
    """The approvals recorded in the repository's file (used when no database answers)."""
    if not Path(path).exists():
        return []
    out = []
    for e in load(path):
        if e.get("status") == APPROVED and e.get("hash"):
            out.append(Decision(e["locale"], e["key"], e["hash"], APPROVED, e.get("reviewer") or "",
                                parse_time(e.get("reviewed_at")) or EPOCH))
    return out
