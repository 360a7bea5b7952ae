"""A whole day on the line logged at DEBUG, in JSON and in text: no phone number and no message
body appears unmasked. tests/test_logs.py tests the scrubbing itself and the raw records of an
SMS conversation; this adds the formatted output of every channel and the worker."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import sqlalchemy as sa

from service.logs import JsonFormatter, RequestIdFilter, TextFormatter
from service.models import OutboundMessage
from tests.fake_twilio.server import server_error
from tests.support.outbound import app, drain, fake, worker_config  # noqa: F401
from tests.support.voice_caller import Call

TEXTER = "+14155550181"
CALLER = "+14155550182"
PATIENT = "+14155550183"
BODIES = ["hello there", "I have a fever and chills", "tell me about bone drugs", "secret words here"]
E164 = re.compile(r"\+\d{8,15}")


@pytest.fixture
def logged():
    """Every log record at DEBUG, formatted by both of our formatters: {"json": ..., "text": ...}."""
    streams = {"json": io.StringIO(), "text": io.StringIO()}
    handlers = [logging.StreamHandler(streams["json"]), logging.StreamHandler(streams["text"])]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        handler.addFilter(RequestIdFilter())
        handler.setLevel(logging.DEBUG)
        root.addHandler(handler)
    yield streams
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def a_day_on_the_line(app, fake, clock, twilio, make_clinic, api_for, monkeypatch) -> list[str]:
    """SMS (first text, menu, red flag, STOP), a call (menu, press 9 for a text), a clinic
    enrollment and its YES, the worker sending and reconciling a text in doubt (a lookup by
    number), a failing webhook. Returns the outbound bodies."""
    for body in BODIES[:2]:
        twilio.sms(body, from_=TEXTER)
    twilio.sms("MENU", from_=TEXTER)
    twilio.sms("STOP", from_=TEXTER)
    call = Call(twilio, CALLER)
    call.start()
    call.press("1")
    call.press("1")
    if call.gather is not None:
        call.press("9")  # "press 9 to get this by text"
    access = make_clinic("North")
    assert api_for(access).enroll(PATIENT, categories=["bone"], sent=False).status_code == 201
    fake.script_to(PATIENT, server_error(), times=1)  # in doubt: the next pass looks it up first
    drain(app)
    clock.advance(minutes=5)
    drain(app)  # the confirmation reached the patient: their YES answers it
    twilio.sms("YES", from_=PATIENT)
    twilio.sms(BODIES[2], from_=PATIENT)
    drain(app)
    # A webhook that fails: its exception is logged with a traceback.
    monkeypatch.setattr("service.channels.sms.answer_sms", lambda *a, **k: 1 / 0)
    twilio.sms(BODIES[3], from_=TEXTER)
    with app.extensions["db_sessionmaker"]() as sess:
        return list(sess.scalars(sa.select(OutboundMessage.body)))


def test_no_number_or_body_in_any_log_format(app, fake, clock, twilio, make_clinic, api_for, logged, monkeypatch):
    outbound = a_day_on_the_line(app, fake, clock, twilio, make_clinic, api_for, monkeypatch)
    assert fake.created(), "the worker sent nothing: the test would prove nothing"
    json_out, text_out = logged["json"].getvalue(), logged["text"].getvalue()
    entries = [json.loads(line) for line in json_out.splitlines()]  # one JSON object a line
    assert any(e["level"] == "DEBUG" for e in entries)
    assert any("Traceback" in e.get("exception", "") for e in entries)  # the failing webhook was logged
    for name, out in (("json", json_out), ("text", text_out)):
        assert E164.findall(out) == [], name
        for phone in (TEXTER, CALLER, PATIENT):
            assert phone[2:] not in out and phone[-7:] not in out, (name, phone)
        for body in BODIES + [b[:40] for b in outbound if len(b) > 20]:
            assert body not in out, (name, body)
        # The numbers were logged (masked): the reconcile lookup's URL and the failing webhook.
        assert "+1******0183" in out and "+1******0181" in out, name

