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
from .engine.keywords import Lexicon
from .engine.menu import MenuTree
from .models import ConsentEvent, InboundMessage, Subscriber
from .outbound import cancel_pending
from .clinics import inbound as clinic_inbound
from .clinics.enroll import stop_all_for_subscriber


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
_PREVIOUS_ANSWER = sa.select(InboundMessage.response).where(InboundMessage.sid == sa.bindparam("sid"))
_RECENT_INBOUND = (
    sa.select(sa.func.count())
    .select_from(InboundMessage)
    .where(InboundMessage.subscriber_id == sa.bindparam("sub"), InboundMessage.received_at > sa.bindparam("since"))
)


def flooding(sess: Session, line: Line, sub: Subscriber, now: datetime) -> bool:
    """True when this number already sent flood_limit texts within the window."""
    if sub.status == "new" or line.flood_limit <= 0:
        return False
    recent = sess.execute(_RECENT_INBOUND, {"sub": sub.id, "since": now - line.flood_window}).scalar_one()
    return recent >= line.flood_limit


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


ADVANCED_OPT_OUT = {"STOP": ("opt_out", "opted_out"), "START": ("opt_in", "active")}


def handle_sms(sess: Session, line: Line, *, sid: str, phone: str, body: str, now: datetime,
               opt_out_type: str | None = None) -> list[str]:
    """Answer one inbound SMS; returns the texts to send back (possibly none).

    Runs inside the caller's transaction. Raises IntegrityError when the same sid was stored
    concurrently: the caller rolls back and answers with previous_answer().
    """
    body = body.replace("\x00", "")[:1600]  # PostgreSQL text cannot hold NUL; Twilio caps at 1600
    sub = lock_subscriber(sess, phone)
    # Checked under the lock: a concurrent delivery of this sid has either committed (we see
    # it here) or will fail on the unique sid below.
    seen = previous_answer(sess, sid)
    if seen is not None:
        return seen
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
        turn = converse(before, body, now, line.tree, line.lexicon, expiry=line.expiry)
        apply_state(sub, turn.state)
        if line.trials is not None:
            line.trials.save(sess, sub, before, turn.state, now)
        for event in turn.events:
            if isinstance(event, ConsentChanged):
                record_consent(sess, sub, event.kind, event.source, event.keyword, now)
            elif isinstance(event, RedFlag):
                inbound["red_flag"] = event.term[:40]
                clinic_inbound.red_flag(sess, sub, body, event.term, now)
            elif isinstance(event, TopicViewed):
                inbound["topic"] = event.topic
            elif isinstance(event, LanguageChanged):
                inbound["locale"] = event.locale
        replies = turn.replies
        if flooding(sess, line, sub, now):
            # Keep the state and consent changes, drop the replies, except the one opt-out
            # confirmation (the law allows it and the person needs it).
            replies = tuple(r for r in replies if r.key in {"stop_confirm"})
        texts = []
        for reply in replies:
            if reply.kind == "trials" and line.trials is not None:
                texts.extend(line.trials.texts(sess, reply, turn.state.locale, now))  # a DB lookup
            else:
                texts.append(line.renderer.render(reply, turn.state.locale))

    inbound["response"] = json.dumps(texts, ensure_ascii=False)
    sess.flush()  # subscriber changes first
    sess.execute(sa.insert(InboundMessage), [inbound])  # the unique sid is checked here
    return texts
