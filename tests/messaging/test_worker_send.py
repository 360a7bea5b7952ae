"""The worker sends due texts through the twilio library to the fake Twilio REST API, once each,
re-checking consent at send time; claims are leased."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from service.messaging.claim import claim
from service.models import ConsentEvent, OutboundMessage
from tests.conftest import PUBLIC, TOKEN
from tests.support.outbound import (FROM, LA, NYC, app, attempts, callback_params, drain, fake, message,  # noqa: F401
                                    queue, statuses, subscriber, worker, worker_config)
from tests.support.twilio import ACCOUNT_SID


def test_a_due_text_is_sent_once_with_callback_and_sender(app, fake, clock):
    row_id = queue(app, LA, "Your first text about hormone therapy.")
    stats = drain(app)
    assert stats.sent == 1 and stats.claimed == 1

    [sent] = fake.created()
    assert sent["to"] == LA and sent["from"] == FROM and sent["body"] == "Your first text about hormone therapy."
    assert sent["_status_callback"].startswith(PUBLIC + "/twilio/status?")
    assert callback_params(sent["_status_callback"]) == {"o": str(row_id), "a": "1"}
    [request] = fake.requests
    assert request["form"]["StatusCallback"] == sent["_status_callback"]

    row = message(app, row_id)
    assert (row.status, row.twilio_sid, row.attempts, row.sent_at) == ("sent", sent["sid"], 1, clock())
    assert row.lease_until is None and row.lease_token is None
    [attempt] = attempts(app, row_id)
    assert (attempt.outcome, attempt.twilio_sid, attempt.number) == ("accepted", sent["sid"], 1)

    assert drain(app).claimed == 0  # nothing left: a second run sends nothing
    assert len(fake.created()) == 1


def test_basic_auth_is_what_the_fake_checks(app, fake):
    import requests

    url = f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    bad = requests.post(url, data={"To": LA, "From": FROM, "Body": "x"}, auth=(ACCOUNT_SID, "wrong"), timeout=5)
    assert bad.status_code == 401 and bad.json()["code"] == 20003
    good = requests.post(url, data={"To": LA, "From": FROM, "Body": "x"}, auth=(ACCOUNT_SID, TOKEN), timeout=5)
    assert good.status_code == 201 and good.json()["status"] == "queued"


def test_messaging_service_sid_replaces_from(app, fake):
    app.config["TWILIO_MESSAGING_SERVICE_SID"] = "MG" + "3" * 32
    app.extensions.pop("sms_sender", None)
    queue(app, LA, "hello")
    drain(app)
    [sent] = fake.created()
    assert sent["messaging_service_sid"] == "MG" + "3" * 32 and sent["from"] is None
    assert "From" not in fake.requests[0]["form"]


def test_texts_not_yet_due_wait(app, fake, clock):
    row_id = queue(app, LA, "later", due_at=clock() + timedelta(hours=2))
    assert drain(app).claimed == 0
    clock.advance(hours=2)
    assert drain(app).sent == 1
    assert message(app, row_id).status == "sent"


def test_consent_is_checked_at_send_time(app, fake, db):
    row_id = queue(app, LA, "queued before the STOP")
    # The number opts out after the text was queued, without cancelling the row (as if the STOP
    # landed between planning and sending): the worker must not send it.
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.text("UPDATE subscribers SET status = 'opted_out' WHERE phone = :p"), {"p": LA})
    stats = drain(app)
    assert stats.cancelled == 1 and stats.sent == 0
    assert message(app, row_id).status == "cancelled"
    assert fake.requests == []
    assert db.count(ConsentEvent) == 0  # nothing new recorded: the opt-out came from elsewhere


def test_opt_out_between_planning_and_the_call_cancels(app, fake, monkeypatch):
    """The consent check right before the REST call sees a STOP committed after planning."""
    from service import worker as worker_mod

    row_id = queue(app, LA, "still queued")
    original = worker_mod.Worker._begin_attempts

    def stop_then_begin(self, token, chunk):
        with app.extensions["db_sessionmaker"]() as sess, sess.begin():
            sess.execute(sa.text("UPDATE subscribers SET status = 'opted_out'"))
        return original(self, token, chunk)

    monkeypatch.setattr(worker_mod.Worker, "_begin_attempts", stop_then_begin)
    assert drain(app).cancelled == 1
    assert message(app, row_id).status == "cancelled" and fake.requests == []
    assert attempts(app, row_id) == []


def test_several_texts_in_due_order(app, fake, clock):
    queue(app, LA, "second", due_at=clock() - timedelta(minutes=1))
    queue(app, LA, "first", due_at=clock() - timedelta(minutes=5))
    queue(app, NYC, "third", due_at=clock())
    drain(app)
    assert [m["body"] for m in fake.created()] == ["first", "second", "third"]
    assert statuses(app) == {"sent": 3}


def test_a_leased_row_is_not_claimed_again_until_the_lease_expires(app, fake, clock):
    row_id = queue(app, LA, "leased")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        first = claim(sess, clock(), 10, timedelta(seconds=30))
    assert first.ids == [row_id]
    assert drain(app).claimed == 0  # another worker: the lease holds
    clock.advance(seconds=31)
    assert drain(app).sent == 1  # expired: reclaimable
    assert message(app, row_id).lease_token != first.token


def test_a_worker_that_lost_its_lease_cannot_start_a_call(app, fake, clock):
    from service.worker import Job

    row_id = queue(app, LA, "fenced")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        old = claim(sess, clock(), 10, timedelta(seconds=30))
    clock.advance(seconds=31)
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        new = claim(sess, clock(), 10, timedelta(seconds=30))
    assert new.ids == [row_id]
    w = worker(app)
    assert w._begin_attempts(old.token, [Job(row_id, LA, "fenced", subscriber(app, LA), 0)]) == []
    assert attempts(app, row_id) == [] and fake.requests == []


def test_console_backend_prints_masked(app, capsys):
    from service.messaging.console import ConsoleSender

    app.extensions["sms_sender"] = ConsoleSender()
    row_id = queue(app, LA, "Secret medical words")
    drain(app)
    out = capsys.readouterr().out
    assert "+1******0100" in out and LA not in out and "Secret" not in out
    assert message(app, row_id).status == "delivered"  # the terminal is its phone: the portal shows it delivered


def test_fake_backend_records(app):
    app.config["SMS_BACKEND"] = "fake"
    app.extensions.pop("sms_sender", None)
    queue(app, LA, "recorded")
    drain(app)
    assert app.extensions["sms_sender"].bodies_to(LA) == ["recorded"]


def test_rows_of_other_statuses_are_left_alone(app, fake, clock):
    ids = [queue(app, LA, f"row {i}") for i in range(3)]
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id == ids[0]).values(status="cancelled"))
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id == ids[1]).values(status="delivered"))
    assert drain(app).claimed == 1
    assert [m["body"] for m in fake.created()] == ["row 2"]


def _enrolled_row(app, body: str) -> tuple[int, int]:
    from datetime import date, datetime, timezone

    from service.models import Clinic, Enrollment, EnrollmentMessage

    row_id = queue(app, LA, body)
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        clinic = Clinic(name="North")
        sess.add(clinic)
        sess.flush()
        enrollment = Enrollment(clinic_id=clinic.id, subscriber_id=sess.get(OutboundMessage, row_id).subscriber_id,
                                categories="hormone", locale="en", timezone="America/Los_Angeles",
                                start_date=date(2026, 11, 1), status="active", consent_attested_by="x",
                                created_by="x", created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                                expires_at=datetime(2026, 11, 8, tzinfo=timezone.utc))
        sess.add(enrollment)
        sess.flush()
        sess.add(EnrollmentMessage(enrollment_id=enrollment.id, message_id=row_id, step="hormone.1"))
        return row_id, enrollment.id


def test_clinic_stopping_the_series_while_a_text_is_claimed_cancels_it(app, fake, clock, monkeypatch):
    """cancel_queued cannot reach a claimed ("sending") row; the worker checks before the call."""
    from service import worker as worker_mod
    from service.clinics.enroll import stop
    from service.models import Enrollment

    row_id, enrollment_id = _enrolled_row(app, "day 3 text")
    original = worker_mod.Worker._begin_attempts

    def clinic_stops_then_begin(self, token, chunk):
        with app.extensions["db_sessionmaker"]() as sess, sess.begin():
            assert stop(sess, sess.get(Enrollment, enrollment_id), actor="staff:n@x", now=clock())
        return original(self, token, chunk)

    monkeypatch.setattr(worker_mod.Worker, "_begin_attempts", clinic_stops_then_begin)
    assert drain(app).cancelled == 1
    assert message(app, row_id).status == "cancelled" and fake.requests == []


def test_a_row_of_an_ended_enrollment_is_not_sent(app, fake):
    from service.models import Enrollment

    row_id, enrollment_id = _enrolled_row(app, "expired series")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.get(Enrollment, enrollment_id).status = "expired"  # row left queued (no sweep yet)
    assert drain(app).cancelled == 1 and fake.requests == []
