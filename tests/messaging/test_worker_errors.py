"""Twilio errors: 429 retried with backoff; 5xx, timeouts and dropped connections looked up before
any retry (they may have reached Twilio); 21610 opts the number out everywhere; 21211, 21614 and
other 4xx fail the text with its code."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from service.models import ConsentEvent, Enrollment, EnrollmentMessage, Clinic, OutboundMessage, Subscriber
from tests.fake_twilio import drop, error, server_error, slow, too_many
from tests.support.outbound import (LA, NYC, app, attempts, drain, fake, message, queue, statuses,  # noqa: F401
                                    worker_config)

UNSUBSCRIBED = "+15005550004"  # Twilio test number: 21610


def outcomes(app, row_id):
    return [(a.outcome, a.error_code) for a in attempts(app, row_id)]


def test_429_is_retried_with_exponential_backoff_then_sent(app, fake, clock):
    row_id = queue(app, LA, "busy")
    fake.script_to(LA, too_many(), times=2)
    start = clock()
    drain(app)
    row = message(app, row_id)
    assert (row.status, row.attempts, row.error_code) == ("queued", 1, "20429")
    assert timedelta(seconds=30) <= row.due_at - start <= timedelta(seconds=33)  # base + <=10% jitter
    assert fake.lookups == []  # a 429 was never processed: no need to look anything up

    clock.current = row.due_at
    drain(app)
    row = message(app, row_id)
    assert row.attempts == 2 and timedelta(seconds=60) <= row.due_at - clock() <= timedelta(seconds=66)
    clock.current = row.due_at
    assert drain(app).sent == 1
    assert outcomes(app, row_id) == [("retry", "20429"), ("retry", "20429"), ("accepted", None)]
    assert len(fake.created()) == 1 and message(app, row_id).status == "sent"


def test_429_until_max_attempts_fails(app, fake, clock):
    row_id = queue(app, LA, "never gets through")
    fake.script_to(LA, too_many())
    for _ in range(4):
        drain(app)
        clock.advance(hours=1)
    row = message(app, row_id)
    assert (row.status, row.attempts, row.error_code) == ("failed", 4, "20429")
    assert drain(app).claimed == 0 and fake.created() == []


@pytest.mark.parametrize("action", [server_error(500), server_error(503), drop(created=False)],
                         ids=["500", "503", "dropped-before-accepting"])
def test_in_doubt_and_not_at_twilio_is_looked_up_then_sent_again(app, fake, clock, action):
    row_id = queue(app, LA, "in doubt")
    fake.script_next(action)
    drain(app)
    row = message(app, row_id)
    assert row.status == "queued" and row.attempts == 1 and outcomes(app, row_id)[0][0] == "unknown"
    clock.current = row.due_at
    assert drain(app).sent == 1
    assert len(fake.lookups) == 1 and fake.lookups[0]["To"] == LA
    assert outcomes(app, row_id)[0][0] == "lost"
    assert [m["body"] for m in fake.created()] == ["in doubt"]
    assert message(app, row_id).twilio_sid == fake.created()[0]["sid"]


@pytest.mark.parametrize("action", [slow(2.0), drop(created=True)], ids=["timeout", "dropped-after-accepting"])
def test_in_doubt_but_at_twilio_is_found_and_not_sent_again(app, fake, clock, action):
    row_id = queue(app, LA, "reached Twilio")
    fake.script_next(action)
    drain(app)  # SEND_TIMEOUT_SECONDS is 1: the slow answer times out
    row = message(app, row_id)
    assert row.status == "queued" and outcomes(app, row_id)[0][0] == "unknown"
    assert outcomes(app, row_id)[0][1] in {"timeout", "connection"}
    clock.current = row.due_at
    stats = drain(app)
    assert stats.reconciled == 1 and stats.sent == 0
    [created] = fake.created()
    row = message(app, row_id)
    assert (row.status, row.twilio_sid, row.attempts) == ("sent", created["sid"], 1)
    assert [(a.outcome, a.twilio_sid) for a in attempts(app, row_id)] == [("found", created["sid"])]


def test_a_lookup_that_fails_defers_instead_of_sending_blind(app, fake, clock):
    row_id = queue(app, LA, "cannot tell")
    fake.script_next(server_error())
    drain(app)
    clock.current = message(app, row_id).due_at
    fake.script_lookups(server_error())
    assert drain(app).sent == 0
    row = message(app, row_id)
    assert row.status == "queued" and row.attempts == 1 and len(fake.requests) == 1
    clock.current = row.due_at
    assert drain(app).sent == 1 and len(fake.created()) == 1


def test_same_body_twice_to_one_number_matches_each_message_once(app, fake, clock):
    """Two rows with identical text, both in doubt, one of which reached Twilio: exactly one is
    matched to it (sids are unique per row) and the other is sent."""
    a = queue(app, LA, "same words", key="a")
    b = queue(app, LA, "same words", key="b")
    fake.script_next(drop(created=True), drop(created=False))
    drain(app)
    clock.advance(minutes=5)
    drain(app)
    assert len(fake.created()) == 2
    assert {message(app, a).status, message(app, b).status} == {"sent"}
    assert message(app, a).twilio_sid != message(app, b).twilio_sid


def test_in_doubt_at_the_last_attempt_is_looked_up_before_failing(app, fake, clock):
    row_id = queue(app, LA, "last try")
    fake.script_to(LA, server_error())
    for _ in range(4):
        drain(app)
        clock.advance(hours=1)
    row = message(app, row_id)
    assert (row.status, row.attempts) == ("queued", 4)  # the 4th call may have arrived: look first
    assert [o for o, _ in outcomes(app, row_id)] == ["lost", "lost", "lost", "unknown"]
    stats = drain(app)
    assert stats.failed == 1 and len(fake.requests) == 4
    row = message(app, row_id)
    assert (row.status, row.attempts, row.error_code) == ("failed", 4, "20500")
    assert [o for o, _ in outcomes(app, row_id)] == ["lost", "lost", "lost", "lost"]


def test_connection_refused_is_retried_without_lookup(app, clock):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed as soon as we leave: nothing listens there
    app.config["TWILIO_API_BASE_URL"] = f"http://127.0.0.1:{port}"
    app.extensions.pop("sms_sender", None)
    row_id = queue(app, LA, "nobody home")
    drain(app)
    assert outcomes(app, row_id) == [("retry", "connect_refused")]
    assert message(app, row_id).status == "queued"


@pytest.mark.parametrize(("to", "code"), [("+15005550001", "21211"), ("+15005550009", "21614")])
def test_permanent_errors_fail_the_text_with_the_code(app, fake, clock, to, code):
    row_id = queue(app, to, "bad number")
    assert drain(app).failed == 1
    row = message(app, row_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", code, 1)
    clock.advance(days=1)
    assert drain(app).claimed == 0  # never retried
    with app.extensions["db_sessionmaker"]() as sess:
        assert sess.scalar(sa.select(Subscriber.status).where(Subscriber.phone == to)) == "active"


def test_other_4xx_codes_fail_too(app, fake):
    row_id = queue(app, NYC, "region not enabled")
    fake.script_to(NYC, error(400, 21408, "Permission to send an SMS has not been enabled for the region"))
    drain(app)
    assert (message(app, row_id).status, message(app, row_id).error_code) == ("failed", "21408")


def _enrollment(app, phone_row: int) -> int:
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        clinic = Clinic(name="North")
        sess.add(clinic)
        sess.flush()
        sub_id = sess.get(OutboundMessage, phone_row).subscriber_id
        enrollment = Enrollment(clinic_id=clinic.id, subscriber_id=sub_id, categories="hormone", locale="en",
                                timezone="America/New_York", start_date=date(2026, 11, 1), status="active",
                                consent_attested_by="x", created_by="x",
                                created_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                                expires_at=datetime(2026, 11, 8, tzinfo=timezone.utc))
        sess.add(enrollment)
        sess.flush()
        sess.add(EnrollmentMessage(enrollment_id=enrollment.id, message_id=phone_row, step="hormone.1"))
        return enrollment.id


def test_21610_opts_the_number_out_and_cancels_everything_pending(app, fake, clock):
    first = queue(app, UNSUBSCRIBED, "first")
    later = queue(app, UNSUBSCRIBED, "later", due_at=clock() + timedelta(days=3))
    other = queue(app, LA, "someone else")
    enrollment_id = _enrollment(app, later)
    drain(app)
    assert (message(app, first).status, message(app, first).error_code) == ("failed", "21610")
    assert message(app, later).status == "cancelled"
    assert message(app, other).status == "sent"
    with app.extensions["db_sessionmaker"]() as sess:
        sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == UNSUBSCRIBED)).one()
        assert sub.status == "opted_out"
        [event] = sess.scalars(sa.select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id)).all()
        assert (event.kind, event.source) == ("opt_out", "twilio_21610")
        enrollment = sess.get(Enrollment, enrollment_id)
        assert (enrollment.status, enrollment.ended_reason) == ("stopped", "opted_out")
    clock.advance(days=4)
    assert drain(app).claimed == 0
    assert len(fake.requests) == 2  # first + someone else; "later" never went out


def test_21610_on_a_second_text_in_the_same_batch_records_one_opt_out(app, fake):
    queue(app, UNSUBSCRIBED, "one")
    queue(app, UNSUBSCRIBED, "two")
    drain(app)
    assert statuses(app) == {"failed": 1, "cancelled": 1}
    assert len(fake.requests) == 1  # no second call once Twilio said the number unsubscribed
    with app.extensions["db_sessionmaker"]() as sess:
        assert sess.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) == 1


def test_each_row_of_a_batch_gets_its_own_outcome(app, fake, clock):
    bad = queue(app, "+15005550001", "bad")
    good = queue(app, LA, "good")
    busy = queue(app, NYC, "busy")
    fake.script_to(NYC, too_many(), times=1)
    drain(app)
    assert [message(app, i).status for i in (bad, good, busy)] == ["failed", "sent", "queued"]
