"""The browser phone's server side (/simulator): real signed webhooks, fictional numbers only."""

from __future__ import annotations

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from service import create_app
from service.config import load_settings
from service.content.voice import VOICES
from service.models import CallSession, InboundMessage, OutboundMessage
from service.simulator.twilio_like import TwilioLike
from tests.conftest import PUBLIC, TOKEN

PHONE = "+14155550142"  # 555-01xx: fictional


def post(client, path, body):
    return client.post(f"/simulator/api/{path}", json=body)


def test_the_page_has_a_thread_and_a_keypad(client):
    resp = client.get("/simulator")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="thread"' in html and 'id="keypad"' in html
    assert html.count('class="key"') == 12
    with client.get("/simulator/static/simulator.js") as script:  # a file response: close it
        assert script.status_code == 200 and script.mimetype == "text/javascript"


def test_a_text_goes_through_the_real_sms_webhook(client, db, app):
    resp = post(client, "sms", {"phone": PHONE, "body": "HOLA"})
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == 200
    assert data["messages"][0] == app.extensions["line"].renderer.render_text("welcome", "es")
    assert "<Message>" in data["twiml"]
    assert db.one(sa.select(InboundMessage.channel)) == "sms"  # stored like any Twilio delivery


def test_a_call_shows_what_twilio_would_say_with_language_and_voice(client, app, db):
    data = post(client, "call", {"phone": PHONE}).get_json()
    assert not data["ended"] and data["gather"]["action"] == "/twilio/voice/input?step=1"
    says = [e for e in data["events"] if e["type"] == "say"]
    spanish = next(e for e in says if e["text"] == "Para español, marque 2.")
    assert (spanish["language"], spanish["voice"]) == (VOICES["es"].language, VOICES["es"].voice)
    assert data["after"] == [{"verb": "Redirect", "method": "POST", "url": "/twilio/voice/silence?step=1"}]
    assert data["documents"][0]["url"] == "/twilio/voice" and data["documents"][0]["status"] == 200

    step = post(client, "call/input", {"phone": PHONE, "call_sid": data["call_sid"],
                                        "action": data["gather"]["action"], "digits": "2"}).get_json()
    assert step["events"][0]["text"] == app.extensions["voice"].renderer.line("es", "voice_welcome").text
    assert step["gather"]["input"] == "dtmf speech" and step["gather"]["language"] == "es-US"
    step = post(client, "call/input", {"phone": PHONE, "call_sid": data["call_sid"],
                                        "action": step["gather"]["action"], "speech": "terapia hormonal"}).get_json()
    assert step["events"][0]["text"] == app.extensions["voice"].renderer.topic_label("es", "hormone")
    assert db.one(sa.select(CallSession.topic)) == "hormone"


def test_silence_runs_the_verbs_after_the_gather(client, app):
    data = post(client, "call", {"phone": PHONE}).get_json()
    step = post(client, "call/silence", {"phone": PHONE, "call_sid": data["call_sid"], "after": data["after"]}).get_json()
    assert step["events"][0]["text"] == app.extensions["voice"].renderer.line("en", "voice_no_input").text
    assert step["documents"][0]["url"] == "/twilio/voice/silence?step=1"


def test_press_9_shows_up_in_the_outbox(client):
    call = post(client, "call", {"phone": PHONE}).get_json()
    step = call
    for key in ("1", "2", "1", "9"):
        step = post(client, "call/input", {"phone": PHONE, "call_sid": call["call_sid"],
                                            "action": step["gather"]["action"], "digits": key}).get_json()
    rows = client.get(f"/simulator/api/outbox?phone=%2B{PHONE[1:]}").get_json()
    assert [r["source"] for r in rows] == ["voice_handoff", "voice_handoff"]
    assert "estrogen" in rows[1]["body"]


def test_hanging_up_with_pound_ends_the_call(client):
    call = post(client, "call", {"phone": PHONE}).get_json()
    step = post(client, "call/input", {"phone": PHONE, "call_sid": call["call_sid"],
                                        "action": call["gather"]["action"], "digits": "#"}).get_json()
    assert step["ended"] and step["gather"] is None


def test_only_fictional_numbers_json_and_the_lines_own_webhooks(client, db):
    assert post(client, "sms", {"phone": "+14155551234", "body": "hi"}).status_code == 400  # a real-looking number
    assert client.post("/simulator/api/sms", data={"phone": PHONE, "body": "hi"}).status_code == 415
    call = post(client, "call", {"phone": PHONE}).get_json()
    for action in ("https://evil.example.com/twilio/voice/input", "/portal/login", "//evil.example.com/x"):
        resp = post(client, "call/input", {"phone": PHONE, "call_sid": call["call_sid"], "action": action, "digits": "1"})
        assert resp.status_code == 400, action
    bad_after = [{"verb": "Redirect", "url": "https://evil.example.com/"}]
    assert post(client, "call/silence", {"phone": PHONE, "call_sid": call["call_sid"], "after": bad_after}).status_code == 400
    assert post(client, "call/input", {"phone": PHONE, "call_sid": "CA-nope", "action": "/twilio/voice/input",
                                       "digits": "1"}).status_code == 400
    assert client.get("/simulator/api/outbox?phone=%2B14155551234").status_code == 400
    assert db.count(OutboundMessage) == 0


def test_requests_really_are_signature_checked(app):
    twilio = TwilioLike(app)
    assert twilio.post("/twilio/voice", twilio.call_params("CA" + "0" * 32, PHONE))[0] == 200
    twilio.validator = RequestValidator("not-the-apps-token")
    assert twilio.post("/twilio/voice", twilio.call_params("CA" + "1" * 32, PHONE))[0] == 403


def test_off_in_production_unless_enabled(database_url):
    prod = {"APP_ENV": "production", "SECRET_KEY": "s" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
            "TWILIO_ACCOUNT_SID": "AC" + "9" * 32, "PUBLIC_BASE_URL": "https://line.example.org",
            "TWILIO_FROM_NUMBER": "+18005550100",
            "METRICS_TOKEN": "m" * 32, "PROGRAM_CONTACT": "help@mbcguide.org"}
    assert load_settings(prod).SIMULATOR_ENABLED is False
    assert load_settings({"APP_ENV": "development"}).SIMULATOR_ENABLED is True
    app = create_app({"APP_ENV": "test", "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC,
                      "TWILIO_AUTH_TOKEN": TOKEN, "SIMULATOR_ENABLED": False})
    try:
        assert app.test_client().get("/simulator").status_code == 404
    finally:
        app.extensions["db_engine"].dispose()
