"""A number's subscriber row, found or created and locked for the rest of the transaction, and
the one shape the code below the webhooks reads a subscriber in (SubscriberSnapshot).

Below the conversation and the clinics alike: both lock a number before they change it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Subscriber


@dataclass(frozen=True, slots=True)
class SubscriberSnapshot:
    """A subscriber as of one moment of a transaction that holds its row lock: what queueing a
    text (service/outbound.py) and the clinics' handlers (service/clinics/) read of one.

    The SMS path reads it with Core in the statement that takes the lock (service/conversation.py,
    no ORM instance on the hot path); the voice line and enrolling from their ORM row (`of`).
    Frozen: whoever changes the subscriber takes a new snapshot after the change.
    """

    id: int
    phone: str
    locale: str
    status: str  # statuses.SubscriberStatus
    # Whether any clinic ever enrolled the number, when read with the lock (the SMS path: a number
    # no clinic enrolled then costs the clinics no query); None: not read, the clinics ask.
    has_enrollment: bool | None = None

    @classmethod
    def of(cls, sub: Subscriber) -> SubscriberSnapshot:
        return cls(sub.id, sub.phone, sub.locale, sub.status)


def lock_subscriber(sess: Session, phone: str) -> Subscriber:
    """The subscriber row for a number, created if new, locked until the transaction ends.

    PostgreSQL: SELECT ... FOR UPDATE, so two messages from one number at once run one after the
    other. SQLite: the transaction began with BEGIN IMMEDIATE, which already serializes writers.
    """
    query = _SUBSCRIBER_FOR_UPDATE
    sub = sess.scalars(query, {"phone": phone}).one_or_none()
    if sub is not None:
        return sub
    try:
        with sess.begin_nested():
            sub = Subscriber(phone=phone)
            sess.add(sub)
    except IntegrityError:
        # Another request created it between our select and insert; take theirs.
        sub = sess.scalars(query, {"phone": phone}).one()
    return sub


# Built once: constructing SQL expressions per request showed up in profiles.
_SUBSCRIBER_FOR_UPDATE = (
    sa.select(Subscriber).where(Subscriber.phone == sa.bindparam("phone")).with_for_update()
)
