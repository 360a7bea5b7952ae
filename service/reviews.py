"""Clinical review of the texts: recorded decisions, the live review state, the unreviewed-locale policy.

Decisions are rows of content_reviews (service/models.py), bound to the words by hash
(service/content/review.py). `ReviewState` is what the running line knows: every text's status per
locale and, per locale, whether it is fully reviewed and since when. It re-reads the table when it
changed, checked at most every REVIEWS_REFRESH_SECONDS (one `count(*), max(id)` query), so approvals
made in the portal or imported by another process reach every worker without a restart; in the
process that records them they count at once.

UNREVIEWED_LOCALES (service/config.py):
  label  every enabled locale is offered; a locale not fully reviewed is announced to its readers
         as a machine translation not yet checked by medical staff (on choosing it, in HELP, on calls)
  off    a locale is offered (language menus, greetings in that language) only when every text is
         approved; people who chose it before get English, with a one-time note in their language.
English is always offered: it is the source and the fallback.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from datetime import date, datetime
from typing import Callable

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .content.catalog import Catalog
from .content.locales import SOURCE_LOCALE
from .content.review import (APPROVED, CHANGED, DECISIONS, REQUESTED, UNREVIEWED, Decision, TextStatus, Words,
                             all_words, decisions_from_file, parse_time, status_of)
from .db import is_postgres
from .engine.conversation import NEW
from .models import AuditLog, ContentReview, LocaleNotice

log = logging.getLogger(__name__)

POLICIES = ("label", "off")
_UNREVIEWED = TextStatus(UNREVIEWED)


@lru_cache(maxsize=8)
def _words_of(catalog: Catalog, locales: tuple[str, ...]) -> tuple[tuple[tuple[str, str], Words], ...]:
    return tuple(all_words(catalog, list(locales)).items())


@dataclass(frozen=True)
class LocaleState:
    locale: str
    total: int
    approved: int
    changed: int
    requested: int
    unreviewed: int
    reviewed_on: date | None  # every text approved: the day the last current approval was made

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.approved == self.total

    @property
    def label(self) -> str:
        """One word for /healthz and the report: reviewed | partly reviewed | not reviewed."""
        if self.complete:
            return "reviewed"
        return "partly reviewed" if self.approved else "not reviewed"


@dataclass(frozen=True)
class Snapshot:
    statuses: dict[tuple[str, str], TextStatus]
    locales: dict[str, LocaleState]
    source: str  # "database" or "file locales/reviews.json"
    version: tuple = ()


class ReviewState:
    """The review status of every text in the enabled locales, kept fresh (see the module doc)."""

    def __init__(self, catalog: Catalog, locales: list[str], policy: str = "label",
                 engine: Callable[[], sa.Engine | None] | None = None, refresh_seconds: float = 30.0):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}")
        self.catalog = catalog
        self.locales = [loc for loc in locales if catalog.has(loc)]
        self.policy = policy
        self.engine = engine or (lambda: None)
        self.refresh_seconds = refresh_seconds
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._lexicons: dict = {}

    @cached_property
    def current(self) -> dict[tuple[str, str], Words]:
        """The words as they are now, per (locale, key), with their hashes (built on first use,
        about 80 ms for 12 locales; shared by every app of the process on the same catalog)."""
        return dict(_words_of(self.catalog, tuple(self.locales)))

    # --- reading ------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The state as last read. Inside a request it is not re-read here: the request may hold
        a transaction (on SQLite, the database's one write lock), and the read needs a connection
        of its own; `refresh_if_due` runs before every request instead (create_app)."""
        if self._snapshot is None or not has_request_context():
            self.refresh_if_due()
        return self._snapshot

    def last(self) -> Snapshot:
        """The state as last read, never re-read (for code inside a transaction)."""
        return self._snapshot if self._snapshot is not None else self.snapshot()

    def refresh_if_due(self) -> None:
        if self._snapshot is None or time.monotonic() - self._checked >= self.refresh_seconds:
            with self._lock:
                if self._snapshot is None or time.monotonic() - self._checked >= self.refresh_seconds:
                    self._refresh()

    def invalidate(self) -> None:
        """Re-read at the next use (this process just recorded decisions)."""
        self._checked = float("-inf")
        self._snapshot = replace(self._snapshot, version=()) if self._snapshot else None

    def _refresh(self) -> None:
        engine = self.engine()
        snap = None
        if engine is not None:
            try:
                with engine.connect() as conn:
                    version = tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(ContentReview.id))).one())
                    if self._snapshot is not None and self._snapshot.version == version \
                            and self._snapshot.source == "database":
                        self._checked = time.monotonic()
                        return
                    rows = conn.execute(sa.select(ContentReview).order_by(ContentReview.id)).mappings().all()
                decisions = [Decision(r["locale"], r["key"], r["hash"], r["decision"], r["reviewer"],
                                      r["created_at"], r["comment"], r["english"], r["translation"]) for r in rows]
                snap = self._build(decisions, "database", version)
            except sa.exc.SQLAlchemyError as exc:  # no database yet (`content check` before migrating)
                if self._snapshot is not None and self._snapshot.source == "database":
                    log.warning("reviews: database unavailable (%s); keeping the last known state",
                                type(exc).__name__)
                    self._checked = time.monotonic()
                    return
        if snap is None:
            snap = self._build(decisions_from_file(), "file locales/reviews.json")
        self._snapshot = snap
        self._checked = time.monotonic()

    def _build(self, decisions: list[Decision], source: str, version: tuple = ()) -> Snapshot:
        current = self.current
        by_text: dict[tuple[str, str], list[Decision]] = {}
        for d in decisions:
            if (d.locale, d.key) in current:
                by_text.setdefault((d.locale, d.key), []).append(d)
        statuses = dict.fromkeys(current, _UNREVIEWED)
        for k, ds in by_text.items():
            statuses[k] = status_of(current[k], ds)
        total = len(self.catalog.content.texts)
        counts = {loc: {APPROVED: 0, CHANGED: 0, REQUESTED: 0, UNREVIEWED: total} for loc in self.locales}
        latest: dict[str, datetime] = {}
        for (loc, _key), st in statuses.items():
            if st.status == UNREVIEWED:
                continue
            counts[loc][st.status] += 1
            counts[loc][UNREVIEWED] -= 1
            if st.status == APPROVED and (loc not in latest or st.reviewed_at > latest[loc]):
                latest[loc] = st.reviewed_at
        locales = {}
        for loc in self.locales:
            c = counts[loc]
            done = total > 0 and c[APPROVED] == total
            locales[loc] = LocaleState(loc, total, c[APPROVED], c[CHANGED], c[REQUESTED], c[UNREVIEWED],
                                       latest[loc].date() if done else None)
        return Snapshot(statuses, locales, source, version)

    def status(self, locale: str, key: str) -> TextStatus:
        return self.snapshot().statuses[(locale, key)]

    def locale(self, locale: str) -> LocaleState | None:
        return self.snapshot().locales.get(locale)

    def reviewed_on(self, locale: str) -> date | None:
        state = self.locale(locale)
        return state.reviewed_on if state else None

    def machine(self, locale: str) -> bool:
        """A translation not (fully) checked by medical staff: its readers are told so."""
        return locale != SOURCE_LOCALE and self.reviewed_on(locale) is None

    def offered(self, locale: str) -> bool:
        return self.policy == "label" or locale == SOURCE_LOCALE or self.reviewed_on(locale) is not None

    def offered_locales(self, locales: list[str]) -> list[str]:
        return [loc for loc in locales if self.offered(loc)]

    def lexicon(self, lexicon):
        """The engine's lexicon with only the offered languages named (the language menu's numbers
        follow what it lists); keywords of every enabled language are still understood."""
        if self.policy == "label":
            return lexicon
        offered = tuple(loc for loc in lexicon.names if self.offered(loc))
        if len(offered) == len(lexicon.names):
            return lexicon
        cache_key = (id(lexicon), offered)
        cached = self._lexicons.get(cache_key)
        if cached is None:
            cached = replace(lexicon, names={loc: lexicon.names[loc] for loc in offered})
            self._lexicons = {cache_key: cached}  # one at a time: the offered set rarely changes
        return cached

    def first_words(self, lexicon, state, body: str):
        """A first message in a language held back: the person's language is recorded all the
        same, so they are told in it why they get English, and get it once it is approved."""
        if self.policy == "label" or state.status != NEW:
            return state
        detected = lexicon.keyword_locale(body) or lexicon.language_named(body)
        if detected and not self.offered(detected):
            return replace(state, locale=detected)
        return state

    def summary(self) -> dict:
        """For /healthz: the policy and each locale's state."""
        snap = self.snapshot()
        return {"policy": self.policy, "source": snap.source, "locales": {
            loc: {"state": s.label, "approved": s.approved, "texts": s.total, "changed": s.changed,
                  "reviewed": s.reviewed_on.isoformat() if s.reviewed_on else None,
                  "offered": self.offered(loc)} for loc, s in snap.locales.items()}}


# --- recording decisions ------------------------------------------------------------------------


class ReviewError(ValueError):
    pass


def record(sess: Session, state: ReviewState, *, locale: str, key: str, decision: str, reviewer: str,
           now: datetime, comment: str = "", seen_hash: str | None = None) -> ContentReview:
    """Record one decision on the words as they are now, and audit it.

    seen_hash: the hash of the words the reviewer had on screen; a decision on words that changed
    meanwhile is refused (ReviewError), not silently moved to the new words.
    """
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}")
    current = state.current.get((locale, key))
    if current is None:
        raise ReviewError(f"no text {key!r} in locale {locale!r}")
    if seen_hash is not None and seen_hash != current.hash:
        raise ReviewError("the text changed since it was shown: look at it again")
    comment = comment.strip()
    if decision == REQUESTED and not comment:
        raise ReviewError("say what should change")
    row = ContentReview(locale=locale, key=key, hash=current.hash, decision=decision, reviewer=reviewer,
                        comment=comment[:4000], english=current.english, translation=current.translation,
                        created_at=now)
    sess.add(row)
    detail = f"{locale} {key} {current.hash[:12]}" + (f": {comment}" if comment else "")
    sess.add(AuditLog(clinic_id=None, actor=f"staff:{reviewer}", action=f"review_{decision}"[:40],
                      detail=detail[:400], created_at=now))
    sess.flush()
    return row


@dataclass
class ImportReport:
    recorded: list[tuple[str, str]] = field(default_factory=list)
    already: int = 0
    stale: list[tuple[str, str]] = field(default_factory=list)  # approved, but the words changed since
    unknown: list[tuple[str, str]] = field(default_factory=list)
    not_approved: int = 0
    invalid: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"recorded {len(self.recorded)} approvals, {self.already} already recorded, "
               f"{len(self.stale)} stale (the words changed since), {len(self.unknown)} unknown texts, "
               f"{self.not_approved} not approved, {len(self.invalid)} invalid"]
        out += [f"stale: {loc} {key}" for loc, key in self.stale]
        out += [f"unknown: {loc} {key}" for loc, key in self.unknown]
        out += [f"invalid: {why}" for why in self.invalid]
        return out


def import_entries(sess: Session, state: ReviewState, entries: list[dict], *, actor: str, now: datetime) -> ImportReport:
    """Record every entry marked approved whose hash still matches the words; report the rest."""
    report = ImportReport()
    snap = state.last()  # the caller read it before opening this transaction
    for n, e in enumerate(entries, start=1):
        locale, key = str(e.get("locale", "")), str(e.get("key", ""))
        if e.get("status") != APPROVED:
            report.not_approved += 1
            continue
        current = state.current.get((locale, key))
        if current is None:
            report.unknown.append((locale, key))
            continue
        if e.get("hash") != current.hash:
            report.stale.append((locale, key))
            continue
        if snap.statuses[(locale, key)].status == APPROVED:
            report.already += 1
            continue
        try:
            at = parse_time(e.get("reviewed_at")) or now
        except ValueError as exc:
            report.invalid.append(f"entry {n}: {exc}")
            continue
        reviewer = str(e.get("reviewer") or "").strip()[:254] or actor
        sess.add(ContentReview(locale=locale, key=key, hash=current.hash, decision=APPROVED, reviewer=reviewer,
                               comment="imported", english=current.english, translation=current.translation,
                               created_at=at))
        report.recorded.append((locale, key))
    if report.recorded:
        sess.add(AuditLog(clinic_id=None, actor=actor, action="review_import",
                          detail=f"{len(report.recorded)} approvals imported; {len(report.stale)} stale", created_at=now))
    sess.flush()
    return report


# --- the one-time note for a locale that is not offered (policy off) ---------------------------


def take_notice(sess: Session, subscriber_id: int, locale: str, now: datetime) -> bool:
    """True the first time this person is told their language is not offered yet."""
    insert = (postgresql.insert if is_postgres(sess) else sqlite.insert)(LocaleNotice)
    stmt = (insert.values(subscriber_id=subscriber_id, locale=locale, created_at=now)
            .on_conflict_do_nothing(index_elements=["subscriber_id", "locale"])
            .returning(LocaleNotice.subscriber_id))
    return sess.execute(stmt).first() is not None
