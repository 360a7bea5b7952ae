"""A daily cap on texts to one number: at most OUTBOUND_DAILY_CAP_PER_NUMBER a local day.

Whatever queues them (a clinic series, a caller's "press 9", trials lists), no number gets more
texts a day than a person can want: a bug or a bad import must not become a flood on a
patient's phone. A text over the cap is deferred to the next local day (the sending window
then applies as usual), never dropped and never sent twice. Replies in TwiML (STOP and HELP
confirmations, safety replies) are not outbound texts and are never capped.

Counted: texts whose attempt began today (the number's local day) and reached or may have
reached Twilio (pending, accepted, unknown, found). The check runs in the same transaction
that records the attempts, with the subscribers locked (FOR UPDATE on PostgreSQL; SQLite's
BEGIN IMMEDIATE already serializes), so two workers cannot both send the last allowed text.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Iterable, Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import is_postgres
from ..models import OutboundAttempt, OutboundMessage, Subscriber

COUNTED = ("pending", "accepted", "unknown", "found")


class Capped(Protocol):
    id: int
    subscriber_id: int
    day_start: datetime | None  # the number's local midnight today, as an aware datetime
    next_day: datetime | None  # when an over-cap text goes instead


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """(today's local midnight, tomorrow's local midnight) in `zone`, as aware UTC datetimes."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def over_cap(sess: Session, jobs: Iterable[Capped], cap: int) -> dict[int, datetime]:
    """{message id: defer until} for the jobs that would take their number past `cap` today.

    Jobs are taken in order; each one under the cap counts towards the next for its number."""
    jobs = [j for j in jobs if j.day_start is not None]
    if cap <= 0 or not jobs:
        return {}
    subscribers = sorted({j.subscriber_id for j in jobs})
    if is_postgres(sess):  # in id order: two workers never wait on each other's locks crosswise
        sess.execute(sa.select(Subscriber.id).where(Subscriber.id.in_(subscribers))
                     .order_by(Subscriber.id).with_for_update())
    own = {j.id for j in jobs}
    since = min(j.day_start for j in jobs)
    a, m = OutboundAttempt, OutboundMessage
    rows = sess.execute(
        sa.select(m.subscriber_id, a.message_id, sa.func.min(a.started_at))
        .join(m, m.id == a.message_id)
        .where(m.subscriber_id.in_(subscribers), a.started_at >= since, a.outcome.in_(COUNTED))
        .group_by(m.subscriber_id, a.message_id)).all()
    starts = [(sub, message, started) for sub, message, started in rows if message not in own]
    used: dict[int, int] = {}
    deferred: dict[int, datetime] = {}
    for job in jobs:
        if job.subscriber_id not in used:  # today's count for this number
            used[job.subscriber_id] = sum(1 for sub, _m, started in starts
                                          if sub == job.subscriber_id and started >= job.day_start)
        if used[job.subscriber_id] >= cap:
            deferred[job.id] = job.next_day
        else:
            used[job.subscriber_id] += 1
    return deferred
