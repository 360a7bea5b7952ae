"""POST /twilio/status: signed, form-encoded; records delivery status and error code; late,
repeated or out-of-order callbacks never move a text backwards; unknown sids get 204."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from service.messaging.claim import claim
from service.models import ConsentEvent, Subscriber
from tests.conftest import PUBLIC
from tests.support.outbound import (LA, app, attempts, drain, fake, message, queue, worker,  # noqa: F401
                                    worker_config)
from tests.support.twilio import ACCOUNT_SID, PROGRAM_NUMBER


def params(sid: str, status: str, error_code: str | None = None, to: str = LA) -> dict:
    p = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": to, "MessageSid": sid,
         "AccountSid": ACCOUNT_SID, "From": PROGRAM_NUMBER, "ApiVersion": "2010-04-01"}
    if error_code:
        p["ErrorCode"] = error_code
    return p


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC)
    return url[len(PUBLIC):]


def sent_text(app, fake, body="hello"):
    row_id = queue(app, LA, body)
    drain(app)
    [created] = fake.created(LA)[-1:]
    return row_id, created["sid"], path_of(created["_status_callback"])


def test_callbacks_move_a_text_forward(app, fake, twilio):
    row_id, sid, path = sent_text(app, fake)
    assert twilio.post(path, params(sid, "sent")).status == 204
    assert message(app, row_id).status == "sent"
    assert twilio.post(path, params(sid, "delivered")).status == 204
    assert message(app, row_id).status == "delivered"


def test_late_twice_or_out_of_order_never_goes_backwards(app, fake, twilio):
    row_id, sid, path = sent_text(app, fake)
    for status in ("delivered", "sent", "queued", "sending", "delivered", "failed", "undelivered"):
        assert twilio.post(path, params(sid, status, "30003" if status != "delivered" else None)).status == 204
        assert message(app, row_id).status == "delivered", status
    assert message(app, row_id).error_code is None


def test_undelivered_records_the_error_code_and_is_final(app, fake, twilio):
    row_id, sid, path = sent_text(app, fake)
    twilio.post(path, params(sid, "undelivered", "30003"))
    twilio.post(path, params(sid, "sent"))
    twilio.post(path, params(sid, "delivered"))
    row = message(app, row_id)
    assert (row.status, row.error_code) == ("undelivered", "30003")


def test_failed_records_the_code(app, fake, twilio):
    row_id, sid, path = sent_text(app, fake)
    twilio.post(path, params(sid, "failed", "30007"))
    assert (message(app, row_id).status, message(app, row_id).error_code) == ("failed", "30007")


def test_unknown_sid_is_204_and_logged(app, twilio, caplog):
    with caplog.at_level(logging.WARNING, logger="service.channels.status"):
        resp = twilio.post("/twilio/status", params("SM" + "9" * 32, "delivered"))
    assert resp.status == 204 and resp.raw == b""
    assert any("SM" + "9" * 32 in r.getMessage() for r in caplog.records)


def test_bad_or_missing_signature_is_403(app, fake, twilio):
    row_id, sid, path = sent_text(app, fake)
    assert twilio.post(path, params(sid, "delivered"), signature="bad").status == 403
    assert twilio.post(path, params(sid, "delivered"), signature="").status == 403
    # The query names the row: changing it breaks the signature Twilio computed over the URL.
    good = twilio.sign(path, params(sid, "delivered"))
    assert twilio.post(path.replace("o=", "o=9"), params(sid, "delivered"), signature=good).status == 403
    assert message(app, row_id).status == "sent"


def test_malformed_is_400(app, client, twilio):
    assert twilio.post("/twilio/status", {"MessageStatus": "delivered"}).status == 400
    assert twilio.post("/twilio/status", {"MessageSid": "SM1"}).status == 400
    resp = client.post("/twilio/status", json={"MessageSid": "SM1", "MessageStatus": "sent"},
                       headers={"X-Twilio-Signature": twilio.sign("/twilio/status", {})})
    assert resp.status_code == 400


def test_callback_settles_a_text_whose_response_was_never_recorded(app, fake, twilio, clock):
    """The worker died between Twilio's 201 and its commit: the callback URL's o/a name the row."""
    row_id = queue(app, LA, "worker died after the call")
    w = worker(app)
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        leased = claim(sess, clock(), 10, timedelta(seconds=30))
    jobs = w._begin_attempts(leased.token, w._plan(leased.token, leased.ids))
    for job in jobs:
        w._call(job)  # reaches Twilio; nothing is recorded (the process "dies" here)
    [created] = fake.created()
    assert message(app, row_id).status == "sending"

    assert twilio.post(path_of(created["_status_callback"]), params(created["sid"], "sent")).status == 204
    row = message(app, row_id)
    assert (row.status, row.twilio_sid) == ("sent", created["sid"])
    assert [(a.outcome, a.twilio_sid) for a in attempts(app, row_id)] == [("found", created["sid"])]
    clock.advance(minutes=5)  # the lease expires: nothing left to send
    assert drain(app).claimed == 0 and len(fake.created()) == 1


def test_row_hint_with_an_attempt_that_never_happened_is_ignored(app, fake, twilio):
    row_id, _sid, _path = sent_text(app, fake)
    resp = twilio.post(f"/twilio/status?o={row_id}&a=7", params("SM" + "8" * 32, "delivered"))
    assert resp.status == 204
    assert message(app, row_id).status == "sent"


def test_asynchronous_21610_opts_out(app, fake, twilio, clock):
    row_id, sid, path = sent_text(app, fake)
    pending = queue(app, LA, "next week", due_at=clock() + timedelta(days=7))
    twilio.post(path, params(sid, "failed", "21610"))
    assert (message(app, row_id).status, message(app, row_id).error_code) == ("failed", "21610")
    assert message(app, pending).status == "cancelled"
    with app.extensions["db_sessionmaker"]() as sess:
        assert sess.scalar(sa.select(Subscriber.status).where(Subscriber.phone == LA)) == "opted_out"
        assert sess.scalar(sa.select(ConsentEvent.source)) == "twilio_21610"
