"""How long a call's state is kept (the voice line's row per CallSid), and its clean-up."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import CallSession

# Twilio ends a call after 4 hours by default (24 at most): a call unheard from for a day is over.
CALL_MAX_AGE = timedelta(days=1)


def purge_calls(sess: Session, now: datetime) -> int:
    """Delete the state of calls that are over (nothing from Twilio for CALL_MAX_AGE); returns how
    many. What the callers asked stays in the message log (inbound_messages), which never needs it.
    A request for a purged call, should one ever come, starts the call afresh."""
    cutoff = now - CALL_MAX_AGE
    result = sess.execute(sa.delete(CallSession).where(CallSession.last_seen_at < cutoff)
                          .execution_options(synchronize_session=False))
    return result.rowcount
