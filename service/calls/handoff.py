""""Press 9 to get this by text": the one place a call queues texts to its caller.

A topic, one of its parts or a trials list: each goes through hand_off(), which checks the
caller's number and opt-out, records first-contact consent and queues the welcome before the
first text, and counts the call's hand-offs in one place (call_sessions.texts_sent): a call asks
for at most MAX_TEXTS_PER_CALL things by text, whatever they are. Pressing 9 again for something
already queued on this call queues nothing and says "we will text this" again.

A caller ID can be spoofed, so a call is proof of nothing by itself. The texts go out at once only
when Twilio attested the caller ID fully (StirVerstat TN-Validation-Passed-A, stored on the call)
or the number already opted in by text. Otherwise the number gets one text asking it to reply YES
(once per call); what was asked for is held (service/outbound.py) until that YES, no consent is
recorded, and nothing about the number changes (a new number's language excepted, so that its
YES is answered in the call's language). A clinic's patient's language never changes on a call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..content.voice import MAX_TEXTS_PER_CALL
from ..consent import record_consent
from ..conversation import Line
from ..db import one_of
from ..models import CallSession, ConsentEvent, Enrollment, OutboundMessage, Subscriber
from ..outbound import VOICE_HANDOFF, enqueue
from ..statuses import LIVE_ENROLLMENTS, SubscriberStatus
from ..subscribers import SubscriberSnapshot, lock_subscriber

# What the caller hears back: a string name in messages/strings.toml.
TEXTED = "voice_texted"
LIMIT = "voice_text_limit"
OPTED_OUT = "voice_opted_out"
NO_NUMBER = "voice_no_text"

FULL_ATTESTATION = "TN-Validation-Passed-A"  # Twilio's StirVerstat for a caller ID the carrier vouches for
UNVERIFIED_NOTE = "caller ID not verified"  # on a clinic task from a call without full attestation

_QUEUED = sa.select(OutboundMessage.id).where(OutboundMessage.dedupe_key == sa.bindparam("key"))
_OPTED_IN_BY_TEXT = sa.select(ConsentEvent.id).where(
    ConsentEvent.subscriber_id == sa.bindparam("sub"), ConsentEvent.kind == "opt_in",
    ConsentEvent.channel == "sms").limit(1)
_CLINIC_ENROLLED = sa.select(Enrollment.id).where(
    Enrollment.subscriber_id == sa.bindparam("sub"), one_of(Enrollment.status, LIVE_ENROLLMENTS)).limit(1)


def clinic_patient(sess: Session, subscriber_id: int) -> bool:
    """Whether a clinic enrolled this number (a live enrollment: awaiting YES or active): its language is the clinic's
    and the patient's choice, which a call, perhaps from a spoofed caller ID, never changes."""
    return sess.scalar(_CLINIC_ENROLLED, {"sub": subscriber_id}) is not None


def number_proven(sess: Session, call: CallSession, sub: Subscriber) -> bool:
    """The caller ID is the caller's own: fully attested, or it opted in by text before."""
    if call.caller_verified:
        return True
    return sub.status == SubscriberStatus.ACTIVE and sess.scalar(_OPTED_IN_BY_TEXT, {"sub": sub.id}) is not None


def hand_off(sess: Session, line: Line, call: CallSession, *, what: str, source: str, topic: str,
             locale: str, texts: Callable[[], list[str]], now: datetime,
             menu: tuple[str, str | None, int | None] | None = None) -> str:
    """Queue `texts()` (called only when they will be sent) to the caller; returns what to say.

    `what` names the thing asked for on this call ("hormone:0", "94110"): its texts are queued
    once per call. `menu` (node, topic, item) is where a reply by text picks up, as after an SMS.
    """
    if not call.phone:
        return NO_NUMBER  # a withheld number hears the line but cannot get texts
    key = f"{source}:{call.call_sid}:{what}"
    if sess.scalar(_QUEUED, {"key": key}) is not None:
        return TEXTED  # pressed again (or Twilio retried): queued once
    if call.texts_sent >= MAX_TEXTS_PER_CALL:
        return LIMIT
    sub = lock_subscriber(sess, call.phone)
    if sub.status == SubscriberStatus.OPTED_OUT:
        return OPTED_OUT  # only START by text undoes a STOP
    bodies = texts()
    proven = number_proven(sess, call, sub)
    if (proven or sub.status == SubscriberStatus.NEW) and not clinic_patient(sess, sub.id):
        sub.locale = locale  # texts from now on in the call's language (a new number's YES reply too)
    if not proven:
        # One text (per call) asks the number to confirm; what was asked for waits for its YES.
        enqueue(sess, SubscriberSnapshot.of(sub), line.renderer.render_text("voice_optin", locale),
                dedupe_key=f"voice_optin:{call.call_sid}", source="voice_optin", now=now)
    elif sub.status == SubscriberStatus.NEW:
        # Pressing 9 on an attested call is the caller's own request for texts; the first text
        # says "not medical advice" and how to stop, as the first SMS reply does.
        record_consent(sess, sub.id, "opt_in", "voice_request", f"9 {what}", now, channel="voice")
        sub.status = SubscriberStatus.ACTIVE
        enqueue(sess, SubscriberSnapshot.of(sub), line.renderer.render_text("welcome", locale),
                dedupe_key=f"{VOICE_HANDOFF}:{call.call_sid}:welcome", source=source, now=now)
    to = SubscriberSnapshot.of(sub)
    for number, body in enumerate(bodies):
        enqueue(sess, to, body, dedupe_key=key if number == 0 else f"{key}:{number}", source=source,
                now=now, topic=topic, held=not proven)
    if proven:
        if menu is not None:
            sub.menu_node, sub.menu_topic, sub.menu_item = menu
            sub.menu_page = 0
        sub.last_seen_at = now
    call.texts_sent += 1
    return TEXTED
