"""Every status the service stores, defined once: an enrollment's, a queued text's, a subscriber's,
a trial sync's, a clinic task's.

The models' check constraints, the API's validation and OpenAPI enums, the portal's labels and
every query use these names; tests/test_statuses.py fails when a list of them is spelled out
anywhere else. The members are strings (StrEnum): they compare equal to what the database holds
and are stored, printed and sent as JSON as their plain value.

The groupings below are the rules, as tables: which enrollments are live, which texts are final.
"""

from __future__ import annotations

from enum import StrEnum

from .engine.conversation import ACTIVE as _ACTIVE
from .engine.conversation import NEW as _NEW
from .engine.conversation import OPTED_OUT as _OPTED_OUT


class EnrollmentStatus(StrEnum):
    """One patient in one clinic's series (service/clinics/): awaiting_yes -> active -> completed,
    or stopped (by the clinic, or STOP) / failed (confirmation undelivered) / expired (no YES)."""

    AWAITING_YES = "awaiting_yes"
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    EXPIRED = "expired"


# Still running: at most one per patient per clinic (a partial unique index), stoppable.
LIVE_ENROLLMENTS = (EnrollmentStatus.AWAITING_YES, EnrollmentStatus.ACTIVE)
# Ended before the series was sent: a text claimed for it meanwhile is not sent (service/worker.py).
ENDED_EARLY = frozenset({EnrollmentStatus.STOPPED, EnrollmentStatus.EXPIRED, EnrollmentStatus.FAILED})
# The patient said YES and the clinic sends (or sent) the series: a check-in may be open.
CONFIRMED_ENROLLMENTS = (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED)


class MessageStatus(StrEnum):
    """A queued text (service/outbound.py, service/messaging/delivery.py for the order):
    queued -> sending -> sent -> delivered | undelivered | failed; or held, or cancelled."""

    QUEUED = "queued"
    HELD = "held"  # waits for a YES (service/calls/handoff.py) or another clinic's answer (clinics/schedule.py)
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The worker may still send it: claimed from these (held ones wait to be released).
PENDING_MESSAGES = (MessageStatus.QUEUED, MessageStatus.SENDING)
# Waiting, so a STOP or a clinic's stop cancels it.
WAITING_MESSAGES = (MessageStatus.QUEUED, MessageStatus.HELD)
# Twilio's last word: nothing moves a text on from these.
FINAL_MESSAGES = frozenset({MessageStatus.DELIVERED, MessageStatus.UNDELIVERED, MessageStatus.FAILED})
# It did not reach the person.
UNDELIVERED_MESSAGES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
# In the person's hands, or maybe (sending: Twilio may have delivered before we marked it).
RECEIVED_MESSAGES = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED)
# In the person's hands or on its way.
IN_FLIGHT_MESSAGES = (MessageStatus.QUEUED, *RECEIVED_MESSAGES)


class SubscriberStatus(StrEnum):
    """A number's consent: the engine's State.status (service/engine/conversation.py)."""

    NEW = _NEW
    ACTIVE = _ACTIVE
    OPTED_OUT = _OPTED_OUT


class SyncStatus(StrEnum):
    """One run of `flask trials sync` (service/trials/sync.py): running -> ok | failed, or
    abandoned when it died without saying (older than STALE_RUN). The newest ok says how fresh
    the trial data is."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    ABANDONED = "abandoned"


class TaskStatus(StrEnum):
    """A clinic's follow-up task (a check-in answer, a red flag): open until staff close it."""

    OPEN = "open"
    CLOSED = "closed"


def sql_in(column: str, statuses) -> str:
    """"status IN ('a', 'b')": for check constraints and partial index conditions."""
    return f"{column} IN ({', '.join(repr(str(s)) for s in statuses)})"
