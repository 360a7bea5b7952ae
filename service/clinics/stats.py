"""Numbers for a clinic's dashboard, always scoped to that clinic's own patients.

A clinic learns what a number did only while that number was its confirmed patient: from the
YES that confirmed an enrollment to the enrollment's end (issue 17). Enrolling a number and
stopping it at once (its confirmation cancelled, never sent) shows the clinic nothing of what
the person asked, and a number shared with another clinic shows this clinic only its own
periods. The funnel's "enrolled" and "expired" stages count the clinic's own requests; every
figure about what the person did (confirmed, completed, opted out, topics) needs a YES.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ConsentEvent, Enrollment, EnrollmentMessage, FollowUpTask, InboundMessage, OutboundMessage
from ..statuses import FINAL_MESSAGES, EnrollmentStatus, MessageStatus
from .scope import visible_status, while_confirmed


@dataclass
class Dashboard:
    days: int
    funnel: list[tuple[str, int]]  # (stage, count) in funnel order
    messages: dict[str, int]  # queue status -> count
    delivery_rate: float | None  # delivered / finished, None when nothing finished
    errors: list[tuple[str, int]]  # top error codes
    opt_outs: list[tuple[str, int]]  # (week starting, count)
    topics: dict[str, list[tuple[str, int]]]  # locale -> [(topic, count)], most asked first, texts and calls
    channels: dict[str, dict[str, int]]  # locale -> {"sms": n, "voice": n}: where those questions came from
    red_flags: dict[str, dict[str, int]]  # red-flag class -> {locale: n}: this clinic's urgent tasks


def dashboard(sess: Session, clinic_id: int, now: datetime, days: int) -> Dashboard:
    since = now - timedelta(days=days)

    rows = sess.execute(sa.select(Enrollment.status, Enrollment.confirmed_at.is_not(None), Enrollment.ended_reason)
                        .where(Enrollment.clinic_id == clinic_id, Enrollment.created_at >= since)).all()
    funnel = [
        ("enrolled", len(rows)),
        ("confirmed", sum(1 for _, confirmed, _r in rows if confirmed)),
        (EnrollmentStatus.COMPLETED, sum(1 for status, _, _r in rows if status == EnrollmentStatus.COMPLETED)),
        ("opted_out", sum(1 for _, confirmed, reason in rows if confirmed and reason == "opted_out")),
        (EnrollmentStatus.EXPIRED, sum(1 for status, _, _r in rows if status == EnrollmentStatus.EXPIRED)),
    ]

    clinic_messages = (sa.select(OutboundMessage)
                       .join(EnrollmentMessage, EnrollmentMessage.message_id == OutboundMessage.id)
                       .join(Enrollment, Enrollment.id == EnrollmentMessage.enrollment_id)
                       .where(Enrollment.clinic_id == clinic_id, OutboundMessage.created_at >= since)
                       .subquery())
    messages: Counter = Counter()
    for status, n in sess.execute(sa.select(clinic_messages.c.status, sa.func.count())
                                  .group_by(clinic_messages.c.status)).all():
        messages[visible_status(status)] += n
    messages = dict(messages)
    finished = sum(messages.get(s, 0) for s in FINAL_MESSAGES)
    rate = messages.get(MessageStatus.DELIVERED, 0) / finished if finished else None
    errors = [(code, n) for code, n in sess.execute(
        sa.select(clinic_messages.c.error_code, sa.func.count().label("n"))
        .where(clinic_messages.c.error_code.is_not(None))
        .group_by(clinic_messages.c.error_code).order_by(sa.desc("n"), clinic_messages.c.error_code).limit(5)).all()]

    stamps = sess.scalars(sa.select(ConsentEvent.created_at).where(
        ConsentEvent.kind == "opt_out", ConsentEvent.created_at >= since,
        while_confirmed(clinic_id, ConsentEvent.subscriber_id, ConsentEvent.created_at))).all()
    weeks = Counter((t - timedelta(days=t.weekday())).date().isoformat() for t in stamps)
    opt_outs = sorted(weeks.items())

    topics, channels = _topics(sess, clinic_id, since)
    return Dashboard(days, funnel, messages, rate, errors, opt_outs, topics, channels,
                     red_flags(sess, clinic_id, since))


def red_flags(sess: Session, clinic_id: int, since: datetime) -> dict[str, dict[str, int]]:
    """Red flags by class and language: the clinic's own red-flag tasks, which exist only for
    patients confirmed with it at the time (service/clinics/inbound.py)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, locale, n in sess.execute(
        sa.select(FollowUpTask.red_flag_class, Enrollment.locale, sa.func.count())
        .join(Enrollment, Enrollment.id == FollowUpTask.enrollment_id)
        .where(FollowUpTask.clinic_id == clinic_id, FollowUpTask.kind == "red_flag",
               FollowUpTask.created_at >= since)
        .group_by(FollowUpTask.red_flag_class, Enrollment.locale)
    ).all():
        counts[kind or "urgent"][locale] = counts[kind or "urgent"].get(locale, 0) + n
    return dict(counts)


def _topics(sess: Session, clinic_id: int, since: datetime
            ) -> tuple[dict[str, list[tuple[str, int]]], dict[str, dict[str, int]]]:
    """Topics asked about per language, by text and on calls alike (a call logs each topic the
    caller heard, as a text does: service/calls/log.py), and how many came by each channel."""
    per_topic: dict[str, Counter] = defaultdict(Counter)
    per_channel: dict[str, Counter] = defaultdict(Counter)
    for locale, topic, channel, n in sess.execute(
        sa.select(InboundMessage.locale, InboundMessage.topic, InboundMessage.channel, sa.func.count())
        .where(InboundMessage.topic.is_not(None), InboundMessage.received_at >= since,
               while_confirmed(clinic_id, InboundMessage.subscriber_id, InboundMessage.received_at))
        .group_by(InboundMessage.locale, InboundMessage.topic, InboundMessage.channel)
    ).all():
        per_topic[locale][topic] += n
        per_channel[locale][channel] += n
    topics = {locale: sorted(counts.items(), key=lambda tn: (-tn[1], tn[0]))
              for locale, counts in sorted(per_topic.items())}
    return topics, {locale: dict(per_channel[locale]) for locale in topics}
