"""A call's state (the voice line's row per CallSid): made and locked by each of the call's
requests, and deleted a day after the call is over."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .db import insert_once
from .engine.conversation import LANG_MENU
from .models import CallSession

# Twilio ends a call after 4 hours by default (24 at most): a call unheard from for a day is over.
CALL_MAX_AGE = timedelta(days=1)

_CALL_FOR_UPDATE = sa.select(CallSession).where(CallSession.call_sid == sa.bindparam("sid")).with_for_update()
# A call's first request makes its row without a SAVEPOINT (which cost about an eighth of a call's
# start); a concurrent duplicate start inserts nothing and reads the row the other made.
_INSERT_CALL_ONCE = insert_once(CallSession, "call_sid")  # per dialect
_CALL_LOCALE = sa.select(CallSession.locale).where(CallSession.call_sid == sa.bindparam("sid"))


def lock_call(sess: Session, call_sid: str, phone: str | None, now: datetime) -> tuple[CallSession, bool]:
    """The call's row, created on first sight (in the language menu), locked until the transaction
    ends; and whether this request created it."""
    call = sess.scalars(_CALL_FOR_UPDATE, {"sid": call_sid}).one_or_none()
    if call is not None:
        return call, False
    conn = sess.connection()
    inserted = conn.execute(_INSERT_CALL_ONCE[conn.dialect.name], {
        "call_sid": call_sid, "phone": phone, "node": LANG_MENU, "started_at": now, "last_seen_at": now}).first()
    return sess.scalars(_CALL_FOR_UPDATE, {"sid": call_sid}).one(), inserted is not None


def call_locale(sess: Session, call_sid: str) -> str | None:
    """The language a call is in, without locking it (None: not chosen yet, or no such call)."""
    return sess.scalar(_CALL_LOCALE, {"sid": call_sid})


def purge_calls(sess: Session, now: datetime) -> int:
    """Delete the state of calls that are over (nothing from Twilio for CALL_MAX_AGE); returns how
    many. What the callers asked stays in the message log (inbound_messages), which never needs it.
    A request for a purged call, should one ever come, starts the call afresh."""
    cutoff = now - CALL_MAX_AGE
    result = sess.execute(sa.delete(CallSession).where(CallSession.last_seen_at < cutoff)
                          .execution_options(synchronize_session=False))
    return result.rowcount
