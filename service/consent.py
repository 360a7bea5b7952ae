"""The consent history: every opt-in and opt-out, appended, never changed.

An opt-out also cancels every pending text and stops every clinic's series in the same
transaction. Used by the conversation, the voice line and delivery reports (Twilio's 21610).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .clinics.enroll import stop_all_for_subscriber
from .models import ConsentEvent
from .outbound import cancel_pending


def record_consent(sess: Session, subscriber_id: int, kind: str, source: str, detail: str,
                   now: datetime, channel: str = "sms") -> None:
    """Append to the consent history; an opt-out also cancels every pending text at once."""
    sess.add(ConsentEvent(subscriber_id=subscriber_id, kind=kind, source=source, detail=detail[:80],
                          channel=channel, created_at=now))
    if kind == "opt_out":
        cancel_pending(sess, subscriber_id)
        stop_all_for_subscriber(sess, subscriber_id, now, source)  # every clinic's series, same transaction
