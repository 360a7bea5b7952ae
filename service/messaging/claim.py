"""Claiming due texts with a lease, so any number of workers share the queue.

A claim is one short transaction: pick due rows (queued and due, or "sending" whose lease has
expired because its worker died), mark them "sending" with lease_until and a fresh lease_token,
commit. PostgreSQL skips rows another worker is claiming at that instant (FOR UPDATE SKIP
LOCKED); SQLite has one writer at a time (BEGIN IMMEDIATE), which serializes claims.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import is_postgres
from ..models import OutboundMessage
from ..statuses import PENDING_MESSAGES, MessageStatus


@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]


def claim(sess: Session, now: datetime, batch: int, lease: timedelta) -> Claim:
    """Lease up to `batch` due rows, oldest due first. The caller commits."""
    m = OutboundMessage
    due = sa.or_(
        sa.and_(m.status == MessageStatus.QUEUED, m.due_at <= now),
        sa.and_(m.status == MessageStatus.SENDING, m.lease_until < now),
    )
    # The status IN (...) repeats the partial index's predicate so the planner can use it.
    query = (sa.select(m.id).where(m.status.in_(PENDING_MESSAGES), due)
             .order_by(m.due_at, m.id).limit(batch))
    if is_postgres(sess):
        query = query.with_for_update(skip_locked=True)
    ids = list(sess.scalars(query))
    token = uuid.uuid4().hex
    if ids:
        sess.execute(sa.update(m).where(m.id.in_(ids))
                     .values(status=MessageStatus.SENDING, lease_until=now + lease, lease_token=token)
                     .execution_options(synchronize_session=False))
    return Claim(token, ids)


def release(sess: Session, token: str, ids: list[int]) -> int:
    """Give back rows this claim still holds and has not started (graceful shutdown)."""
    if not ids:
        return 0
    m = OutboundMessage
    result = sess.execute(sa.update(m).where(m.id.in_(ids), m.lease_token == token, m.status == MessageStatus.SENDING)
                          .values(status=MessageStatus.QUEUED, lease_until=None, lease_token=None)
                          .execution_options(synchronize_session=False))
    return result.rowcount or 0
