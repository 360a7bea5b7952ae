"""The outbound queue's public face: enqueue a text, cancel everything pending for a number.

The worker (service/worker.py) claims due rows and sends them; consent is checked again at
send time, so a row enqueued before a STOP is never sent after it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import OutboundMessage, Subscriber

PENDING = ("queued", "sending")


def enqueue(sess: Session, sub: Subscriber, body: str, *, dedupe_key: str, source: str,
            now: datetime, due_at: datetime | None = None, topic: str | None = None) -> OutboundMessage | None:
    """Queue one text unless the number opted out or the same dedupe_key exists already.

    Returns the row, or None when nothing was queued.
    """
    if sub.status == "opted_out":
        return None
    existing = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)).one_or_none()
    if existing is not None:
        return existing
    row = OutboundMessage(dedupe_key=dedupe_key, subscriber_id=sub.id, phone=sub.phone, locale=sub.locale,
                          body=body, source=source, topic=topic, status="queued",
                          due_at=due_at or now, created_at=now)
    sess.add(row)
    sess.flush()
    return row


def cancel_pending(sess: Session, subscriber_id: int) -> int:
    """Cancel every queued (or held: clinics/schedule.py) text to a subscriber (STOP, 21610).
    Same transaction as the opt-out."""
    result = sess.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.subscriber_id == subscriber_id, OutboundMessage.status.in_(("queued", "held")))
        .values(status="cancelled")
    )
    return result.rowcount or 0
