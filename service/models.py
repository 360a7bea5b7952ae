"""The data model: subscribers, consent history, message log, clinics.

Typed SQLAlchemy 2 models. Every change here needs an Alembic migration
(`make migration m="what changed"`); `alembic check` in the tests catches drift.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, utcnow
from .statuses import (LIVE_ENROLLMENTS, PENDING_MESSAGES, EnrollmentStatus, MessageStatus, SubscriberStatus,
                       SyncStatus, TaskStatus, sql_in)


class Subscriber(Base):
    """One phone number, with its language, consent status and menu position."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)  # E.164
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    status: Mapped[str] = mapped_column(sa.String(12), default=SubscriberStatus.NEW.value)  # SubscriberStatus
    menu_node: Mapped[str] = mapped_column(sa.String(12), default="main")
    menu_page: Mapped[int] = mapped_column(default=0)
    menu_topic: Mapped[str | None] = mapped_column(sa.String(40))
    menu_item: Mapped[int | None]
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The red-flag class of the last safety reply and when it went out (engine rule 3).
    safety: Mapped[str | None] = mapped_column(sa.String(12))
    safety_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    consent_events: Mapped[list[ConsentEvent]] = relationship(
        back_populates="subscriber", order_by="ConsentEvent.id"
    )

    __table_args__ = (
        sa.CheckConstraint(sql_in("status", SubscriberStatus), name="status"),
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
    """Each inbound text (sid: MessageSid, so a retry is answered identically) and each step of a
    call (sid: CallSid:step, channel "voice"), for the message log and the dashboard."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        # A number's texts by time: the flood count, its previous text, the loop check and the
        # message history all read this; also serves the foreign key.
        sa.Index("ix_inbound_messages_subscriber_received", "subscriber_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(sa.String(10), default="sms")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    topic: Mapped[str | None] = mapped_column(sa.String(40))  # topic asked about, for the dashboard
    red_flag: Mapped[str | None] = mapped_column(sa.String(40))  # the term that matched
    red_flag_class: Mapped[str | None] = mapped_column(sa.String(12))  # emergency | crisis | urgent
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
    # MessageStatus: queued -> sending -> sent -> delivered | undelivered | failed; or held, or cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default=MessageStatus.QUEUED.value, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(sa.String(32))  # which claim holds the lease
    send_timezone: Mapped[str | None] = mapped_column(sa.String(64))  # overrides the number's zone
    attempts: Mapped[int] = mapped_column(default=0)
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --- Clinics: staff, API tokens, enrollments in follow-up series (service/clinics/) ---------

from datetime import date  # noqa: E402 - appended section's own import


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class StaffUser(Base):
    """A clinic nurse, navigator or admin who signs in to the portal; or a program-level clinical
    reviewer (role "reviewer", no clinic: sees the review pages only, never patient data)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)  # stored lowercased
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(16), default="staff")  # clinic_admin | staff | reviewer
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every portal session cookie (PortalUser.get_id); sign-out and a password change
    # replace it, so every cookie issued before (copied ones too) stops working. NULL (a row made
    # by the release before this column) signs nobody in until the next sign-in sets it.
    session_token: Mapped[str | None] = mapped_column(sa.String(64), default=new_session_token)

    __table_args__ = (
        sa.CheckConstraint("role IN ('clinic_admin', 'staff', 'reviewer')", name="role"),
        # A reviewer belongs to the program, every other account to exactly one clinic.
        sa.CheckConstraint("(role = 'reviewer') = (clinic_id IS NULL)", name="role_clinic"),
    )


class LoginAttempt(Base):
    """Failed portal sign-ins, counted per email and IP address to throttle password guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    ip: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.Index("ix_login_attempts_email_ip_created", "email", "ip", "created_at"),
        sa.Index("ix_login_attempts_ip_created", "ip", "created_at"),  # the per-address throttle
    )


class ApiToken(Base):
    """A clinic's bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))  # first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Enrollment(Base):
    """One patient in one clinic's follow-up series. Nothing but the confirmation text is sent
    until the patient replies YES (double opt-in)."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    categories: Mapped[str] = mapped_column(sa.String(200))  # space-separated series categories
    locale: Mapped[str] = mapped_column(sa.String(10))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    start_date: Mapped[date] = mapped_column(sa.Date())
    status: Mapped[str] = mapped_column(sa.String(16), default=EnrollmentStatus.AWAITING_YES.value, index=True)
    source: Mapped[str] = mapped_column(sa.String(12), default="portal")  # portal | csv | api
    consent_attested_by: Mapped[str] = mapped_column(sa.String(254))  # who confirmed the patient agreed
    created_by: Mapped[str] = mapped_column(sa.String(254))  # staff:<email> | token:<prefix>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())  # unconfirmed enrollments lapse
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(sa.String(40))
    checkin_answer: Mapped[int | None]
    checkin_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optional, to tell patients apart in the portal (initials or a record number); only this
    # clinic sees it (never a name or diagnosis: the portal says so where it is entered).
    patient_label: Mapped[str | None] = mapped_column(sa.String(40))

    __table_args__ = (
        sa.CheckConstraint(sql_in("status", EnrollmentStatus), name="status"),
        # One live enrollment per patient per clinic: a double submit cannot enroll twice.
        sa.Index(
            "uq_enrollments_live", "clinic_id", "subscriber_id", unique=True,
            sqlite_where=sa.text(sql_in("status", LIVE_ENROLLMENTS)),
            postgresql_where=sa.text(sql_in("status", LIVE_ENROLLMENTS)),
        ),
    )


class EnrollmentMessage(Base):
    """Which queued text belongs to which enrollment step (the queue itself knows no clinics)."""

    __tablename__ = "enrollment_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbound_messages.id", ondelete="CASCADE"), unique=True)
    step: Mapped[str] = mapped_column(sa.String(40))  # confirm | catchup | <category>.<step> | checkin


class FollowUpTask(Base):
    """Something a clinic must act on: a check-in answer or a red-flag text from its patient."""

    __tablename__ = "follow_up_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # side_effects | call_me | red_flag
    urgent: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(sa.Text, default="")  # what the patient wrote
    red_flag_class: Mapped[str | None] = mapped_column(sa.String(12))  # emergency | crisis | urgent
    red_flag_words: Mapped[str | None] = mapped_column(sa.String(200))  # the words that said so
    status: Mapped[str] = mapped_column(sa.String(8), default=TaskStatus.OPEN.value, index=True)  # TaskStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(sa.String(254))

    __table_args__ = (sa.CheckConstraint(sql_in("status", TaskStatus), name="status"),)


class AuditLog(Base):
    """Who did what in a clinic (enroll, stop, close a task, sign in). Append-only. Program-level
    actions (a reviewer's sign-in, approvals, imports of approvals) have no clinic."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(40))
    enrollment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(sa.String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


# --- Clinical trials near me (issue 6; service/trials/) ---------------------------------------


class TrialStudy(Base):
    """A recruiting (or not yet recruiting) study from ClinicalTrials.gov, as of the last good sync."""

    __tablename__ = "trial_studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    nct_id: Mapped[str] = mapped_column(sa.String(16), unique=True)
    title: Mapped[str] = mapped_column(sa.String(400))  # brief title, English as registered
    phases: Mapped[str] = mapped_column(sa.String(60), default="")  # "PHASE2,PHASE3"
    overall_status: Mapped[str] = mapped_column(sa.String(30))
    subtypes: Mapped[str] = mapped_column(sa.String(40), default="")  # " HR+ HER2+ " (see trials/subtypes.py)
    acronym: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")  # "heredERA"
    interventions: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")  # "A + B"
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sites: Mapped[list[TrialSite]] = relationship(back_populates="study", cascade="all, delete-orphan",
                                                  passive_deletes=True)


class TrialSite(Base):
    """One location of a study. `status` is the site's recruitment status (the study's when absent)."""

    __tablename__ = "trial_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("trial_studies.id", ondelete="CASCADE"), index=True)
    facility: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    state: Mapped[str] = mapped_column(sa.String(60), default="")
    zip: Mapped[str] = mapped_column(sa.String(12), default="")
    country: Mapped[str] = mapped_column(sa.String(60), default="")
    status: Mapped[str] = mapped_column(sa.String(30), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    lat: Mapped[float | None] = mapped_column(sa.Float, index=True)
    lon: Mapped[float | None] = mapped_column(sa.Float)

    study: Mapped[TrialStudy] = relationship(back_populates="sites")


class TrialSync(Base):
    """One run of `flask trials sync`; the newest ok one (statuses.SyncStatus) says how fresh the data is."""

    __tablename__ = "trial_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=SyncStatus.RUNNING.value)  # statuses.SyncStatus
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    studies: Mapped[int] = mapped_column(default=0)
    sites: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")  # studies not stored (parse.skip_reason)
    skip_reasons: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")  # "reason: n; ..."
    error: Mapped[str] = mapped_column(sa.String(300), default="")


class TrialStaging(Base):
    """Studies fetched by a sync that is still paging; swapped into trial_studies in one transaction."""

    __tablename__ = "trial_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    sync_id: Mapped[int] = mapped_column(sa.ForeignKey("trial_syncs.id", ondelete="CASCADE"), index=True)
    nct_id: Mapped[str] = mapped_column(sa.String(16))
    data: Mapped[str] = mapped_column(sa.Text)  # the parsed study as JSON (trials/parse.py)


class TrialSearch(Base):
    """A subscriber's last TRIALS search, so TRIALS MORE can page on (engine State.trials_*)."""

    __tablename__ = "trial_searches"

    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
                                               primary_key=True)
    zip: Mapped[str | None] = mapped_column(sa.String(10))
    subtype: Mapped[str | None] = mapped_column(sa.String(8))
    page: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --- Voice line (issue 4; service/channels/voice.py) -------------------------------------------


class CallSession(Base):
    """One phone call to the voice line, keyed by Twilio's CallSid: language and menu position.

    Kept apart from Subscriber so a call never moves the caller's SMS menu; a subscriber's stored
    language only picks the call's language.
    """

    __tablename__ = "call_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164; None when caller ID is withheld
    locale: Mapped[str | None] = mapped_column(sa.String(10))  # None until a language is chosen
    # lang | main | topic | item | zip (typing a ZIP code) | zip_heard (its trials heard) | ended
    node: Mapped[str] = mapped_column(sa.String(12), default="lang")
    page: Mapped[int] = mapped_column(default=0)  # main-menu page, or language-menu page
    topic: Mapped[str | None] = mapped_column(sa.String(40))
    item: Mapped[int | None]
    retries: Mapped[int] = mapped_column(default=0)  # no input / invalid input in a row
    texts_sent: Mapped[int] = mapped_column(default=0)  # "press 9" hand-offs queued on this call
    trials_zip: Mapped[str | None] = mapped_column(sa.String(10))  # the ZIP searched, at node zip_heard
    # Twilio's StirVerstat was TN-Validation-Passed-A (full attestation): the caller ID is the
    # caller's own number, so "press 9" may send to it at once (service/calls/handoff.py).
    caller_verified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # "<class>:<clinic|nobody>" while the call is on a safety reply (said again for *, any key).
    safety: Mapped[str | None] = mapped_column(sa.String(20))
    # The last step answered (the ?step= of its URL) and the TwiML we answered it with: a Twilio
    # retry of that request gets the same answer instead of moving the call on twice.
    last_step: Mapped[int | None]
    last_reply: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- Outbound worker: attempts, shared rate limit (service/worker.py, docs/outbound.md) ---------

# Claiming scans only what may still be sent, in due order, however many sent rows pile up.
sa.Index("ix_outbound_messages_claim", OutboundMessage.due_at,
         sqlite_where=sa.text(sql_in("status", PENDING_MESSAGES)),
         postgresql_where=sa.text(sql_in("status", PENDING_MESSAGES)))


class OutboundAttempt(Base):
    """One REST call (or the intent to make one) for a queued text.

    Written and committed BEFORE the call, so a worker that dies mid-call leaves a "pending"
    attempt: the next worker reconciles it with Twilio instead of sending blind (docs/outbound.md).
    """

    __tablename__ = "outbound_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbound_messages.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1, 2, ...: also sent to Twilio in the StatusCallback URL (?o=<id>&a=<number>)
    # pending (call under way or worker died) | accepted | retry (never reached Twilio) |
    # unknown (may have reached Twilio) | rejected | found / lost (reconciled after pending/unknown)
    outcome: Mapped[str] = mapped_column(sa.String(10), default="pending")
    twilio_sid: Mapped[str | None] = mapped_column(sa.String(64))
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (sa.UniqueConstraint("message_id", "number", name="uq_outbound_attempts_message_number"),)


class SendRateBucket(Base):
    """A token bucket shared by every worker process: SEND_RATE_PER_SECOND holds across machines."""

    __tablename__ = "send_rate_buckets"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    tokens: Mapped[float] = mapped_column(sa.Float)
    refilled_at: Mapped[float] = mapped_column(sa.Float)  # Unix seconds (wall clock, not the app clock)


# --- Clinical review of the texts (issue 16; service/content/review.py) ----------------------


class ContentReview(Base):
    """One reviewer's decision on one text in one locale, bound to the words seen. Append-only.

    `hash` covers the key, the English source and the translation (review.text_hash): when either
    changes, the approval no longer matches and the text shows as "changed since approval". The
    words themselves are kept so a reviewer can see what changed.
    """

    __tablename__ = "content_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(120))
    hash: Mapped[str] = mapped_column(sa.String(64))
    decision: Mapped[str] = mapped_column(sa.String(20))  # approved | changes_requested
    reviewer: Mapped[str] = mapped_column(sa.String(254))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    english: Mapped[str] = mapped_column(sa.Text, default="")
    translation: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("decision IN ('approved', 'changes_requested')", name="decision"),
        sa.Index("ix_content_reviews_locale_key", "locale", "key", "id"),
    )


class LocaleNotice(Base):
    """A person was told once, in their language, that it is not offered yet (UNREVIEWED_LOCALES=off)."""

    __tablename__ = "locale_notices"

    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
