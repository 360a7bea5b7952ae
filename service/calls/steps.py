"""One request of a call, in one transaction: the voice webhook's one call into the service.

The call's row is locked first (a retry racing the original waits for it); a retried request
(Twilio sends the very same URL, so the same step) is answered from the row (`last_step`,
`last_reply`) and the call does not move twice; otherwise VoiceLine.take() answers the request's
event, and the reply is stored with the call's other changes, in one UPDATE when the transaction
ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..call_sessions import call_locale, lock_call
from ..db import transaction
from .flow import CallEvent, Outcome, VoiceLine


@dataclass(frozen=True)
class CallRequest:
    """One request of a call, as the voice webhook read it from Twilio's form and URL."""

    call_sid: str
    phone: str | None  # E.164; None when the number is withheld or not a phone number
    step: int  # the step its URL names (0: none, the call's first request or TwiML from before steps)
    verified: bool  # Twilio attested the caller ID fully (StirVerstat, service/calls/handoff.py)
    event: CallEvent


def answer_call(voice: VoiceLine, request: CallRequest, clock: Callable[[], datetime],
                reply_for: Callable[[Outcome], str]) -> str:
    """The reply to one request of a call: `reply_for(outcome)` (the webhook's TwiML), or the reply
    already given to this step. `clock` is read once the call's row is locked. Any error rolls the
    whole request back and is raised: the webhook apologizes."""
    with transaction() as sess:
        now = clock()
        call, created = lock_call(sess, request.call_sid, request.phone, now)
        if created:
            call.caller_verified = request.verified
        step = request.step
        if step and not created and call.last_step == step and call.last_reply:
            return call.last_reply
        reply = reply_for(voice.take(sess, call, created, request.event, now, step))
        if step:
            call.last_step, call.last_reply = step, reply
        return reply


def locale_of_call(call_sid: str) -> str | None:
    """The language a call is in, for an apology after its request failed (None when unknown,
    the database being perhaps what failed)."""
    try:
        with transaction() as sess:
            return call_locale(sess, call_sid)
    except Exception:
        return None
