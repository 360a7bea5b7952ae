"""The one guard of every /twilio/* route (service/channels/webhook.py): every route has it, a body
that is not a form is a clear 400, and a failure is answered by the route's fallback, or by an
empty valid TwiML when the fallback fails too; never a 5xx, and the log names the number masked."""

from __future__ import annotations

import json
import logging

import pytest

from service.channels import sms
from tests.support.twilio import new_sid

CALLER = "+14155550177"


def twilio_rules(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/twilio")]
    assert len(rules) >= 7, rules  # sms, status, and the five voice steps at least
    return rules


def test_every_twilio_route_is_guarded(app):
    unguarded = [r.rule for r in twilio_rules(app) if not callable(getattr(app.view_functions[r.endpoint],
                                                                           "on_failure", None))]
    assert unguarded == []


def test_a_body_that_is_not_a_form_is_400_on_every_route(app, client, twilio):
    for rule in twilio_rules(app):
        resp = client.post(rule.rule, data=json.dumps({"From": CALLER}), content_type="application/json",
                           headers={"X-Twilio-Signature": twilio.sign(rule.rule, {})})
        assert resp.status_code == 400, (rule.rule, resp.status_code)


def test_the_service_failing_gets_the_offline_answer(twilio, monkeypatch, caplog):
    def broken(*_a, **_kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(sms, "answer_sms", broken)
    with caplog.at_level(logging.ERROR):
        reply = twilio.sms("STOP", from_=CALLER)
    assert reply.status == 200 and reply.messages  # the STOP confirmation, without the database
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "webhook_fallback"]
    assert record.route == "/twilio/sms"
    assert CALLER not in caplog.text and CALLER[-4:] in record.getMessage()


@pytest.mark.parametrize("body", ["hello", "I can't breathe"])
def test_the_fallback_failing_too_is_still_valid_twiml(twilio, monkeypatch, caplog, body):
    def broken(*_a, **_kw):
        raise RuntimeError("and the disk is full")

    monkeypatch.setattr(sms, "answer_sms", broken)
    monkeypatch.setattr(sms, "answer_offline", broken)
    with caplog.at_level(logging.ERROR):
        reply = twilio.post("/twilio/sms", twilio.sms_params(body, CALLER, new_sid("SM")))
    assert reply.status == 200 and reply.root is not None and reply.messages == []
    assert "its fallback failed too" in caplog.text and CALLER not in caplog.text
