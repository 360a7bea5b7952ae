"""The outbound queue's public face: enqueue a text, cancel everything pending for a number.

A text can also be "held": queued for a number that has not yet shown it is the person's (a call's
"press 9" from a caller ID not attested, service/calls/handoff.py). The worker sends only "queued"; a YES
by text from the number releases what is held (release_held), STOP cancels it.

The worker (service/worker.py) claims due rows and sends them; consent is checked again at
send time, so a row enqueued before a STOP is never sent after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import OutboundMessage
from .statuses import WAITING_MESSAGES, MessageStatus, SubscriberStatus
from .subscribers import SubscriberSnapshot

# What a caller asked for by pressing 9 (service/calls/handoff.py): a topic's texts, a trial list.
VOICE_HANDOFF, TRIALS_HANDOFF = "voice_handoff", "trials_handoff"
# Texts a call held until the number says YES by text. Clinic confirmations are held too
# (clinics/schedule.py: one confirmation out at a time), but released by their own rules.
CALL_HELD_SOURCES = (VOICE_HANDOFF, TRIALS_HANDOFF)
HELD_FOR = timedelta(days=1)  # a YES later than this releases nothing: the person may have moved on


def enqueue(sess: Session, sub: SubscriberSnapshot, body: str, *, dedupe_key: str, source: str,
            now: datetime, due_at: datetime | None = None, topic: str | None = None,
            held: bool = False) -> OutboundMessage | None:
    """Queue (or hold) one text unless the number opted out or the same dedupe_key exists already.

    Returns the row, or None when nothing was queued.
    """
    if sub.status == SubscriberStatus.OPTED_OUT:
        return None
    existing = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)).one_or_none()
    if existing is not None:
        return existing
    row = OutboundMessage(dedupe_key=dedupe_key, subscriber_id=sub.id, phone=sub.phone, locale=sub.locale,
                          body=body, source=source, topic=topic, status=MessageStatus.HELD if held else MessageStatus.QUEUED,
                          due_at=due_at or now, created_at=now)
    sess.add(row)
    sess.flush()
    return row


def cancel_pending(sess: Session, subscriber_id: int) -> int:
    """Cancel every queued or held text to a subscriber (STOP, 21610). Same transaction as the
    opt-out."""
    result = sess.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.subscriber_id == subscriber_id, OutboundMessage.status.in_(WAITING_MESSAGES))
        .values(status=MessageStatus.CANCELLED)
    )
    return result.rowcount or 0


def release_held(sess: Session, subscriber_id: int, now: datetime) -> int:
    """The number confirmed by text that it is the caller's: send what a call held for it (held
    within HELD_FOR; older is cancelled). Returns how many texts were released."""
    held = ((OutboundMessage.subscriber_id == subscriber_id) & (OutboundMessage.status == MessageStatus.HELD)
            & OutboundMessage.source.in_(CALL_HELD_SOURCES))
    released = sess.execute(sa.update(OutboundMessage).where(held, OutboundMessage.created_at >= now - HELD_FOR)
                            .values(status=MessageStatus.QUEUED, due_at=now).execution_options(synchronize_session=False))
    sess.execute(sa.update(OutboundMessage).where(held).values(status=MessageStatus.CANCELLED)
                 .execution_options(synchronize_session=False))
    return released.rowcount or 0
