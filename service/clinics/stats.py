"""Numbers for a clinic's dashboard, always scoped to that clinic's own patients."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import ConsentEvent, Enrollment, EnrollmentMessage, InboundMessage, OutboundMessage

FINAL = ("delivered", "undelivered", "failed")


@dataclass
class Dashboard:
    days: int
    funnel: list[tuple[str, int]]  # (stage, count) in funnel order
    messages: dict[str, int]  # queue status -> count
    delivery_rate: float | None  # delivered / finished, None when nothing finished
    errors: list[tuple[str, int]]  # top error codes
    opt_outs: list[tuple[str, int]]  # (week starting, count)
    topics: dict[str, list[tuple[str, int]]]  # locale -> [(topic, count)], most asked first


def dashboard(sess: Session, clinic_id: int, now: datetime, days: int) -> Dashboard:
    since = now - timedelta(days=days)
    enrolled = sa.select(Enrollment.subscriber_id).where(Enrollment.clinic_id == clinic_id)

    rows = sess.execute(sa.select(Enrollment.status, Enrollment.confirmed_at.is_not(None), Enrollment.ended_reason)
                        .where(Enrollment.clinic_id == clinic_id, Enrollment.created_at >= since)).all()
    funnel = [
        ("enrolled", len(rows)),
        ("confirmed", sum(1 for _, confirmed, _r in rows if confirmed)),
        ("completed", sum(1 for status, _, _r in rows if status == "completed")),
        ("opted_out", sum(1 for _, _c, reason in rows if reason == "opted_out")),
        ("expired", sum(1 for status, _, _r in rows if status == "expired")),
    ]

    clinic_messages = (sa.select(OutboundMessage)
                       .join(EnrollmentMessage, EnrollmentMessage.message_id == OutboundMessage.id)
                       .join(Enrollment, Enrollment.id == EnrollmentMessage.enrollment_id)
                       .where(Enrollment.clinic_id == clinic_id, OutboundMessage.created_at >= since)
                       .subquery())
    messages = dict(sess.execute(sa.select(clinic_messages.c.status, sa.func.count())
                                 .group_by(clinic_messages.c.status)).all())
    finished = sum(messages.get(s, 0) for s in FINAL)
    rate = messages.get("delivered", 0) / finished if finished else None
    errors = [(code, n) for code, n in sess.execute(
        sa.select(clinic_messages.c.error_code, sa.func.count().label("n"))
        .where(clinic_messages.c.error_code.is_not(None))
        .group_by(clinic_messages.c.error_code).order_by(sa.desc("n"), clinic_messages.c.error_code).limit(5)).all()]

    stamps = sess.scalars(sa.select(ConsentEvent.created_at).where(
        ConsentEvent.kind == "opt_out", ConsentEvent.created_at >= since,
        ConsentEvent.subscriber_id.in_(enrolled))).all()
    weeks = Counter((t - timedelta(days=t.weekday())).date().isoformat() for t in stamps)
    opt_outs = sorted(weeks.items())

    topics: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for locale, topic, n in sess.execute(
        sa.select(InboundMessage.locale, InboundMessage.topic, sa.func.count().label("n"))
        .where(InboundMessage.topic.is_not(None), InboundMessage.received_at >= since,
               InboundMessage.subscriber_id.in_(enrolled))
        .group_by(InboundMessage.locale, InboundMessage.topic)
        .order_by(InboundMessage.locale, sa.desc("n"), InboundMessage.topic)
    ).all():
        topics[locale].append((topic, n))
    return Dashboard(days, funnel, messages, rate, errors, opt_outs, dict(topics))
