"""What one clinic may see, for the portal and the API alike (issue 17).

- its own enrollments, each one's texts, and its own follow-up tasks (found by id only within
  the clinic: another clinic's id is as good as unknown);
- what a number did (its questions, its opt-outs) only while it was the clinic's confirmed
  patient: from the YES that confirmed an enrollment to the enrollment's end (`while_confirmed`);
- a text's status as a clinic may know it: "held" shows as queued (`visible_status`), since
  it would tell one clinic that another is enrolling the number.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Enrollment, EnrollmentMessage, FollowUpTask, OutboundMessage, Subscriber
from ..statuses import MessageStatus, TaskStatus
from . import MAX_ID


def enrollments(clinic_id: int, status: str | None = None) -> sa.Select:
    """(enrollment, phone) of the clinic's enrollments, newest first; of one status if given."""
    query = (sa.select(Enrollment, Subscriber.phone).join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
             .where(Enrollment.clinic_id == clinic_id).order_by(Enrollment.id.desc()))
    return query.where(Enrollment.status == status) if status else query


def status_counts(sess: Session, clinic_id: int) -> dict[str, int]:
    """How many of the clinic's enrollments have each status."""
    return dict(sess.execute(sa.select(Enrollment.status, sa.func.count())
                             .where(Enrollment.clinic_id == clinic_id).group_by(Enrollment.status)).all())


def own_enrollment(sess: Session, clinic_id: int, enrollment_id: int, *,
                   lock: bool = False) -> tuple[Enrollment, str] | None:
    """The clinic's enrollment with this id and its patient's number; None for an id of another
    clinic or none at all. `lock`: the enrollment row is locked until the transaction ends."""
    if not 1 <= enrollment_id <= MAX_ID:
        return None
    query = (sa.select(Enrollment, Subscriber.phone).join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
             .where(Enrollment.id == enrollment_id, Enrollment.clinic_id == clinic_id))
    if lock:
        query = query.with_for_update(of=Enrollment)
    row = sess.execute(query).one_or_none()
    return None if row is None else (row[0], row[1])


def enrollment_texts(sess: Session, enrollment: Enrollment) -> list[tuple[str, OutboundMessage]]:
    """(step, text) of every text queued for an enrollment (found with `own_enrollment`), by due time."""
    return [(step, message) for step, message in sess.execute(
        sa.select(EnrollmentMessage.step, OutboundMessage)
        .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
        .where(EnrollmentMessage.enrollment_id == enrollment.id)
        .order_by(OutboundMessage.due_at, OutboundMessage.id))]


def tasks(clinic_id: int, status: str) -> sa.Select:
    """(task, phone, patient label) of the clinic's follow-up tasks with this status."""
    return (sa.select(FollowUpTask, Subscriber.phone, Enrollment.patient_label)
            .join(Enrollment, Enrollment.id == FollowUpTask.enrollment_id)
            .join(Subscriber, Subscriber.id == Enrollment.subscriber_id)
            .where(FollowUpTask.clinic_id == clinic_id, FollowUpTask.status == status))


def open_task_count(sess: Session, clinic_id: int) -> int:
    return sess.scalar(sa.select(sa.func.count()).select_from(FollowUpTask).where(
        FollowUpTask.clinic_id == clinic_id, FollowUpTask.status == TaskStatus.OPEN)) or 0


def enrollment_tasks(sess: Session, clinic_id: int, enrollment_id: int) -> list[FollowUpTask]:
    """The clinic's tasks for one of its enrollments, newest first."""
    return list(sess.scalars(sa.select(FollowUpTask).where(
        FollowUpTask.enrollment_id == enrollment_id, FollowUpTask.clinic_id == clinic_id)
        .order_by(FollowUpTask.id.desc())))


def own_task(sess: Session, clinic_id: int, task_id: int) -> FollowUpTask | None:
    """The clinic's task with this id, locked until the transaction ends; None for another's."""
    if not 1 <= task_id <= MAX_ID:
        return None
    return sess.scalars(sa.select(FollowUpTask).where(
        FollowUpTask.id == task_id, FollowUpTask.clinic_id == clinic_id).with_for_update()).one_or_none()


def visible_status(status: str) -> str:
    """A queue status as a clinic's portal and API show it."""
    return MessageStatus.QUEUED.value if status == MessageStatus.HELD else status


def while_confirmed(clinic_id: int, subscriber_id: sa.ColumnElement, at: sa.ColumnElement) -> sa.Exists:
    """True for an event of a number at a moment when it was this clinic's confirmed patient:
    within [confirmed_at, ended_at] of one of the clinic's enrollments of it (an opt-out ends the
    enrollment at the opt-out's own moment, hence the closed interval). EXISTS, so a number
    enrolled twice over the years is never counted twice."""
    return sa.exists().where(
        Enrollment.clinic_id == clinic_id, Enrollment.subscriber_id == subscriber_id,
        Enrollment.confirmed_at.is_not(None), Enrollment.confirmed_at <= at,
        sa.or_(Enrollment.ended_at.is_(None), at <= Enrollment.ended_at))
