"""A living demo clinic for `flask seed-demo` (and so `make run`): development only.

Patients are enrolled, answer YES, ask about topics, answer the check-in, text a red flag or
STOP, through the same code a real clinic and a real patient go through (clinics.enroll.enroll,
conversation.handle_sms), at past times, so the dashboard, the tasks, each patient's delivery
status and the audit log all show a few weeks of life. Texts that came due meanwhile are marked
delivered the way Twilio's status callbacks would mark them (a few undelivered, with Twilio's
error codes). Every number is fictional (555-01xx) and on area codes the browser phone never
picks; the trials sample (trials.json) is fictional too and is loaded only while no real sync
has run, so `TRIALS 94110` answers by text and by call.

Idempotent: a clinic that already has the demo patients is left as it is.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask

from .. import db
from ..clinics.enroll import EnrollRequest, enroll
from ..clinics.lifecycle import sweep
from ..conversation import handle_sms
from ..models import Clinic, Enrollment, EnrollmentMessage, OutboundMessage, Subscriber, TrialSite, TrialStudy, TrialSync
from ..statuses import MessageStatus, SyncStatus
from ..trials.geo import zip_place
from ..trials.subtypes import encode

TRIALS_FILE = Path(__file__).with_name("trials.json")
ACTOR = "staff:nurse@demo-clinic.example"
# Twilio's delivery errors as a real clinic sees them: unreachable handset, unknown number.
DELIVERY_ERRORS = ("30003", "30005")


@dataclass(frozen=True)
class Patient:
    phone: str  # fictional, area codes the browser phone does not use (simulator.js AREAS)
    locale: str
    categories: tuple[str, ...]
    enrolled_days_ago: float
    label: str  # what the nurse wrote to tell patients apart (initials or a record number)
    # (days after enrollment, text) the patient sends; YES first for those who confirmed
    texts: tuple[tuple[float, str], ...] = ()


PATIENTS = (
    # Completed the series in Spanish; the check-in answer "2" became a side-effects task.
    Patient("+15105550101", "es", ("chemo",), 28, "A.R.", ((0.05, "SÍ"), (2, "MENU"), (2.01, "7"), (23, "2"))),
    # Active in Vietnamese on two treatments; asked about topics; texted a red flag (urgent task).
    Patient("+16505550102", "vi", ("hormone", "cdk46"), 19, "MRN 40112",
            ((0.1, "YES"), (1, "MENU"), (1.01, "2"), (4, "MENU"), (4.01, "3"), (17.5, "I have a fever and chills"))),
    # Opted out by texting STOP after a week.
    Patient("+15105550103", "en", ("her2",), 16, "T.K.", ((0.02, "YES"), (3, "MENU"), (3.01, "4"), (8, "STOP"))),
    # Active in English; the check-in answer "3" asks for a call.
    Patient("+16285550104", "en", ("adc",), 24, "S.M.", ((0.03, "YES"), (2, "MENU"), (2.01, "5"), (22, "3"))),
    # Never replied YES: expired.
    Patient("+16505550105", "zh-Hans", ("immuno",), 12, "L.W."),
    # Confirmed three days ago: texts are queued for the coming days.
    Patient("+15105550106", "en", ("hormone",), 3, "MRN 40178", ((0.2, "YES"), (1, "MENU"), (1.01, "2"),
                                                                  (1.02, "TRIALS 94110"))),
    # Enrolled two minutes ago in Spanish: the confirmation is due now (the worker sends it).
    Patient("+16285550107", "es", ("bone",), 2 / 1440, "R.G."),
    # Active in Korean.
    Patient("+15105550108", "ko", ("targeted",), 9, "J.P.", ((0.1, "YES"), (2, "MENU"), (2.01, "8"))),
)


def seed(app: Flask, clinic_name: str, now: datetime) -> dict[str, int]:
    """Fill the demo clinic; what was added (all zero when it was there already)."""
    added = {"patients": 0, "texts sent": 0, "trials": 0}
    line = app.extensions["line"]
    locales = [loc for loc in line.renderer.enabled_locales]
    with db.transaction() as sess:
        clinic = sess.scalars(sa.select(Clinic).where(Clinic.name == clinic_name)).one()
        clinic_id = clinic.id
        known = set(sess.scalars(sa.select(Subscriber.phone).join(Enrollment, Enrollment.subscriber_id == Subscriber.id)
                                 .where(Enrollment.clinic_id == clinic_id)))
    patients = [p for p in PATIENTS if p.phone not in known and p.locale in locales]
    added["trials"] = _trials(now)
    if not patients:
        return added
    events: list[tuple[datetime, Patient, str | None]] = []
    for p in patients:
        start = now - timedelta(days=p.enrolled_days_ago)
        events.append((start, p, None))
        events.extend((start + timedelta(days=after), p, body) for after, body in p.texts)
    for when, patient, body in sorted(events, key=lambda e: (e[0], e[1].phone)):
        added["texts sent"] += _deliver(when)
        with db.transaction() as sess:
            if body is None:
                clinic = sess.get(Clinic, clinic_id)
                enroll(sess, clinic, EnrollRequest(phone=patient.phone, locale=patient.locale,
                                                   categories=list(patient.categories),
                                                   start_date=_local_date(when, clinic.timezone),
                                                   consent=True, label=patient.label),
                       actor=ACTOR, source="portal", now=when, catalog=line.renderer.catalog, locales=locales,
                       region=app.config["DEFAULT_REGION"])
                added["patients"] += 1
            else:
                handle_sms(sess, line, sid="SMdemo" + uuid.uuid4().hex, phone=patient.phone, body=body, now=when)
    # Everything due until a few minutes ago went out; what is due now is left to the worker.
    added["texts sent"] += _deliver(now - timedelta(minutes=5))
    with db.transaction() as sess:
        sweep(sess, now, clinic_id)
    return added


def _local_date(when: datetime, tz: str) -> date:
    return when.astimezone(ZoneInfo(tz)).date()


def _deliver(until: datetime) -> int:
    """Queued texts due by `until` get the delivery report Twilio would have sent: delivered,
    except every fifth series text (never a confirmation or a check-in), which bounced."""
    with db.transaction() as sess:
        rows = sess.execute(sa.select(OutboundMessage, EnrollmentMessage.step)
                            .outerjoin(EnrollmentMessage, EnrollmentMessage.message_id == OutboundMessage.id)
                            .where(OutboundMessage.status == MessageStatus.QUEUED,
                                   OutboundMessage.due_at <= until)).all()
        for row, step in rows:
            row.attempts += 1
            row.sent_at = row.due_at
            row.twilio_sid = "SMdemo" + uuid.uuid4().hex
            if step and "." in step and not step.endswith("checkin") and row.id % 5 == 0:
                row.status, row.error_code = MessageStatus.UNDELIVERED, DELIVERY_ERRORS[row.id % 2]
            else:
                row.status = MessageStatus.DELIVERED
        return len(rows)


def _trials(now: datetime) -> int:
    """The fictional trials sample, unless trials were ever synced (real data is never replaced)."""
    with db.transaction() as sess:
        if sess.scalar(sa.select(TrialSync.id).limit(1)) is not None:
            return 0
        data = json.loads(TRIALS_FILE.read_text(encoding="utf-8"))
        sites = 0
        for raw in data["studies"]:
            study = TrialStudy(nct_id=raw["nct_id"], title=raw["title"], phases=raw["phases"],
                               acronym=raw.get("acronym", ""), interventions=raw.get("interventions", ""),
                               overall_status=raw["overall_status"], subtypes=encode(raw["subtypes"]),
                               synced_at=now)
            for site in raw["sites"]:
                place = zip_place(site["zip"])
                study.sites.append(TrialSite(facility=site["facility"], city=place.city, state=place.state,
                                             zip=place.zip, country="United States", status=raw["overall_status"],
                                             phone=site["phone"], lat=place.lat + site["nudge"][0],
                                             lon=place.lon + site["nudge"][1]))
                sites += 1
            sess.add(study)
        sess.add(TrialSync(status=SyncStatus.OK, started_at=now, finished_at=now, studies=len(data["studies"]), sites=sites,
                           error="demo sample (fictional), not ClinicalTrials.gov data"))
        return len(data["studies"])
