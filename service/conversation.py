"""Carry out one inbound SMS: load the subscriber (locked), run the engine, store the outcome.

This is the seam between the pure engine and the database. Everything for one message happens
in one transaction together with the InboundMessage row whose unique sid makes a repeated
delivery a no-op that returns the first answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .content.render import SmsRenderer
from .engine import (CheckinAnswered, ClinicConfirmed, ConsentChanged, Facts, HeldTextsConfirmed, LanguageChanged,
                     RedFlag, Reply, State, TopicViewed, Turn, converse)
from .engine.keywords import Lexicon
from .engine.menu import MenuTree
from .db import one_of, transaction, utcnow
from .models import Enrollment, InboundMessage, OutboundMessage, Subscriber
from .outbound import CALL_HELD_SOURCES, release_held
from .messaging.loops import hold_back
from .clinics import inbound as clinic_inbound
from .consent import record_consent
from .reviews import take_notice
from .statuses import MessageStatus, SubscriberStatus
from .subscribers import SubscriberSnapshot


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
    """What this process last saw per number (its engine State and whether a clinic would see a
    red flag), a bounded map (oldest out first), so a database outage still runs the engine on
    the person's language, consent and safety window. Per process and best effort: a number not
    seen here is treated as new."""

    def __init__(self, size: int = 50_000):
        self.size = size
        self._seen: dict[str, tuple[State, bool]] = {}

    def remember(self, phone: str, state: State, clinic_sees: bool = False) -> None:
        self._seen.pop(phone, None)
        self._seen[phone] = (state, clinic_sees)
        if len(self._seen) > self.size:
            try:
                del self._seen[next(iter(self._seen))]
            except (KeyError, StopIteration, RuntimeError):
                pass  # another thread trimmed it first

    def get(self, phone: str) -> tuple[State, bool]:
        return self._seen.get(phone, (State(), False))


# By sid alone: voice rows share the table, but their sids ("CA...:<step>") never equal a MessageSid.
_PREVIOUS_ANSWER = sa.select(InboundMessage.response).where(InboundMessage.sid == sa.bindparam("sid"))
# Texts only: the flood limit holds back SMS replies, and a caller walking the voice menus (each
# topic heard is logged, service/calls/log.py) has sent no texts to hold back.


_SUBSCRIBERS = Subscriber.__table__
_STATE_COLUMNS = ("locale", "status", "menu_node", "menu_page", "menu_topic", "menu_item", "last_seen_at",
                  "safety", "safety_at")


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    """What the SMS path reads with the subscriber's row lock, in one Core statement.

    The hot path loads one row and writes one UPDATE; an ORM instance there cost more than all the
    SQL (identity map, attribute events, unit-of-work flush). The stored menu position, language,
    consent and safety window come as the engine's State; handle_sms carries the State the engine
    returns and `store` writes the columns that differ. Never mix this with an ORM Subscriber for
    the same number in one transaction: the UPDATE would overwrite it.
    """

    subscriber: SubscriberSnapshot  # as stored, with has_enrollment (any clinic enrollment at all)
    state: State  # as stored
    previous: str | None  # the stored answer to this sid, if it was handled already
    recent_texts: int  # texts from this number within the flood window
    last_body: str | None  # the number's previous text (loops.hold_back)
    texts_held: bool  # a call held texts for this number until it says YES

    @classmethod
    def read(cls, row: sa.Row) -> SubscriberRow:
        return cls(SubscriberSnapshot(row.id, row.phone, row.locale, row.status, row.has_enrollment),
                   State(locale=row.locale or "en", status=row.status or SubscriberStatus.NEW.value,
                         node=row.menu_node or "main", page=row.menu_page or 0, topic=row.menu_topic,
                         item=row.menu_item, last_seen=row.last_seen_at, safety=row.safety, safety_at=row.safety_at),
                   row.previous, row.recent_texts, row.last_body, row.texts_held)

    @property
    def id(self) -> int:
        return self.subscriber.id

    def as_of(self, state: State) -> SubscriberSnapshot:
        """The subscriber with the language and consent of `state` (what the engine decided)."""
        if (state.locale, state.status) == (self.subscriber.locale, self.subscriber.status):
            return self.subscriber
        return replace(self.subscriber, locale=state.locale, status=state.status)

    def changes(self, state: State) -> dict | None:
        """The state columns to write back for `state`, or None when nothing changed."""
        now = _columns(state)
        return None if now == _columns(self.state) else dict(zip(_STATE_COLUMNS, now))


def _columns(state: State) -> tuple:
    """A State as the subscriber's columns (_STATE_COLUMNS, in order)."""
    return (state.locale, state.status, state.node, state.page, state.topic, state.item, state.last_seen,
            state.safety, state.safety_at)


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
        sa.exists().where(OutboundMessage.subscriber_id == _SUBSCRIBERS.c.id, OutboundMessage.status == MessageStatus.HELD,
                          one_of(OutboundMessage.source, CALL_HELD_SOURCES))
        .label("texts_held"),
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
    return SubscriberRow.read(row)


def flooding(line: Line, sub: SubscriberRow, state: State) -> bool:
    """True when this number (in `state` now) already sent flood_limit texts within the window."""
    if state.status == SubscriberStatus.NEW or line.flood_limit <= 0:
        return False
    return sub.recent_texts >= line.flood_limit


def previous_answer(sess: Session, sid: str) -> list[str] | None:
    response = sess.execute(_PREVIOUS_ANSWER, {"sid": sid}).scalar_one_or_none()
    return None if response is None else json.loads(response or "[]")


def answer_sms(line: Line, *, sid: str, phone: str, body: str, clock: Callable[[], datetime],
               opt_out_type: str | None = None) -> list[str]:
    """The SMS webhook's one call: handle_sms in its own transaction (`clock` read once it began).

    When the same MessageSid was being handled concurrently and won the insert, the answer is
    exactly what it answered, and nothing changes. Any other error is raised: the webhook answers
    without the database (service/spool.py answer_offline)."""
    try:
        with transaction() as sess:
            return handle_sms(sess, line, sid=sid, phone=phone, body=body, now=clock(), opt_out_type=opt_out_type)
    except IntegrityError:
        with transaction() as sess:
            texts = previous_answer(sess, sid)
        if texts is None:
            raise
        return texts


ADVANCED_OPT_OUT = {"STOP": ("opt_out", SubscriberStatus.OPTED_OUT), "START": ("opt_in", SubscriberStatus.ACTIVE)}


def always_sent(reply: Reply) -> bool:
    """Replies a flood never holds back: the opt-out confirmation (the law allows it and the
    person needs it) and a safety reply (someone in danger may well be texting fast)."""
    return reply.kind == "safety" or reply.key == "stop_confirm"


@dataclass
class Applying:
    """What the event handlers of one message work with, inside its transaction."""

    sess: Session
    line: Line
    sub: SubscriberSnapshot  # as the engine left it (its language and consent)
    body: str  # what the person wrote or said
    now: datetime
    inbound: dict  # the message log row being written (red_flag, topic, locale)
    channel: str = "sms"
    note: str = ""  # added to a clinic task (e.g. "caller ID not verified")


def _consent(ctx: Applying, event: ConsentChanged) -> None:
    record_consent(ctx.sess, ctx.sub.id, event.kind, event.source, event.keyword, ctx.now, ctx.channel)


def _red_flag(ctx: Applying, event: RedFlag) -> None:
    ctx.inbound["red_flag"] = event.term[:40]
    ctx.inbound["red_flag_class"] = event.kind
    clinic_inbound.red_flag(ctx.sess, ctx.sub.id, ctx.sub.status, event, ctx.body, ctx.now, ctx.note)


def _topic(ctx: Applying, event: TopicViewed) -> None:
    ctx.inbound["topic"] = event.topic


def _language(ctx: Applying, event: LanguageChanged) -> None:
    ctx.inbound["locale"] = event.locale


def _clinic_confirmed(ctx: Applying, event: ClinicConfirmed) -> None:
    clinic_inbound.confirm(ctx.sess, ctx.sub, event.word, ctx.now, ctx.line)


def _checkin(ctx: Applying, event: CheckinAnswered) -> None:
    clinic_inbound.checkin_answer(ctx.sess, ctx.sub, event.number, ctx.body, ctx.now)


def _held_texts(ctx: Applying, event: HeldTextsConfirmed) -> None:
    release_held(ctx.sess, ctx.sub.id, ctx.now)


# One handler per engine event type, for SMS, voice and the outage replay alike.
HANDLERS = {
    ConsentChanged: _consent,
    RedFlag: _red_flag,
    TopicViewed: _topic,
    LanguageChanged: _language,
    ClinicConfirmed: _clinic_confirmed,
    CheckinAnswered: _checkin,
    HeldTextsConfirmed: _held_texts,
}


def apply_events(ctx: Applying, turn: Turn) -> None:
    for event in turn.events:
        HANDLERS[type(event)](ctx, event)


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
    inbound = _inbound_row(sub, sid, body, now)
    texts: list[str] = []
    state, facts, turn = sub.state, Facts(), Turn(State())

    aoo = (opt_out_type or "").strip().upper()
    if aoo:
        # Twilio Advanced Opt-Out already answered the person: record the change, say nothing.
        state = _advanced_opt_out(sess, sub.id, state, aoo, now)
        if aoo == "START":  # Twilio treats YES as START: it may be a clinic enrollment's YES
            clinic_inbound.advanced_opt_in(sess, sub.as_of(state), body, now, line)
            if sub.texts_held:  # or what a call held for this number
                release_held(sess, sub.id, now)
        state = replace(state, last_seen=now)
    else:
        before = state if line.trials is None else line.trials.load(sess, sub.id, state, body)
        facts = _facts(sess, sub, now, line)
        lexicon = line.lexicon
        if line.reviews is not None:  # languages held back for review (service/reviews.py, policy off)
            lexicon, before = line.reviews.lexicon(line.lexicon), line.reviews.first_words(line.lexicon, before, body)
        turn = converse(before, body, now, line.tree, lexicon, expiry=line.expiry, facts=facts)
        state = turn.state
        if line.trials is not None:
            line.trials.save(sess, sub.id, before, state, now)
        apply_events(Applying(sess, line, sub.as_of(state), body, now, inbound), turn)
        replies = turn.replies
        if flooding(line, sub, state):
            # Keep the state and consent changes, drop the replies but the ones always sent.
            replies = tuple(r for r in replies if always_sent(r))
        # A language not offered (UNREVIEWED_LOCALES=off, not yet reviewed) gets English, and once a note.
        locale, texts = reply_locale(sess, line, sub.id, turn.state.locale, now) if replies else (turn.state.locale, [])
        for reply in replies:
            if reply.kind == "trials" and line.trials is not None:
                texts.extend(line.trials.texts(sess, reply, locale, now))  # a DB lookup
            else:
                texts.extend(line.renderer.render_all(reply, locale))

    # A safety reply (a red flag, or a "yes" right after one) is never taken for an auto-reply;
    # like any reply it stops after the same text got the same answer REPEATS times (an echo loop).
    safety_sent = inbound["red_flag"] is not None or any(r.kind == "safety" for r in turn.replies)
    if state.status != SubscriberStatus.OPTED_OUT and hold_back(
            sess, sub.id, body, texts, now - line.flood_window, red_flag=safety_sent, last_body=sub.last_body):
        texts = []  # an auto-responder, or a loop: the same text answered the same way already
    inbound["response"] = json.dumps(texts, ensure_ascii=False)
    store(sess, sub, state, inbound)  # the unique sid is checked here
    if line.recent is not None:
        confirmed = facts.clinic_sees or any(isinstance(e, ClinicConfirmed) for e in turn.events)
        line.recent.remember(phone, state, confirmed)
    return texts


def reply_locale(sess: Session, line: Line, subscriber_id: int, locale: str, now: datetime) -> tuple[str, list[str]]:
    """(the locale to answer in, notes to send first): English and, the first time, a note in the
    person's language when their language is not offered (service/reviews.py, policy off)."""
    if line.reviews is None or line.reviews.offered(locale):
        return locale, []
    notes = [line.renderer.render_text("locale_off_note", locale)] if take_notice(sess, subscriber_id, locale, now) else []
    return "en", notes
def _advanced_opt_out(sess: Session, subscriber_id: int, state: State, aoo: str, now: datetime) -> State:
    """Twilio Advanced Opt-Out already answered STOP or START (OptOutType): record the change, if any."""
    change = ADVANCED_OPT_OUT.get(aoo)
    if change is None or state.status == change[1]:
        return state
    record_consent(sess, subscriber_id, change[0], "twilio_advanced_opt_out", aoo, now)
    return replace(state, status=change[1])


def _inbound_row(sub: SubscriberRow, sid: str, body: str, now: datetime) -> dict:
    """The message log row of a text (its answer, topic and red flag are filled in as it is handled)."""
    return {"sid": sid, "subscriber_id": sub.id, "body": body, "received_at": now, "locale": sub.subscriber.locale,
            "channel": "sms", "topic": None, "red_flag": None, "red_flag_class": None}


def _facts(sess: Session, sub: SubscriberRow, now: datetime, line: Line) -> Facts:
    facts = clinic_inbound.facts(sess, sub.subscriber, now, line)
    return replace(facts, texts_held=True) if sub.texts_held else facts


def store(sess: Session, sub: SubscriberRow, state: State, inbound: dict) -> None:
    """Write the subscriber's changes (to `state`) and the inbound row (whose unique sid makes a
    repeated delivery fail here), after whatever handle_sms added through the ORM."""
    sess.flush()  # consent events, tasks, trials searches
    conn = sess.connection()
    changes = sub.changes(state)
    if changes is None:
        conn.execute(_INSERT_INBOUND, inbound)
    elif conn.dialect.name == "postgresql":
        params = {f"sub_{name}": value for name, value in changes.items()}
        conn.execute(_UPDATE_THEN_INSERT_INBOUND, {**inbound, **params, "row_id": sub.id, "sub_updated_at": utcnow()})
    else:
        conn.execute(_UPDATE_SUBSCRIBER, {"row_id": sub.id, **changes, "updated_at": utcnow()})
        conn.execute(_INSERT_INBOUND, inbound)


def fallback_texts(line: Line, phone: str, body: str, now: datetime) -> list[str]:
    """What to answer when the database cannot be reached (nothing here touches it).

    The engine runs on what this process last saw of the number (line.recent), so every rule
    holds as it would live: an opt-out is confirmed, an opted-out number hears nothing, a red
    flag gets its safety reply, a "yes" right after one gets it again. Everything else gets the
    apology, in the person's language where we can tell it. The text itself is spooled and
    recorded later by record_missed_sms.
    """
    recent = line.recent if line.recent is not None else RecentNumbers(0)
    state, clinic_sees = recent.get(phone)
    if state.locale not in line.renderer.enabled_locales:
        state = replace(state, locale="en")
    turn = converse(state, body, now, line.tree, line.lexicon, expiry=line.expiry,
                    facts=Facts(clinic_sees=clinic_sees))
    after = turn.state
    if line.recent is not None:
        # Keep what the engine decided about consent, language and safety; not the menu position.
        recent.remember(phone, replace(state, status=after.status, locale=after.locale, safety=after.safety,
                                       safety_at=after.safety_at), clinic_sees)
    if state.status == SubscriberStatus.OPTED_OUT and turn.state.status == SubscriberStatus.OPTED_OUT:
        return []  # silence, as live
    locale = turn.state.locale if turn.state.locale in line.renderer.enabled_locales else "en"
    kept = [line.renderer.render(r, locale) for r in turn.replies if always_sent(r)]  # the rest waits
    if not any(r.key == "stop_confirm" for r in turn.replies):
        kept.append(line.renderer.render_text("apology", locale))  # START too: the menu waits
    return kept


# On replay only what must not be lost is applied: consent changes the person asked for and red
# flags (their clinic's urgent task). First-contact consent is not: the person got the apology,
# not the welcome, so their next text is still their first contact.
def _replayed(event) -> bool:
    if isinstance(event, ConsentChanged):
        return event.source != "sms_first_contact"
    return isinstance(event, (RedFlag, HeldTextsConfirmed))  # YES to a call's texts: they go out


def record_missed_sms(sess: Session, line: Line, *, sid: str, phone: str, body: str, now: datetime,
                      answered: list[str], opt_out_type: str | None = None) -> bool:
    """Record a text that was answered by fallback_texts while the database was down.

    The engine runs on the stored state, as live; of what it decides, the consent changes the
    person asked for (or Twilio's OptOutType), red flags (the clinic's urgent task) and the
    safety window are applied, with the message log row holding the answer that was given. The
    menu position is left alone: the person was asked to try again. Returns False when the sid
    is stored already (replayed before, or redelivered live).
    """
    body = body.replace("\x00", "")[:1600]
    sub = lock_subscriber_row(sess, phone, sid, now - line.flood_window)
    if sub.previous is not None:
        return False
    inbound = {**_inbound_row(sub, sid, body, now), "response": json.dumps(answered, ensure_ascii=False)}
    state = sub.state
    aoo = (opt_out_type or "").strip().upper()
    if aoo in ADVANCED_OPT_OUT:
        state = _advanced_opt_out(sess, sub.id, state, aoo, now)
    else:
        facts = _facts(sess, sub, now, line)
        turn = converse(state, body, now, line.tree, line.lexicon, expiry=line.expiry, facts=facts)
        kept = Turn(turn.state, (), tuple(e for e in turn.events if _replayed(e)))
        if any(isinstance(e, ConsentChanged) for e in kept.events):
            state = replace(state, status=turn.state.status)
        state = replace(state, safety=turn.state.safety, safety_at=turn.state.safety_at)
        apply_events(Applying(sess, line, sub.as_of(state), body, now, inbound), kept)
    store(sess, sub, state, inbound)
    return True
