"""What an enrolled patient's texts mean to their clinic.

Called from service.conversation.handle_sms inside the webhook's transaction, with the
subscriber row locked:
- `intercept` runs before the conversation engine and answers a YES to the pending enrollment
  whose confirmation the person last received, and a check-in answer (1, 2, 3) while a
  check-in is open; anything else goes to the engine.
- `red_flag` runs after the engine and gives each clinic enrolling the patient an urgent task.
- `advanced_opt_in` confirms that enrollment when Twilio's Advanced Opt-Out already answered.
Most texts are neither, so the common case costs no query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..engine import keywords as kw
from ..models import Clinic, ConsentEvent, Enrollment, EnrollmentMessage, FollowUpTask, OutboundMessage, Subscriber
from .enroll import audit
from .schedule import activate, clinic_label, confirmed_by_yes, queue, release_held
from .series import load_series

CHECKIN_ANSWERS = {1: ("checkin_fine", None), 2: ("checkin_side", "side_effects"), 3: ("checkin_call", "call_me")}
SENT = ("sending", "sent", "delivered")


def intercept(sess: Session, sub: Subscriber, body: str, now: datetime, line) -> list[str] | None:
    """Reply texts when this message is for a clinic enrollment, else None (the engine answers)."""
    if sub.status == "opted_out":
        return None  # only the engine's START handling applies; their enrollments were stopped
    if line.lexicon.classify(body, sub.locale) == kw.OPT_IN:
        return _confirm(sess, sub, body, now, line)
    number = kw.choice_number(body)
    if number in CHECKIN_ANSWERS:
        return _checkin_answer(sess, sub, number, body, now, line)
    return None


def _activate(sess: Session, sub: Subscriber, enrollment: Enrollment, word: str, now: datetime, line) -> None:
    """Confirm this one enrollment (issue 17: a YES answers one clinic's question, never every
    pending one), then let the next clinic's held confirmation go out; it needs its own YES."""
    activate(sess, line.renderer.catalog, enrollment, sub, now)
    audit(sess, enrollment.clinic_id, "patient", "confirm", now, enrollment.id, "patient replied YES")
    sess.add(ConsentEvent(subscriber_id=sub.id, kind="opt_in", source="clinic_enrollment_yes",
                          detail=kw.normalize(word)[:80], channel="sms", created_at=now))
    sub.status = "active"
    sub.last_seen_at = now
    release_held(sess, sub.id, now)


def _confirm(sess: Session, sub: Subscriber, body: str, now: datetime, line) -> list[str] | None:
    enrollment = confirmed_by_yes(sess, sub.id, now)
    if enrollment is None:
        return None  # no confirmation reached them: an ordinary START/YES for the engine
    _activate(sess, sub, enrollment, body, now, line)
    sub.locale = enrollment.locale
    sub.menu_node, sub.menu_page, sub.menu_topic, sub.menu_item = "main", 0, None, None
    return [line.renderer.catalog.get(enrollment.locale, "series.welcome")]


def advanced_opt_in(sess: Session, sub: Subscriber, word: str, now: datetime, line) -> None:
    """Twilio answered the YES itself (OptOutType=START): confirm, and queue our welcome text."""
    enrollment = confirmed_by_yes(sess, sub.id, now)
    if enrollment is None:
        return
    _activate(sess, sub, enrollment, word, now, line)
    queue(sess, enrollment, sub, "welcome", line.renderer.catalog.get(enrollment.locale, "series.welcome"),
          now=now, topic="welcome")


# Built once: digits are the commonest text on the line, and most numbers have no enrollment,
# so the cheap existence check runs first and only enrolled patients pay for the join.
_ENROLLED = sa.select(Enrollment.id).where(Enrollment.subscriber_id == sa.bindparam("sub")).limit(1)
_SENT_AT = sa.func.coalesce(OutboundMessage.sent_at, OutboundMessage.due_at)
_OPEN_CHECKINS = (
    sa.select(Enrollment)
    .join(EnrollmentMessage, EnrollmentMessage.enrollment_id == Enrollment.id)
    .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
    .where(Enrollment.subscriber_id == sa.bindparam("sub"), Enrollment.status.in_(("active", "completed")),
           Enrollment.checkin_answer.is_(None), EnrollmentMessage.step == "common.checkin",
           OutboundMessage.status.in_(SENT), _SENT_AT >= sa.bindparam("since"), _SENT_AT <= sa.bindparam("now"))
    .order_by(Enrollment.id.desc())
)


def _open_checkins(sess: Session, sub: Subscriber, now: datetime) -> list[Enrollment]:
    """Enrollments whose check-in text went out recently and is not answered yet."""
    # The SMS path's SubscriberRow read this with the lock (service/conversation.py); else ask.
    enrolled = getattr(sub, "has_enrollment", None)
    if enrolled is None:
        enrolled = sess.execute(_ENROLLED, {"sub": sub.id}).first() is not None
    if not enrolled:
        return []
    since = now - timedelta(days=load_series().checkin_open_days)
    return list(sess.scalars(_OPEN_CHECKINS, {"sub": sub.id, "since": since, "now": now}))


def _checkin_answer(sess: Session, sub: Subscriber, number: int, body: str, now: datetime, line) -> list[str] | None:
    open_ = _open_checkins(sess, sub, now)
    if not open_:
        return None
    key, task_kind = CHECKIN_ANSWERS[number]
    for enrollment in open_:
        enrollment.checkin_answer = number
        enrollment.checkin_answered_at = now
        if task_kind:
            sess.add(FollowUpTask(clinic_id=enrollment.clinic_id, enrollment_id=enrollment.id, kind=task_kind,
                                  urgent=False, body=body[:500], status="open", created_at=now))
        audit(sess, enrollment.clinic_id, "patient", "checkin", now, enrollment.id, f"answered {number}")
    sub.last_seen_at = now
    clinic = sess.get(Clinic, open_[0].clinic_id)
    return [line.renderer.catalog.get(sub.locale, f"series.{key}", clinic=clinic_label(clinic))]


def red_flag(sess: Session, subscriber_id: int, body: str, term: str, now: datetime) -> int:
    """An urgent task for every clinic that has this patient in an active series."""
    enrollments = sess.scalars(sa.select(Enrollment).where(
        Enrollment.subscriber_id == subscriber_id, Enrollment.status == "active")).all()
    for enrollment in enrollments:
        sess.add(FollowUpTask(clinic_id=enrollment.clinic_id, enrollment_id=enrollment.id, kind="red_flag",
                              urgent=True, body=body[:500], status="open", created_at=now))
        audit(sess, enrollment.clinic_id, "patient", "red_flag", now, enrollment.id, f"red flag: {term}")
    return len(enrollments)
