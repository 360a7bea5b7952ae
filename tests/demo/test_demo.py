"""`seed-demo` fills a living demo clinic (service/demo/): patients in several languages and
states, delivery reports, check-in answers and tasks, a fictional trials sample that answers
TRIALS 94110 by text and by call; idempotent; refused in production."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from service import create_app
from service.models import (Clinic, Enrollment, FollowUpTask, InboundMessage, OutboundMessage, TrialStudy,
                            TrialSync)
from tests.trials.test_voice import RESULT_PATH, post, says


def _seed(runner) -> str:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_clinic_is_alive(runner, db):
    out = _seed(runner)
    assert "demo data: 8 patients" in out and "4 trials" in out
    clinic = db.one(sa.select(Clinic))
    enrollments = db.all(sa.select(Enrollment).where(Enrollment.clinic_id == clinic.id))
    states = Counter(e.status for e in enrollments)
    assert states == {"active": 3, "completed": 2, "stopped": 1, "expired": 1, "awaiting_yes": 1}
    assert {e.locale for e in enrollments} >= {"en", "es", "vi", "ko", "zh-Hans"}
    assert all(e.patient_label for e in enrollments)
    assert [e.ended_reason for e in enrollments if e.status == "stopped"] == ["opted_out"]
    assert {e.checkin_answer for e in enrollments} >= {2, 3}

    statuses = Counter(m.status for m in db.all(sa.select(OutboundMessage)))
    assert statuses["delivered"] > 20 and statuses["undelivered"] >= 1 and statuses["queued"] >= 3
    bounced = db.all(sa.select(OutboundMessage).where(OutboundMessage.status == "undelivered"))
    assert {m.error_code for m in bounced} <= {"30003", "30005"}
    # The newest enrollment's confirmation is due now: the worker (make run) sends it.
    awaiting = next(e for e in enrollments if e.status == "awaiting_yes")
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboundMessage).where(
        OutboundMessage.subscriber_id == awaiting.subscriber_id, OutboundMessage.status == "queued")) == 1

    tasks = db.all(sa.select(FollowUpTask))
    assert sorted((t.kind, t.urgent) for t in tasks) == [("call_me", False), ("red_flag", True),
                                                        ("side_effects", False)]
    topics = {m.topic for m in db.all(sa.select(InboundMessage).where(InboundMessage.topic.is_not(None)))}
    assert len(topics) >= 5
    # Every number is fictional.
    assert all(m.phone[5:9] == "5550" for m in db.all(sa.select(OutboundMessage)))


def test_seed_demo_is_idempotent(runner, db):
    _seed(runner)
    before = (db.count(Enrollment), db.count(OutboundMessage), db.count(FollowUpTask), db.count(TrialStudy))
    assert "demo data: already there" in _seed(runner)
    assert (db.count(Enrollment), db.count(OutboundMessage), db.count(FollowUpTask), db.count(TrialStudy)) == before


def test_trials_94110_by_text_and_by_call(runner, twilio):
    _seed(runner)
    reply = twilio.sms("TRIALS 94110", from_="+14155550177")
    assert "DEMO-0001" in reply.text and "FICTIONAL-1" in reply.text and "not ready" not in reply.text
    spoken = says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110"))
    assert spoken[0].startswith("Recruiting trials within 50 miles of ZIP code 9 4 1 1 0: 4.")
    assert "fictional" in spoken[1].lower()


def test_a_real_sync_is_never_replaced_by_the_sample(runner, db, app):
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.add(TrialSync(status="ok", studies=0, sites=0))
    assert "0 trials" in _seed(runner)
    assert db.count(TrialStudy) == 0


def test_refused_in_production(database_url, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    app = create_app({"APP_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "x" * 40,
                      "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
                      "PUBLIC_BASE_URL": "https://line.example", "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
                      "METRICS_TOKEN": "m" * 32, "PROGRAM_CONTACT": "1-800-555-0199",
                      "SIMULATOR_ENABLED": False})
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code != 0 and "not in production" in result.output
        with app.extensions["db_sessionmaker"]() as sess:
            assert sess.scalar(sa.select(sa.func.count()).select_from(Clinic)) == 0
    finally:
        app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("locale", ["es"])
def test_spanish_patient_reads_spanish(runner, db, locale):
    _seed(runner)
    rows = db.all(sa.select(OutboundMessage).where(OutboundMessage.locale == locale))
    assert rows and all(r.body.startswith("MBC Guide") for r in rows)
