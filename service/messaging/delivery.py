"""Delivery status of a queued text: one order for every source of news about it.

The worker learns "Twilio accepted it" from the REST response; Twilio's status callbacks then say
sent, delivered, undelivered or failed, possibly late, twice or out of order. Whatever the order,
a message only moves forward:

    queued < sending < sent < delivered | undelivered | failed   (the last three are final)

"sent" here means Twilio has the message (its own queued/accepted/sending/sent all map to it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..consent import record_consent
from ..db import transaction
from ..models import OutboundAttempt, OutboundMessage, Subscriber
from ..outbound import cancel_pending
from ..statuses import FINAL_MESSAGES, UNDELIVERED_MESSAGES, MessageStatus, SubscriberStatus

log = logging.getLogger(__name__)

S = MessageStatus
RANK = {S.CANCELLED: -1, S.QUEUED: 0, S.SENDING: 1, S.SENT: 2, S.DELIVERED: 3, S.UNDELIVERED: 3, S.FAILED: 3}
# Twilio's message statuses -> ours.
FROM_TWILIO = {
    "accepted": S.SENT, "scheduled": S.SENT, "queued": S.SENT, "sending": S.SENT, "sent": S.SENT,
    "delivered": S.DELIVERED, "read": S.DELIVERED,
    "undelivered": S.UNDELIVERED, "failed": S.FAILED, "canceled": S.FAILED,
}
OPTED_OUT = "21610"  # Twilio: "Attempt to send to unsubscribed recipient"


def ours(twilio_status: str) -> str | None:
    return FROM_TWILIO.get((twilio_status or "").strip().lower())


def advance(row: OutboundMessage, status: str, error_code: str | None = None) -> bool:
    """Move `row` forward to `status`; False (and no change) when that would be a step back."""
    if row.status in FINAL_MESSAGES or RANK[status] <= RANK.get(row.status, -1):
        return False
    row.status = status
    if status in UNDELIVERED_MESSAGES:
        row.error_code = error_code or row.error_code
    elif status == S.DELIVERED:
        row.error_code = None
    return True


def accepted(row: OutboundMessage, sid: str, twilio_status: str, now: datetime) -> None:
    """Twilio has this message under `sid` (REST response, reconciliation or callback)."""
    if row.twilio_sid not in (None, sid):
        # Two REST calls for one row both reached Twilio: record it loudly, keep the first sid.
        log.error("outbound %s reached Twilio twice (%s and %s)", row.id, row.twilio_sid, sid)
        return
    if row.twilio_sid is None and row.status in (S.FAILED, S.CANCELLED):
        # Our "failed"/"cancelled" was a guess made without Twilio's word: Twilio's wins.
        row.status = S.SENDING
        row.error_code = None
    row.twilio_sid = sid
    row.sent_at = row.sent_at or now
    advance(row, ours(twilio_status) or S.SENT)


def opt_out_from_21610(sess: Session, subscriber_id: int, detail: str, now: datetime) -> None:
    """Twilio says the number unsubscribed: the same opt-out as a STOP text, same transaction
    (consent history, every pending text cancelled, every clinic's enrollment stopped)."""

    sub = sess.scalars(sa.select(Subscriber).where(Subscriber.id == subscriber_id).with_for_update()).one()
    if sub.status == SubscriberStatus.OPTED_OUT:
        cancel_pending(sess, sub.id)  # already recorded; still make sure nothing is left queued
        return
    record_consent(sess, sub.id, "opt_out", "twilio_21610", detail, now)
    sub.status = SubscriberStatus.OPTED_OUT


def record_callback(sess: Session, *, sid: str, twilio_status: str, error_code: str | None,
                    message_id: int | None, attempt: int | None, now: datetime) -> str:
    """Apply one status callback. Returns what happened: updated | unchanged | unknown."""
    status = ours(twilio_status)
    row = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.twilio_sid == sid).with_for_update()).one_or_none()
    if row is None and message_id is not None:
        # The REST response never got committed (worker died, timed out): the callback URL
        # names the row and attempt, and Twilio signed that URL.
        row = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.id == message_id).with_for_update()).one_or_none()
        if row is None or attempt is None or not 1 <= attempt <= row.attempts:
            return "unknown"
        _note_attempt(sess, row.id, attempt, sid)
        if row.twilio_sid not in (None, sid):
            log.error("outbound %s: callback for a second copy %s (kept %s)", row.id, sid, row.twilio_sid)
            return "unchanged"
        accepted(row, sid, "queued", now)
    if row is None:
        return "unknown"
    changed = advance(row, status, error_code) if status else False
    if status == S.FAILED and error_code == OPTED_OUT:
        opt_out_from_21610(sess, row.subscriber_id, sid, now)
    return "updated" if changed else "unchanged"


def callback_received(*, sid: str, twilio_status: str, error_code: str | None, message_id: int | None,
                      attempt: int | None, clock: Callable[[], datetime]) -> str:
    """The status webhook's one call: record_callback in its own transaction (`clock` read once it
    began)."""
    with transaction() as sess:
        return record_callback(sess, sid=sid, twilio_status=twilio_status, error_code=error_code,
                               message_id=message_id, attempt=attempt, now=clock())


def _note_attempt(sess: Session, message_id: int, number: int, sid: str) -> None:
    sess.execute(sa.update(OutboundAttempt)
                 .where(OutboundAttempt.message_id == message_id, OutboundAttempt.number == number,
                        OutboundAttempt.outcome.in_(("pending", "unknown", "lost")))
                 .values(outcome="found", twilio_sid=sid))
