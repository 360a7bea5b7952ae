"""Bad input gets a clear answer and loses nothing: 403, 400, or a normal TwiML reply."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from service.models import InboundMessage, Subscriber
from tests.conftest import TOKEN


def test_missing_signature_is_403(twilio):
    assert twilio.post("/twilio/sms", twilio.sms_params("hi", "+14155550100"), signature="").status == 403


@pytest.mark.parametrize("tamper", ["wrong_token", "wrong_url", "changed_body", "other_route", "http_scheme"])
def test_bad_signatures_are_403(twilio, tamper, db):
    from twilio.request_validator import RequestValidator

    params = twilio.sms_params("hi", "+14155550100")
    url = twilio.base_url + "/twilio/sms"
    if tamper == "wrong_token":
        sig = RequestValidator("not-the-token").compute_signature(url, params)
    elif tamper == "wrong_url":
        sig = RequestValidator(TOKEN).compute_signature("https://evil.example.org/twilio/sms", params)
    elif tamper == "other_route":
        sig = RequestValidator(TOKEN).compute_signature(twilio.base_url + "/twilio/voice", params)
    elif tamper == "http_scheme":
        sig = RequestValidator(TOKEN).compute_signature(url.replace("https://", "http://"), params)
    else:
        sig = twilio.sign("/twilio/sms", params)
        params = {**params, "Body": "changed"}
    assert twilio.post("/twilio/sms", params, signature=sig).status == 403
    assert db.count(Subscriber) == 0


def test_signature_over_public_url_with_query_string(twilio):
    params = twilio.sms_params("hi", "+14155550100")
    sig = twilio.sign("/twilio/sms?src=a", params)
    resp = twilio.client.post("/twilio/sms?src=a", data=urlencode(params),
                              headers={"X-Twilio-Signature": sig},
                              content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 200


@pytest.mark.parametrize("drop", ["From", "MessageSid"])
def test_missing_required_parameter_is_400(twilio, drop):
    params = twilio.sms_params("hi", "+14155550100")
    params.pop(drop)
    if drop == "MessageSid":
        params.pop("SmsSid"), params.pop("SmsMessageSid")
    assert twilio.post("/twilio/sms", params).status == 400


def test_non_form_body_is_400(twilio):
    sig = twilio.sign("/twilio/sms", {})
    resp = twilio.client.post("/twilio/sms", data='{"Body": "hi"}', headers={"X-Twilio-Signature": sig},
                              content_type="application/json")
    assert resp.status_code == 400


def test_from_that_is_not_a_phone_is_400(twilio):
    assert twilio.sms("hi", from_="not-a-number").status == 400


@pytest.mark.parametrize("body", [
    "x" * 1600,
    "😀🎗️💗 hola",
    "مرحبا أريد معلومات",
    "hello\x00\x01\x1b world",
    "'; DROP TABLE subscribers; --",
    "",
    "   ",
    "\u202eSTOP",
])
def test_odd_bodies_get_a_normal_reply(twilio, body, db):
    reply = twilio.sms(body)
    assert reply.status == 200
    assert reply.root.tag == "Response"
    assert all(m.tag == "Message" for m in reply.root)
    stored = db.one(sa.select(InboundMessage))
    assert stored.body == body.replace("\x00", "")[:1600]
    assert db.count(Subscriber) == 1


def test_database_failure_answers_200_with_apology_and_masked_log(twilio, app, caplog):
    def broken(*_a, **_k):
        raise RuntimeError("database is down")

    app.extensions["db_sessionmaker"] = broken
    reply = twilio.sms("hi", from_="+14155550123", Body="secret body text")
    assert reply.status == 200
    assert reply.messages == ["Sorry, MBC Guide has a problem right now. Please try again soon. Emergency? Call 911."]
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "+14155550123" not in logged and "4155550123" not in logged
    assert "secret body text" not in logged
    assert "+1******0123" in logged
