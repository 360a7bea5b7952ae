"""Enrollment status changes that follow from time and delivery, not from anyone's action.

`sweep` expires enrollments that never got a YES, fails those whose confirmation could not be
delivered, and completes those whose series has been sent. It is idempotent and cheap (a few
UPDATEs over indexed columns); the portal and API run it for the caller's clinic before showing
enrollments, and `flask --app service clinics sweep` runs it for every clinic (cron or worker).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Enrollment, EnrollmentMessage, OutboundMessage
from ..statuses import PENDING_MESSAGES, UNDELIVERED_MESSAGES, EnrollmentStatus, MessageStatus
from .schedule import cancel_queued, release_held

AWAITING_YES, ACTIVE = EnrollmentStatus.AWAITING_YES, EnrollmentStatus.ACTIVE


def sweep(sess: Session, now: datetime, clinic_id: int | None = None) -> dict[str, int]:
    scope = [Enrollment.clinic_id == clinic_id] if clinic_id is not None else []
    counts: dict[str, int] = {}  # how many enrollments took each status, then how many were released

    expired = sess.scalars(sa.select(Enrollment).where(
        *scope, Enrollment.status == AWAITING_YES, Enrollment.expires_at <= now)).all()
    for enrollment in expired:
        enrollment.status, enrollment.ended_at, enrollment.ended_reason = EnrollmentStatus.EXPIRED, now, "no_yes"
        cancel_queued(sess, enrollment.id)
    counts[EnrollmentStatus.EXPIRED] = len(expired)

    confirm_failed = (
        sa.select(EnrollmentMessage.enrollment_id)
        .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
        .where(EnrollmentMessage.step == "confirm", OutboundMessage.status.in_(UNDELIVERED_MESSAGES))
    )
    failed = sess.scalars(sa.select(Enrollment).where(
        *scope, Enrollment.status == AWAITING_YES, Enrollment.id.in_(confirm_failed))).all()
    for enrollment in failed:
        enrollment.status, enrollment.ended_at, enrollment.ended_reason = EnrollmentStatus.FAILED, now, "confirmation_undelivered"
    counts[EnrollmentStatus.FAILED] = len(failed)

    pending = (
        sa.select(EnrollmentMessage.enrollment_id)
        .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
        .where(OutboundMessage.status.in_(PENDING_MESSAGES))
    )
    done = sess.scalars(sa.select(Enrollment).where(
        *scope, Enrollment.status == ACTIVE, Enrollment.id.not_in(pending))).all()
    for enrollment in done:
        enrollment.status, enrollment.ended_at, enrollment.ended_reason = EnrollmentStatus.COMPLETED, now, "series_sent"
    counts[EnrollmentStatus.COMPLETED] = len(done)

    # A number whose confirmation just lapsed or failed, or one whose release was missed (a stop
    # racing another clinic's enroll), gets its next held confirmation queued.
    held = (sa.select(Enrollment.subscriber_id).distinct()
            .join(EnrollmentMessage, EnrollmentMessage.enrollment_id == Enrollment.id)
            .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
            .where(*scope, Enrollment.status == AWAITING_YES, OutboundMessage.status == MessageStatus.HELD))
    numbers = {e.subscriber_id for e in [*expired, *failed]}  # another clinic's may be held behind them
    if numbers:
        sess.flush()
    numbers |= set(sess.scalars(held))
    counts["released"] = sum(release_held(sess, sub_id, now) is not None for sub_id in sorted(numbers))
    return counts
