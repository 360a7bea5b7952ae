"""Was a doubtful attempt received by Twilio? Look at what Twilio holds for the number.

An attempt is doubtful when the worker died during the REST call or the call ended without an
answer (timeout, dropped connection, 5xx). Before any new attempt the worker asks Twilio for the
recent messages to that number and takes the one that is ours: same body, created while that
attempt could have been under way, from our sender (the sender filters that), and not already the
sid of another row. docs/outbound.md explains why this match and what risk remains.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .base import UNKNOWN, Found, SendError, SmsSender

CLOCK_SKEW = timedelta(minutes=5)  # between our clock and Twilio's


def lookup(sender: SmsSender, phone: str, started: datetime) -> tuple[list[Found], SendError | None]:
    """Twilio's messages to `phone` since the attempt began, or the error that prevented asking."""
    try:
        return sender.find(phone, started - CLOCK_SKEW), None
    except SendError as exc:
        return [], exc
    except Exception as exc:  # noqa: BLE001 - a failed lookup must never become a blind send
        return [], SendError(UNKNOWN, "lookup", type(exc).__name__)


def best_match(found: list[Found], *, body: str, started: datetime, timeout: timedelta,
               taken: set[str]) -> Found | None:
    """The message this attempt created, if Twilio has it (oldest first among equals)."""
    earliest, latest = started - CLOCK_SKEW, started + timeout + CLOCK_SKEW
    candidates = [f for f in found if f.body == body and f.sid not in taken and earliest <= f.created_at <= latest]
    return min(candidates, key=lambda f: (f.created_at, f.sid), default=None)
