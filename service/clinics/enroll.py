"""Enroll a patient, stop an enrollment: the rules both the portal and the API go through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..content.catalog import Catalog
from ..models import AuditLog, Clinic, Enrollment
from ..phones import InvalidPhone, known_zone, to_e164, zones_for
from ..statuses import LIVE_ENROLLMENTS, EnrollmentStatus, SubscriberStatus
from ..subscribers import SubscriberSnapshot, lock_subscriber
from .schedule import cancel_queued, queue_confirmation, release_held
from .series import load_series

PAST_LIMIT = timedelta(days=365)  # a start date further back is almost surely a typo
FUTURE_LIMIT = timedelta(days=90)


class EnrollmentError(ValueError):
    """A request that cannot become an enrollment. `code` is stable (API, portal translations)."""

    STATUS = {"duplicate": 409, "opted_out": 409}

    def __init__(self, code: str, field: str | None, message: str, **extra):
        super().__init__(message)
        self.code, self.field, self.message, self.extra = code, field, message, extra

    @property
    def http_status(self) -> int:
        return self.STATUS.get(self.code, 422)


@dataclass
class EnrollRequest:
    phone: str
    locale: str
    categories: list[str] = field(default_factory=list)
    start_date: date | None = None
    timezone: str | None = None  # None: derived from the number
    consent: bool = False  # staff confirm the patient agreed to get texts
    label: str | None = None  # optional: initials or a record number, seen only by this clinic


LABEL_MAX = 40


def guess_timezone(phone_e164: str, fallback: str) -> str:
    """The number's time zone when it is in exactly one, else the clinic's."""
    zones = zones_for(phone_e164)
    return zones[0] if len(zones) == 1 else fallback


def validate(req: EnrollRequest, *, locales: list[str], region: str, clinic_tz: str,
             now: datetime) -> tuple[str, list[str], str, date]:
    """Check the request alone (no database): (phone, categories, timezone, start date)."""
    if not req.consent:
        raise EnrollmentError("consent_required", "consent", "the patient must agree to get texts first")
    try:
        phone = to_e164(req.phone, region)
    except InvalidPhone:
        raise EnrollmentError("invalid_phone", "phone", "not a valid phone number") from None
    if req.locale not in locales:
        raise EnrollmentError("unknown_locale", "locale", f"unknown language {req.locale!r}",
                              allowed=locales)
    series = load_series()
    cats = list(dict.fromkeys(c.strip() for c in req.categories if c and c.strip()))
    unknown = [c for c in cats if c not in series.categories]
    if not cats or unknown:
        raise EnrollmentError("unknown_category", "categories",
                              f"unknown treatment category {unknown[0]!r}" if unknown else "choose a treatment category",
                              allowed=list(series.categories))
    tz = (req.timezone or "").strip() or guess_timezone(phone, clinic_tz)
    if not known_zone(tz):
        raise EnrollmentError("unknown_timezone", "timezone", f"unknown time zone {tz!r}")
    today = now.astimezone(ZoneInfo(tz)).date()
    start = req.start_date or today
    if not (today - PAST_LIMIT <= start <= today + FUTURE_LIMIT):
        raise EnrollmentError("bad_start_date", "start_date", "start date must be within the last year or next 90 days")
    if req.label is not None and len(req.label.strip()) > LABEL_MAX:
        raise EnrollmentError("label_too_long", "label", f"the patient label has at most {LABEL_MAX} characters")
    return phone, cats, tz, start


def audit(sess: Session, clinic_id: int, actor: str, action: str, now: datetime,
          enrollment_id: int | None = None, detail: str = "") -> None:
    sess.add(AuditLog(clinic_id=clinic_id, actor=actor, action=action, enrollment_id=enrollment_id,
                      detail=detail[:400], created_at=now))


def enroll(sess: Session, clinic: Clinic, req: EnrollRequest, *, actor: str, source: str, now: datetime,
           catalog: Catalog, locales: list[str], region: str) -> Enrollment:
    """Create an enrollment awaiting YES and queue its one confirmation text."""

    phone, cats, tz, start = validate(req, locales=locales, region=region, clinic_tz=clinic.timezone, now=now)
    # The same row lock the SMS webhook takes: a STOP arriving now is either before us (we see
    # opted_out) or after us (it stops this enrollment).
    sub = lock_subscriber(sess, phone)
    if sub.status == SubscriberStatus.OPTED_OUT:
        raise EnrollmentError("opted_out", "phone", "this number opted out; it can be enrolled after the patient texts START")
    existing = _live(sess, clinic.id, sub.id)
    if existing is not None:
        raise EnrollmentError("duplicate", "phone", "this patient is already enrolled", enrollment_id=existing.id)
    enrollment = Enrollment(
        clinic_id=clinic.id, subscriber_id=sub.id, categories=" ".join(cats), locale=req.locale, timezone=tz,
        start_date=start, status=EnrollmentStatus.AWAITING_YES, source=source, consent_attested_by=actor, created_by=actor,
        created_at=now, expires_at=now + timedelta(days=load_series().expire_days),
        patient_label=(req.label or "").strip() or None,
    )
    try:
        with sess.begin_nested():
            sess.add(enrollment)
    except IntegrityError:  # a concurrent request enrolled the same patient first
        raise EnrollmentError("duplicate", "phone", "this patient is already enrolled") from None
    if sub.status == SubscriberStatus.NEW:
        sub.locale = req.locale  # their first words from us are in the language the clinic chose
    queue_confirmation(sess, catalog, enrollment, clinic, SubscriberSnapshot.of(sub), now)
    audit(sess, clinic.id, actor, "enroll", now, enrollment.id,
          f"{source}; {' '.join(cats)}; {req.locale}; start {start.isoformat()}; patient agreement confirmed")
    return enrollment


def _live(sess: Session, clinic_id: int, subscriber_id: int) -> Enrollment | None:
    return sess.scalars(sa.select(Enrollment).where(
        Enrollment.clinic_id == clinic_id, Enrollment.subscriber_id == subscriber_id,
        Enrollment.status.in_(LIVE_ENROLLMENTS))).first()


def stop(sess: Session, enrollment: Enrollment, *, actor: str, now: datetime, reason: str = "stopped_by_clinic") -> bool:
    """Stop an enrollment and cancel its waiting texts. False when it had already ended."""
    if enrollment.status not in LIVE_ENROLLMENTS:
        return False
    was_pending = enrollment.status == EnrollmentStatus.AWAITING_YES
    enrollment.status = EnrollmentStatus.STOPPED
    enrollment.ended_at = now
    enrollment.ended_reason = reason
    cancelled = cancel_queued(sess, enrollment.id)
    audit(sess, enrollment.clinic_id, actor, "stop", now, enrollment.id, f"{reason}; {cancelled} texts cancelled")
    if was_pending:
        sess.flush()
        release_held(sess, enrollment.subscriber_id, now)  # another clinic's confirmation may go out now
    return True


def stop_all_for_subscriber(sess: Session, subscriber_id: int, now: datetime, source: str) -> int:
    """The number opted out (any channel, any locale, or Twilio's 21610): every clinic's live
    enrollment of it stops, in the opt-out's own transaction. Queued texts are cancelled by
    outbound.cancel_pending in the same transaction."""
    rows = sess.scalars(sa.select(Enrollment).where(
        Enrollment.subscriber_id == subscriber_id, Enrollment.status.in_(LIVE_ENROLLMENTS))).all()
    for enrollment in rows:
        enrollment.status = EnrollmentStatus.STOPPED
        enrollment.ended_at = now
        enrollment.ended_reason = "opted_out"
        audit(sess, enrollment.clinic_id, "patient", "opt_out", now, enrollment.id, f"patient opted out ({source})")
    return len(rows)
