"""What an enrolled patient's texts mean to their clinic: facts for the engine, and its events.

The conversation engine (service/engine/conversation.py) decides what a text means; this module
reads what the engine needs to know about a number's clinics (`facts`) and carries out the
engine's clinic events inside the webhook's transaction, with the subscriber row locked:
- `confirm`: YES to the enrollment whose confirmation the person received;
- `checkin_answer`: 1, 2 or 3 to an open check-in;
- `red_flag`: an urgent task, marked with its class, for each clinic that confirmed the patient;
- `advanced_opt_in`: confirms pending enrollments when Twilio's Advanced Opt-Out already answered.
A number no clinic enrolled costs no query.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..engine import Facts, RedFlag
from ..engine import keywords as kw
from ..db import one_of
from ..models import Clinic, ConsentEvent, Enrollment, EnrollmentMessage, FollowUpTask, OutboundMessage
from ..statuses import CONFIRMED_ENROLLMENTS, RECEIVED_MESSAGES, EnrollmentStatus, SubscriberStatus, TaskStatus
from ..subscribers import SubscriberSnapshot
from .enroll import audit
from .schedule import activate, clinic_label, confirmed_by_yes, queue, release_held
from .series import load_series

CHECKIN_ANSWERS = {1: ("checkin_fine", None), 2: ("checkin_side", "side_effects"), 3: ("checkin_call", "call_me")}


def _activate(sess: Session, sub: SubscriberSnapshot, enrollment: Enrollment, word: str, now: datetime,
              line) -> None:
    """Confirm this one enrollment (issue 17: a YES answers one clinic's question, never every
    pending one), then let the next clinic's held confirmation go out; it needs its own YES.
    (The number itself is active already: the engine's ClinicConfirmed, or Twilio's START.)"""
    activate(sess, line.renderer.catalog, enrollment, sub, now)
    audit(sess, enrollment.clinic_id, "patient", "confirm", now, enrollment.id, "patient replied YES")
    sess.add(ConsentEvent(subscriber_id=sub.id, kind="opt_in", source="clinic_enrollment_yes",
                          detail=kw.normalize(word)[:80], channel="sms", created_at=now))
    release_held(sess, sub.id, now)


def _enrolled(sess: Session, sub: SubscriberSnapshot) -> bool:
    """Whether any clinic ever enrolled the number: read with the SMS path's row lock, else asked."""
    if sub.has_enrollment is not None:
        return sub.has_enrollment
    return sess.execute(_ENROLLED, {"sub": sub.id}).first() is not None


def facts(sess: Session, sub: SubscriberSnapshot, now: datetime, line) -> Facts:
    """What the engine must know about this number's clinics (nothing when none enrolled it)."""
    if not _enrolled(sess, sub):
        return Facts()
    pending = confirmed_by_yes(sess, sub.id, now)
    open_ = _open_checkins(sess, sub, now)
    checkin_clinic = clinic_label(sess.get(Clinic, open_[0].clinic_id)) if open_ else None
    return Facts(clinic_pending_locale=pending.locale if pending else None, checkin_clinic=checkin_clinic,
                 clinic_sees=clinic_sees(sess, sub.id, sub.status))


def clinic_sees(sess: Session, subscriber_id: int, status: str | None) -> bool:
    """Whether a red flag from this number makes a clinic task (so the reply may say so)."""
    return bool(_red_flag_targets(sess, subscriber_id, status))


def confirm(sess: Session, sub: SubscriberSnapshot, word: str, now: datetime, line) -> None:
    """The engine's ClinicConfirmed: activate the enrollment whose confirmation the person last
    received (its reply and the state change are the engine's)."""
    enrollment = confirmed_by_yes(sess, sub.id, now)
    if enrollment is not None:
        _activate(sess, sub, enrollment, word, now, line)


def advanced_opt_in(sess: Session, sub: SubscriberSnapshot, word: str, now: datetime, line) -> None:
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
    .where(Enrollment.subscriber_id == sa.bindparam("sub"), one_of(Enrollment.status, CONFIRMED_ENROLLMENTS),
           Enrollment.checkin_answer.is_(None), EnrollmentMessage.step == "common.checkin",
           one_of(OutboundMessage.status, RECEIVED_MESSAGES), _SENT_AT >= sa.bindparam("since"), _SENT_AT <= sa.bindparam("now"))
    .order_by(Enrollment.id.desc())
)


def _open_checkins(sess: Session, sub: SubscriberSnapshot, now: datetime) -> list[Enrollment]:
    """Enrollments whose check-in text went out recently and is not answered yet."""
    if not _enrolled(sess, sub):
        return []
    since = now - timedelta(days=load_series().checkin_open_days)
    return list(sess.scalars(_OPEN_CHECKINS, {"sub": sub.id, "since": since, "now": now}))


def checkin_answer(sess: Session, sub: SubscriberSnapshot, number: int, body: str, now: datetime) -> None:
    """The engine's CheckinAnswered: record the answer; 2 and 3 make a task for the clinic."""
    _, task_kind = CHECKIN_ANSWERS[number]
    for enrollment in _open_checkins(sess, sub, now):
        enrollment.checkin_answer = number
        enrollment.checkin_answered_at = now
        if task_kind:
            sess.add(FollowUpTask(clinic_id=enrollment.clinic_id, enrollment_id=enrollment.id, kind=task_kind,
                                  urgent=False, body=body[:500], status=TaskStatus.OPEN, created_at=now))
        audit(sess, enrollment.clinic_id, "patient", "checkin", now, enrollment.id, f"answered {number}")


def _red_flag_targets(sess: Session, subscriber_id: int, status: str | None) -> list[Enrollment]:
    """The enrollments whose clinic must hear of a red flag: each one the patient confirmed and
    is still in; after an opt-out (which stopped them), the ones it stopped: the clinic still
    cares for the patient though the line may no longer text them (medical.md section 6)."""
    live = Enrollment.status == EnrollmentStatus.ACTIVE
    if status == SubscriberStatus.OPTED_OUT:
        live = sa.or_(live, sa.and_(Enrollment.status == EnrollmentStatus.STOPPED, Enrollment.ended_reason == "opted_out"))
    return list(sess.scalars(sa.select(Enrollment).where(
        Enrollment.subscriber_id == subscriber_id, Enrollment.confirmed_at.is_not(None), live)
        .order_by(Enrollment.id)))


def red_flag(sess: Session, subscriber_id: int, status: str | None, flag: RedFlag, body: str, now: datetime,
             note: str = "") -> int:
    """An urgent task, marked with the red flag's class and words, for every clinic that must
    hear of it (_red_flag_targets); returns how many. `note` is added to the task (e.g. that a
    caller's number was not verified)."""
    enrollments = _red_flag_targets(sess, subscriber_id, status)
    for enrollment in enrollments:
        sess.add(FollowUpTask(clinic_id=enrollment.clinic_id, enrollment_id=enrollment.id, kind="red_flag",
                              urgent=True, body=(body + (f" [{note}]" if note else ""))[:500], status=TaskStatus.OPEN,
                              created_at=now, red_flag_class=flag.kind, red_flag_words=flag.words[:200]))
        audit(sess, enrollment.clinic_id, "patient", "red_flag", now, enrollment.id,
              f"red flag ({flag.kind}): {flag.term}")
    return len(enrollments)
