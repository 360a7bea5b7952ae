"""A number's subscriber row, found or created and locked for the rest of the transaction.

Below the conversation and the clinics alike: both lock a number before they change it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import Subscriber


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
