"""Carry out one inbound SMS: load the subscriber (locked), run the engine, store the outcome.

This is the seam between the pure engine and the database. Everything for one message happens
in one transaction together with the InboundMessage row whose unique sid makes a repeated
delivery a no-op that returns the first answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .content.render import SmsRenderer
from .engine import ConsentChanged, LanguageChanged, RedFlag, State, TopicViewed, converse
from .engine.keywords import OPT_IN, OPT_OUT, Lexicon, normalize
from .engine.redflags import find_red_flag
from .engine.menu import MenuTree
from .db import utcnow
from .models import ConsentEvent, Enrollment, InboundMessage, Subscriber
from .outbound import cancel_pending
from .messaging.loops import hold_back
from .clinics import inbound as clinic_inbound
from .clinics.enroll import stop_all_for_subscriber
from .reviews import take_notice


@dataclass(frozen=True)
class Line:
    """What the line needs to answer: the menu shape, the renderer, the settings."""

    tree: MenuTree
    renderer: SmsRenderer
    lexicon: Lexicon
    expiry: timedelta
    flood_limit: int = 20
    flood_window: timedelta = timedelta(minutes=2)
    trials: Any = None  # service.trials.line.TrialsLine: looks up "trials" replies (None: explain only)
    recent: "RecentNumbers | None" = None  # what fallback_texts knows when the database is down
    reviews: Any = None  # service.reviews.ReviewState: which locales are offered, their notes


class RecentNumbers:
    """The language and status this process last saw per number, a bounded map (oldest out
    first), so a database outage still answers in the person's language and keeps opted-out
    numbers silent. Per process and best effort: a number not seen here gets the defaults."""

    def __init__(self, size: int = 50_000):
        self.size = size
        self._seen: dict[str, tuple[str | None, str | None]] = {}

    def remember(self, phone: str, locale: str | None, status: str | None) -> None:
        self._seen.pop(phone, None)
        self._seen[phone] = (locale, status)
        if len(self._seen) > self.size:
            try:
                del self._seen[next(iter(self._seen))]
            except (KeyError, StopIteration, RuntimeError):
                pass  # another thread trimmed it first

    def get(self, phone: str) -> tuple[str | None, str | None]:
        return self._seen.get(phone, (None, None))


def lock_subscriber(sess: Session, phone: str) -> Subscriber:
    """The subscriber row for a number, created if new, locked until the transaction ends.

    PostgreSQL: SELECT ... FOR UPDATE, so two messages from one number at once run one after the
    other. SQLite: the transaction began with BEGIN IMMEDIATE, which already serializes writers.
    """
    query = _SUBSCRIBER_FOR_UPDATE
    sub = sess.scalars(query, {"phone": phone}).one_or_none()
    if sub is not None:
        return sub
    try:
        with sess.begin_nested():
            sub = Subscriber(phone=phone)
            sess.add(sub)
    except IntegrityError:
        # Another request created it between our select and insert; take theirs.
        sub = sess.scalars(query, {"phone": phone}).one()
    return sub


# Built once: constructing SQL expressions per request showed up in profiles.
_SUBSCRIBER_FOR_UPDATE = (
    sa.select(Subscriber).where(Subscriber.phone == sa.bindparam("phone")).with_for_update()
)
# By sid alone: voice rows share the table, but their sids ("CA...:<step>") never equal a MessageSid.
_PREVIOUS_ANSWER = sa.select(InboundMessage.response).where(InboundMessage.sid == sa.bindparam("sid"))
# Texts only: the flood limit holds back SMS replies, and a caller walking the voice menus (each
# topic heard is logged, service/channels/call_log.py) has sent no texts to hold back.


_SUBSCRIBERS = Subscriber.__table__
_STATE_COLUMNS = ("locale", "status", "menu_node", "menu_page", "menu_topic", "menu_item", "last_seen_at")


class SubscriberRow:
    """The subscriber as the SMS path reads and changes it: a plain object read with Core.

    The hot path loads one row and writes one UPDATE; an ORM instance there cost more than all the
    SQL (identity map, attribute events, unit-of-work flush). Everything handle_sms calls only
    reads and sets these attributes, so they take this in place of a Subscriber. Never mix it
    with an ORM Subscriber for the same number in one transaction: the UPDATE would overwrite it.
    """

    __slots__ = ("id", "phone", *_STATE_COLUMNS, "previous", "has_enrollment", "recent_texts", "last_body",
                 "_loaded")

    def __init__(self, row: sa.Row):
        self.id, self.phone = row.id, row.phone
        for name in _STATE_COLUMNS:
            setattr(self, name, getattr(row, name))
        self.previous = row.previous  # the stored answer to this sid, if it was handled already
        self.has_enrollment = row.has_enrollment  # any clinic enrollment at all (check-ins need one)
        self.recent_texts = row.recent_texts  # texts from this number within the flood window
        self.last_body = row.last_body  # the number's previous text (loops.hold_back)
        self._loaded = tuple(getattr(row, name) for name in _STATE_COLUMNS)

    def changes(self) -> dict | None:
        """The state columns to write back, or None when nothing changed."""
        now = tuple(getattr(self, name) for name in _STATE_COLUMNS)
        return None if now == self._loaded else dict(zip(_STATE_COLUMNS, now))


# One statement: the subscriber (locked), the stored answer to this sid and whether any clinic
# enrolled the number. On PostgreSQL the two subqueries read the statement's snapshot, taken before
# the row lock was granted; so a duplicate delivery racing the first one may not see its answer
# here. It then fails on the unique sid at the INSERT and the webhook answers with
# previous_answer() in a new transaction: the same reply, nothing stored twice. (An enrollment
# made while we waited has no check-in open yet, so has_enrollment cannot hide one.)
_SUBSCRIBER_ROW_FOR_UPDATE = (
    sa.select(
        *(_SUBSCRIBERS.c[name] for name in ("id", "phone", *_STATE_COLUMNS)),
        sa.select(InboundMessage.response).where(InboundMessage.sid == sa.bindparam("sid"))
        .scalar_subquery().label("previous"),
        sa.exists().where(Enrollment.subscriber_id == _SUBSCRIBERS.c.id).label("has_enrollment"),
        # The flood count and the previous text ride along too (a query each before). Read from
        # the same snapshot, they may miss a text from this number that committed while we waited
        # for the lock: the flood and loop guards then act one text later, which is harmless.
        sa.select(sa.func.count()).select_from(InboundMessage)
        .where(InboundMessage.subscriber_id == _SUBSCRIBERS.c.id, InboundMessage.channel == "sms",
               InboundMessage.received_at > sa.bindparam("since"))
        .scalar_subquery().label("recent_texts"),
        sa.select(InboundMessage.body)
        .where(InboundMessage.subscriber_id == _SUBSCRIBERS.c.id, InboundMessage.channel == "sms")
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(1)
        .scalar_subquery().label("last_body"),
    )
    .where(_SUBSCRIBERS.c.phone == sa.bindparam("phone"))
    .with_for_update(of=_SUBSCRIBERS)
)
_INSERT_SUBSCRIBER = sa.insert(_SUBSCRIBERS)
_UPDATE_SUBSCRIBER = sa.update(_SUBSCRIBERS).where(_SUBSCRIBERS.c.id == sa.bindparam("row_id"))
_INSERT_INBOUND = sa.insert(InboundMessage.__table__)
# PostgreSQL: the subscriber UPDATE rides along with the inbound INSERT in one statement (one round
# trip fewer). Both run or neither: a repeated sid fails the statement and the transaction.
_UPDATE_THEN_INSERT_INBOUND = _INSERT_INBOUND.add_cte(
    sa.update(_SUBSCRIBERS).where(_SUBSCRIBERS.c.id == sa.bindparam("row_id"))
    .values({name: sa.bindparam(f"sub_{name}") for name in (*_STATE_COLUMNS, "updated_at")})
    .cte("subscriber_update")
)


_SUBSCRIBER_ID = sa.select(_SUBSCRIBERS.c.id).where(_SUBSCRIBERS.c.phone == sa.bindparam("phone"))


def subscriber_id_for(sess: Session, phone: str) -> int:
    """The subscriber id of a number, created (status "new") if unknown; not locked. For callers
    that only need to point at the number (the call log), not change it."""
    conn = sess.connection()
    found = conn.execute(_SUBSCRIBER_ID, {"phone": phone}).scalar_one_or_none()
    if found is not None:
        return found
    _create_subscriber(sess, phone)
    return conn.execute(_SUBSCRIBER_ID, {"phone": phone}).scalar_one()


def _create_subscriber(sess: Session, phone: str) -> None:
    """Insert a "new" subscriber for this number unless a concurrent request just did; the caller
    reads the row again either way."""
    try:
        with sess.begin_nested():  # sess.connection() again: it emits the SAVEPOINT
            sess.connection().execute(_INSERT_SUBSCRIBER, {"phone": phone})  # defaults fill the rest
    except IntegrityError:
        pass  # another request created it between our select and insert; take theirs


def lock_subscriber_row(sess: Session, phone: str, sid: str, since: datetime) -> SubscriberRow:
    """lock_subscriber() for the SMS path: a SubscriberRow, created if new, locked until the
    transaction ends, with the stored answer to `sid` (SubscriberRow.previous) and the number of
    texts received after `since` (SubscriberRow.recent_texts)."""
    conn = sess.connection()
    params = {"phone": phone, "sid": sid, "since": since}
    row = conn.execute(_SUBSCRIBER_ROW_FOR_UPDATE, params).one_or_none()
    if row is None:
        _create_subscriber(sess, phone)
        row = conn.execute(_SUBSCRIBER_ROW_FOR_UPDATE, params).one()
    return SubscriberRow(row)


def flooding(line: Line, sub: SubscriberRow) -> bool:
    """True when this number already sent flood_limit texts within the window."""
    if sub.status == "new" or line.flood_limit <= 0:
        return False
    return sub.recent_texts >= line.flood_limit


def state_of(sub: Subscriber) -> State:
    return State(
        locale=sub.locale or "en",
        status=sub.status or "new",
        node=sub.menu_node or "main",
        page=sub.menu_page or 0,
        topic=sub.menu_topic,
        item=sub.menu_item,
        last_seen=sub.last_seen_at,
    )


def apply_state(sub: Subscriber, state: State) -> None:
    sub.locale = state.locale
    sub.status = state.status
    sub.menu_node = state.node
    sub.menu_page = state.page
    sub.menu_topic = state.topic
    sub.menu_item = state.item
    sub.last_seen_at = state.last_seen


def record_consent(sess: Session, sub: Subscriber, kind: str, source: str, detail: str,
                   now: datetime, channel: str = "sms") -> None:
    """Append to the consent history; an opt-out also cancels every pending text at once."""
    sess.add(ConsentEvent(subscriber_id=sub.id, kind=kind, source=source, detail=detail[:80],
                          channel=channel, created_at=now))
    if kind == "opt_out":
        cancel_pending(sess, sub.id)
        stop_all_for_subscriber(sess, sub.id, now, source)  # every clinic's series, same transaction


def previous_answer(sess: Session, sid: str) -> list[str] | None:
    response = sess.execute(_PREVIOUS_ANSWER, {"sid": sid}).scalar_one_or_none()
    return None if response is None else json.loads(response or "[]")


# Replies a flood never holds back.
ALWAYS_SENT = frozenset({"stop_confirm", "safety"})

ADVANCED_OPT_OUT = {"STOP": ("opt_out", "opted_out"), "START": ("opt_in", "active")}


def handle_sms(sess: Session, line: Line, *, sid: str, phone: str, body: str, now: datetime,
               opt_out_type: str | None = None) -> list[str]:
    """Answer one inbound SMS; returns the texts to send back (possibly none).

    Runs inside the caller's transaction. Raises IntegrityError when the same sid was stored
    concurrently: the caller rolls back and answers with previous_answer().
    """
    body = body.replace("\x00", "")[:1600]  # PostgreSQL text cannot hold NUL; Twilio caps at 1600
    sub = lock_subscriber_row(sess, phone, sid, now - line.flood_window)
    # Read with the lock: a concurrent delivery of this sid has either committed (we see it
    # here, or, on PostgreSQL, possibly not: see _SUBSCRIBER_ROW_FOR_UPDATE) or will fail on
    # the unique sid below.
    if sub.previous is not None:
        return json.loads(sub.previous or "[]")
    inbound = {"sid": sid, "subscriber_id": sub.id, "body": body, "received_at": now,
               "locale": sub.locale, "channel": "sms", "topic": None, "red_flag": None}
    texts: list[str] = []

    aoo = (opt_out_type or "").strip().upper()
    if aoo:
        # Twilio Advanced Opt-Out already answered the person: record the change, say nothing.
        change = ADVANCED_OPT_OUT.get(aoo)
        if change and sub.status != change[1]:
            record_consent(sess, sub, change[0], "twilio_advanced_opt_out", aoo, now)
            sub.status = change[1]
        if aoo == "START":  # Twilio treats YES as START: it may be a clinic enrollment's YES
            clinic_inbound.advanced_opt_in(sess, sub, body, now, line)
        sub.last_seen_at = now
    elif (clinic_texts := clinic_inbound.intercept(sess, sub, body, now, line)) is not None:
        texts = clinic_texts  # YES to a clinic enrollment, or a check-in answer
    else:
        before = state_of(sub) if line.trials is None else line.trials.load(sess, sub, state_of(sub), body)
        lexicon = line.lexicon
        if line.reviews is not None:  # languages held back for review (service/reviews.py, policy off)
            lexicon, before = line.reviews.lexicon(line.lexicon), line.reviews.first_words(line.lexicon, before, body)
        turn = converse(before, body, now, line.tree, lexicon, expiry=line.expiry)
        apply_state(sub, turn.state)
        if line.trials is not None:
            line.trials.save(sess, sub, before, turn.state, now)
        for event in turn.events:
            if isinstance(event, ConsentChanged):
                record_consent(sess, sub, event.kind, event.source, event.keyword, now)
            elif isinstance(event, RedFlag):
                inbound["red_flag"] = event.term[:40]
                clinic_inbound.red_flag(sess, sub.id, body, event.term, now)
            elif isinstance(event, TopicViewed):
                inbound["topic"] = event.topic
            elif isinstance(event, LanguageChanged):
                inbound["locale"] = event.locale
        replies = turn.replies
        if flooding(line, sub):
            # Keep the state and consent changes, drop the replies, except the opt-out
            # confirmation (the law allows it and the person needs it) and the safety reply
            # (someone in danger may well be texting fast).
            replies = tuple(r for r in replies if r.key in ALWAYS_SENT)
        # A language not offered (UNREVIEWED_LOCALES=off, not yet reviewed) gets English, and once a note.
        locale, texts = reply_locale(sess, line, sub.id, turn.state.locale, now) if replies else (turn.state.locale, [])
        for reply in replies:
            if reply.kind == "trials" and line.trials is not None:
                texts.extend(line.trials.texts(sess, reply, locale, now))  # a DB lookup
            else:
                texts.extend(line.renderer.render_all(reply, locale))

    if sub.status != "opted_out" and hold_back(sess, sub.id, body, texts, now - line.flood_window,
                                               red_flag=inbound["red_flag"] is not None,
                                               last_body=sub.last_body):
        texts = []  # an auto-responder, or a loop: the same text answered the same way already
    inbound["response"] = json.dumps(texts, ensure_ascii=False)
    store(sess, sub, inbound)  # the unique sid is checked here
    if line.recent is not None:
        line.recent.remember(phone, sub.locale, sub.status)
    return texts


def reply_locale(sess: Session, line: Line, subscriber_id: int, locale: str, now: datetime) -> tuple[str, list[str]]:
    """(the locale to answer in, notes to send first): English and, the first time, a note in the
    person's language when their language is not offered (service/reviews.py, policy off)."""
    if line.reviews is None or line.reviews.offered(locale):
        return locale, []
    notes = [line.renderer.render_text("locale_off_note", locale)] if take_notice(sess, subscriber_id, locale, now) else []
    return "en", notes


def store(sess: Session, sub: SubscriberRow, inbound: dict) -> None:
    """Write the subscriber's changes and the inbound row (whose unique sid makes a repeated
    delivery fail here), after whatever handle_sms added through the ORM."""
    sess.flush()  # consent events, tasks, trials searches
    conn = sess.connection()
    changes = sub.changes()
    if changes is None:
        conn.execute(_INSERT_INBOUND, inbound)
    elif conn.dialect.name == "postgresql":
        params = {f"sub_{name}": value for name, value in changes.items()}
        conn.execute(_UPDATE_THEN_INSERT_INBOUND, {**inbound, **params, "row_id": sub.id, "sub_updated_at": utcnow()})
    else:
        conn.execute(_UPDATE_SUBSCRIBER, {"row_id": sub.id, **changes, "updated_at": utcnow()})
        conn.execute(_INSERT_INBOUND, inbound)


def fallback_texts(line: Line, phone: str, body: str) -> list[str]:
    """What to answer when the database cannot be reached (nothing here touches it).

    What this process last saw of the number (line.recent) gives the language and whether it
    opted out. The text itself is spooled and recorded later by record_missed_sms, so an opt-out
    can already be confirmed (and later texts meet silence); a red flag gets the safety reply; an
    opted-out number hears nothing. Everything else gets the apology, in the person's language
    where we can tell it.
    """
    locale, status = line.recent.get(phone) if line.recent is not None else (None, None)
    locale = locale or line.lexicon.keyword_locale(body) or line.lexicon.language_named(body) or "en"
    if locale not in line.renderer.enabled_locales:
        locale = "en"
    kind = line.lexicon.classify(body, locale)
    if status == "opted_out":
        if kind == OPT_IN and line.recent is not None:
            line.recent.remember(phone, locale, "active")
            return [line.renderer.render_text("apology", locale)]  # START is kept; the menu waits
        return []
    if kind == OPT_OUT:
        if line.recent is not None:
            line.recent.remember(phone, locale, "opted_out")
        return [line.renderer.render_text("stop_confirm", locale)]
    texts = []
    if find_red_flag(body, line.lexicon):
        texts.append(line.renderer.render_text("safety", locale))
    texts.append(line.renderer.render_text("apology", locale))
    return texts


def record_missed_sms(sess: Session, line: Line, *, sid: str, phone: str, body: str, now: datetime,
                      answered: list[str], opt_out_type: str | None = None) -> bool:
    """Record a text that was answered by fallback_texts while the database was down.

    Applies what must not be lost: an opt-out or opt-in keyword (or Twilio's OptOutType), a red
    flag from an enrolled patient (the clinic's urgent task), and the message log row with the
    answer that was given. The menu position is left alone: the person was asked to try again.
    Returns False when the sid is stored already (replayed before, or redelivered live).
    """
    body = body.replace("\x00", "")[:1600]
    sub = lock_subscriber_row(sess, phone, sid, now - line.flood_window)
    if sub.previous is not None:
        return False
    inbound = {"sid": sid, "subscriber_id": sub.id, "body": body, "received_at": now, "locale": sub.locale,
               "channel": "sms", "topic": None, "red_flag": None,
               "response": json.dumps(answered, ensure_ascii=False)}
    aoo = (opt_out_type or "").strip().upper()
    kind = line.lexicon.classify(body, sub.locale or "en")
    if aoo in ADVANCED_OPT_OUT:
        change, source, detail = ADVANCED_OPT_OUT[aoo], "twilio_advanced_opt_out", aoo
    elif kind == OPT_OUT:
        change, source, detail = ADVANCED_OPT_OUT["STOP"], "sms_keyword", normalize(body)
    elif kind == OPT_IN and sub.status == "opted_out":
        change, source, detail = ADVANCED_OPT_OUT["START"], "sms_keyword", normalize(body)
    else:
        change = None
    if change and sub.status != change[1]:
        record_consent(sess, sub, change[0], source, detail, now)
        sub.status = change[1]
    flag = find_red_flag(body, line.lexicon)
    if flag and sub.status != "opted_out":
        inbound["red_flag"] = flag[:40]
        clinic_inbound.red_flag(sess, sub.id, body, flag, now)
    store(sess, sub, inbound)
    return True
