"""Turning an enrollment into queued texts: the confirmation, and after YES the series.

Every text is queued through service.outbound.enqueue with a dedupe key per (enrollment, step),
so enqueuing the same step twice (a repeated YES, a retried request) still sends it once. The
worker applies the sending window and re-checks consent at send time; here we only pick the day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..content.catalog import Catalog
from ..content.segments import count
from ..models import Clinic, Enrollment, EnrollmentMessage, OutboundMessage
from ..outbound import enqueue
from ..statuses import IN_FLIGHT_MESSAGES, RECEIVED_MESSAGES, WAITING_MESSAGES, EnrollmentStatus, MessageStatus
from ..subscribers import SubscriberSnapshot
from .series import Step, load_series

SEND_AT = time(10, 0)  # local time a series text is due; the worker defers it into the window
CLINIC_NAME_MAX = 36  # longer names are cut so the confirmation fits 3 segments in every script
TEXT_SEGMENTS = 3
NON_SERIES = ("confirm", "catchup", "welcome")  # an enrollment's texts that are not series steps
# A confirmation waiting for another clinic's to be answered (issue 17) is held: the worker claims
# only queued rows, so a held one is never sent until `release_held` queues it. Clinics see it as
# queued (clinics.scope.visible_status): "held" would tell one clinic that another is enrolling
# the number. One in flight (statuses.IN_FLIGHT_MESSAGES) has its YES still to come.


def categories_of(enrollment: Enrollment) -> list[str]:
    return enrollment.categories.split()


def clinic_label(clinic: Clinic) -> str:
    name = clinic.name.strip()
    return name if len(name) <= CLINIC_NAME_MAX else name[: CLINIC_NAME_MAX - 1].rstrip() + "."


def local_today(enrollment: Enrollment, now: datetime) -> date:
    return now.astimezone(ZoneInfo(enrollment.timezone)).date()


def due_on(enrollment: Enrollment, day: date, now: datetime) -> datetime:
    """SEND_AT on `day` in the patient's time zone, as UTC; never earlier than now."""
    local = datetime.combine(day, SEND_AT, tzinfo=ZoneInfo(enrollment.timezone))
    return max(now, local.astimezone(now.tzinfo))


def queue(sess: Session, enrollment: Enrollment, sub: SubscriberSnapshot, step: str, body: str, *,
          now: datetime, due_at: datetime | None = None, topic: str | None = None) -> OutboundMessage | None:
    """Queue one text of this enrollment (at most once per step) and link it to the enrollment."""
    key = f"enroll:{enrollment.id}:{step}" if step in NON_SERIES else f"enroll:{enrollment.id}:step:{step}"
    row = enqueue(sess, sub, body, dedupe_key=key, source="enrollment", now=now, due_at=due_at,
                  topic=topic or step)
    if row is None:
        return None
    row.locale = enrollment.locale  # the text is in the enrollment's language
    linked = sess.scalar(sa.select(EnrollmentMessage.id).where(EnrollmentMessage.message_id == row.id))
    if linked is None:
        sess.add(EnrollmentMessage(enrollment_id=enrollment.id, message_id=row.id, step=step))
        sess.flush()
    return row


def confirmation_text(catalog: Catalog, enrollment: Enrollment, clinic: Clinic) -> str:
    series = load_series()
    cats = categories_of(enrollment)
    return catalog.get(enrollment.locale, "series.confirm", clinic=clinic_label(clinic),
                       count=str(len(series.plan(cats))), weeks=str(series.weeks(cats)))


def _confirmations(subscriber_id: int, now: datetime, statuses: tuple[str, ...]) -> sa.Select:
    """A number's live (awaiting YES, not expired) enrollments whose confirmation has one of
    these statuses, with that confirmation."""
    return (sa.select(Enrollment, OutboundMessage)
            .join(EnrollmentMessage, EnrollmentMessage.enrollment_id == Enrollment.id)
            .join(OutboundMessage, OutboundMessage.id == EnrollmentMessage.message_id)
            .where(Enrollment.subscriber_id == subscriber_id, Enrollment.status == EnrollmentStatus.AWAITING_YES,
                   Enrollment.expires_at > now, EnrollmentMessage.step == "confirm",
                   OutboundMessage.status.in_(statuses)))


def queue_confirmation(sess: Session, catalog: Catalog, enrollment: Enrollment, clinic: Clinic,
                       sub: SubscriberSnapshot, now: datetime) -> OutboundMessage | None:
    """The one text before YES. Due now: the patient is usually still in the clinic.

    One confirmation at a time per number: while another clinic's is queued or unanswered, this
    one is held, so a YES always answers exactly one clinic's question (`confirmed_by_yes`)."""
    busy = sess.execute(_confirmations(sub.id, now, IN_FLIGHT_MESSAGES).where(Enrollment.id != enrollment.id)
                        .limit(1)).first() is not None
    row = queue(sess, enrollment, sub, "confirm", confirmation_text(catalog, enrollment, clinic),
                now=now, topic="confirm")
    if row is not None and busy and row.status == MessageStatus.QUEUED:
        row.status = MessageStatus.HELD
    return row


def confirmed_by_yes(sess: Session, subscriber_id: int, now: datetime) -> Enrollment | None:
    """The enrollment a YES from this number answers: the live one whose confirmation the person
    received last. None when no confirmation reached them (queued, held or cancelled ones do not
    count): the YES is then an ordinary opt-in keyword."""
    found = sess.execute(_confirmations(subscriber_id, now, RECEIVED_MESSAGES)
                         .order_by(sa.func.coalesce(OutboundMessage.sent_at, OutboundMessage.due_at).desc(),
                                   OutboundMessage.id.desc()).limit(1)).first()
    return found[0] if found else None


def release_held(sess: Session, subscriber_id: int, now: datetime) -> Enrollment | None:
    """Queue the oldest held confirmation of this number once no other is in flight (after a YES,
    a stop, an expiry or an undelivered confirmation). Its enrollment gets a full answer period
    from now. Returns the enrollment released, if any."""
    if sess.execute(_confirmations(subscriber_id, now, IN_FLIGHT_MESSAGES).limit(1)).first() is not None:
        return None
    found = sess.execute(_confirmations(subscriber_id, now, (MessageStatus.HELD,))
                         .order_by(Enrollment.id).limit(1)).first()
    if found is None:
        return None
    enrollment, message = found
    message.status, message.due_at = MessageStatus.QUEUED, now
    enrollment.expires_at = max(enrollment.expires_at, now + timedelta(days=load_series().expire_days))
    return enrollment


def catchup_text(catalog: Catalog, locale: str, categories: list[str]) -> str:
    """One recap instead of a burst; names as many of the treatments as fit the budget."""
    labels = [catalog.get(locale, f"topic.{cat}.label") for cat in categories]
    for n in range(len(labels), 0, -1):
        text = catalog.get(locale, "series.catchup", topics=", ".join(labels[:n]))
        if count(text).segments <= TEXT_SEGMENTS:
            return text
    return text


def activate(sess: Session, catalog: Catalog, enrollment: Enrollment, sub: SubscriberSnapshot, now: datetime) -> None:
    """YES received: mark active and queue the series.

    Steps whose day is already past (the treatment started before the enrollment) are not sent
    one by one: a single catch-up text replaces them. The check-in is never skipped; when its
    day has passed it comes two days from now.
    """
    series = load_series()
    cats = categories_of(enrollment)
    today = local_today(enrollment, now)
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.confirmed_at = now
    missed: list[Step] = []
    for step in series.plan(cats):
        day = enrollment.start_date + timedelta(days=step.day)
        if day < today:
            if not step.checkin:
                missed.append(step)
                continue
            day = today + timedelta(days=2)
        queue(sess, enrollment, sub, step.name, catalog.get(enrollment.locale, step.key),
              now=now, due_at=due_on(enrollment, day, now), topic=step.topic)
    if missed:
        queue(sess, enrollment, sub, "catchup", catchup_text(catalog, enrollment.locale, cats),
              now=now, topic="catchup")


def cancel_queued(sess: Session, enrollment_id: int) -> int:
    """Cancel this enrollment's texts that are still waiting (not those already being sent)."""
    ids = sa.select(EnrollmentMessage.message_id).where(EnrollmentMessage.enrollment_id == enrollment_id)
    result = sess.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id.in_(ids), OutboundMessage.status.in_(WAITING_MESSAGES))
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
