"""Calls in the message log: each topic a caller hears, a trials ZIP search, a red flag said aloud.

Texts are logged by the SMS webhook (service/conversation.py); this writes the same
`inbound_messages` rows for calls, with channel "voice", so the clinic dashboard and a number's
history count calls too. Checks that are about texts (the flood limit, auto-responder loops) read
channel "sms" only; SMS redelivery looks up a MessageSid, which no "CallSid:step" can equal.

Steps: every request of a call carries its number in the URL (`?step=N`, read and written by
service/channels/voice.py); the TwiML answering step N links every following request to step N+1.
Twilio retries a request with the very same URL, so "CallSid:N" names one request of one call: a
retry finds its row stored and writes nothing. A request without a step (the call's first, or TwiML
cached from before steps) is step 0.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..clinics import inbound as clinic_inbound
from ..conversation import subscriber_id_for
from ..db import insert_once
from ..engine import RedFlag
from ..models import InboundMessage, Subscriber

SID_LENGTH = 64  # inbound_messages.sid
_INSERT_ONCE = insert_once(InboundMessage, "sid")  # per dialect
_STATUS = sa.select(Subscriber.status).where(Subscriber.id == sa.bindparam("id"))


def step_sid(call_sid: str, step: int) -> str:
    """The message-log sid of one step of one call. Twilio's CallSids are 34 characters; one
    longer than the column leaves room for is shortened to a digest instead of being cut, which
    could make two calls one."""
    suffix = f":{step}"
    if len(call_sid) + len(suffix) > SID_LENGTH:
        call_sid = "CH" + hashlib.sha256(call_sid.encode("utf-8")).hexdigest()[:40]
    return call_sid + suffix


def record_step(sess: Session, *, call_sid: str, step: int, phone: str | None, locale: str, said: str,
                now: datetime, topic: str | None = None, red_flag: RedFlag | None = None,
                answer: Iterable[str] = (), note: str = "") -> None:
    """Log one step of a call, once: a retried request (same CallSid and step) writes nothing.

    `said` is what the caller pressed or said ("digit 2", "digits 94110", the speech), never
    more. The subscriber is found or created (not locked: the log only points at it), and its
    consent status is left alone: calling is not consent to texts. A withheld number is logged
    without a subscriber. `note` is added to a red flag's clinic task ("caller ID not verified").
    """
    subscriber_id = subscriber_id_for(sess, phone) if phone else None
    row = {"sid": step_sid(call_sid, step), "subscriber_id": subscriber_id, "channel": "voice",
           "body": said, "locale": locale, "topic": topic, "red_flag": red_flag.term[:40] if red_flag else None,
           "red_flag_class": red_flag.kind if red_flag else None,
           "response": json.dumps(list(answer), ensure_ascii=False), "received_at": now}
    # ON CONFLICT: belt and braces; two deliveries of one step wait on the call's row lock.
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that did nothing.
    conn = sess.connection()
    written = conn.execute(_INSERT_ONCE[conn.dialect.name], row).scalar_one_or_none() is not None
    if red_flag and subscriber_id is not None and written:
        # As for a text: an urgent task for every clinic with this patient in an active series
        # (once: a retried request wrote nothing above).
        status = sess.scalar(_STATUS, {"id": subscriber_id})
        clinic_inbound.red_flag(sess, subscriber_id, status, red_flag, said, now, note)
