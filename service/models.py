"""The data model: subscribers, consent history, message log, clinics.

Typed SQLAlchemy 2 models. Every change here needs an Alembic migration
(`make migration m="what changed"`); `alembic check` in the tests catches drift.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, utcnow


class Subscriber(Base):
    """One phone number, with its language, consent status and menu position."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)  # E.164
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    status: Mapped[str] = mapped_column(sa.String(12), default="new")  # new | active | opted_out
    menu_node: Mapped[str] = mapped_column(sa.String(12), default="main")
    menu_page: Mapped[int] = mapped_column(default=0)
    menu_topic: Mapped[str | None] = mapped_column(sa.String(40))
    menu_item: Mapped[int | None]
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    consent_events: Mapped[list[ConsentEvent]] = relationship(
        back_populates="subscriber", order_by="ConsentEvent.id"
    )

    __table_args__ = (
        sa.CheckConstraint("status IN ('new', 'active', 'opted_out')", name="status"),
    )


class ConsentEvent(Base):
    """Every opt-in and opt-out, kept as history (never updated or deleted)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # opt_in | opt_out
    source: Mapped[str] = mapped_column(sa.String(40))  # sms_keyword, twilio_advanced_opt_out, ...
    detail: Mapped[str] = mapped_column(sa.String(80), default="")  # keyword or message sid
    channel: Mapped[str] = mapped_column(sa.String(10), default="sms")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="consent_events")

    __table_args__ = (sa.CheckConstraint("kind IN ('opt_in', 'opt_out')", name="kind"),)


class InboundMessage(Base):
    """Each inbound webhook delivery, keyed by Twilio's sid so a retry is answered identically."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10), default="sms")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    topic: Mapped[str | None] = mapped_column(sa.String(40))  # topic asked about, for the dashboard
    red_flag: Mapped[str | None] = mapped_column(sa.String(40))
    response: Mapped[str] = mapped_column(sa.Text, default="")  # the TwiML we answered
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Clinic(Base):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="America/New_York")
    window_start_hour: Mapped[int] = mapped_column(default=9)
    window_end_hour: Mapped[int] = mapped_column(default=20)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboundMessage(Base):
    """The outbound queue: one row per text we intend to send, sent by the worker.

    `dedupe_key` is unique: the same logical message (an enrollment step, a voice hand-off) can
    be enqueued twice but exists once, so it is sent at most once.
    """

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    body: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(40))  # voice_handoff | enrollment | ...
    topic: Mapped[str | None] = mapped_column(sa.String(40))
    # queued -> sending -> sent -> delivered | undelivered | failed; or cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default="queued", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
