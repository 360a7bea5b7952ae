"""Voice and status webhooks fuzzed with hypothesis, derandomized and bounded: never a 500,
a 200 is always TwiML a Twilio caller can follow (known verbs, attributes, actions that are our
routes), a 4xx is a clear refusal. /twilio/sms: tests/channels/test_sms_fuzz.py."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from service.content.voice import VOICES
from tests.conftest import PUBLIC
from tests.support.voice_caller import Call

from .conftest import routes

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
KEYS = st.text("0123456789*#w", max_size=6) | TEXT
CALL_SIDS = st.sampled_from(["CA" + "1" * 32, "CA" + "2" * 32]) | TEXT
CALL_PARAMS = st.sampled_from(["CallSid", "From", "To", "Digits", "SpeechResult", "Confidence", "CallStatus",
                               "Caller", "FromCountry", "X-Extra"])
SAY_LANGUAGES = {v.language for v in VOICES.values()}
SAY_VOICES = {v.voice for v in VOICES.values()}
GATHER_INPUTS = {"dtmf", "speech", "dtmf speech"}


def is_our_route(app, url: str) -> bool:
    parts = urlsplit(url)
    if parts.netloc and not url.startswith(PUBLIC):
        return False
    try:
        app.url_map.bind("localhost").match(parts.path, method="POST")
    except HTTPException:
        return False
    return parts.path.startswith("/twilio/")


def assert_voice_twiml(app, raw: bytes) -> None:
    root = ElementTree.fromstring(raw)
    assert root.tag == "Response" and len(root), raw
    for index, verb in enumerate(root):
        assert verb.tag in {"Say", "Play", "Gather", "Redirect", "Hangup", "Pause"}, raw
        if verb.tag == "Gather":
            assert all(child.tag in {"Say", "Play", "Pause"} for child in verb), raw
            assert is_our_route(app, verb.get("action", "")), raw
            assert verb.get("method", "POST") == "POST" and verb.get("input", "dtmf") in GATHER_INPUTS, raw
            assert verb.get("numDigits", "1").isdigit() and verb.get("timeout", "5").isdigit(), raw
        if verb.tag in {"Redirect", "Hangup"}:
            assert index == len(root) - 1, raw  # nothing after them is ever reached
        if verb.tag == "Redirect":
            assert verb.get("method") == "POST" and is_our_route(app, (verb.text or "").strip()), raw
    for say in root.iter("Say"):
        assert (say.text or "").strip(), raw
        assert say.get("language") in SAY_LANGUAGES and say.get("voice") in SAY_VOICES, raw
    for play in root.iter("Play"):
        assert (play.text or "").startswith(PUBLIC + "/static/"), raw


def voice_paths(app) -> list[str]:
    return [rule for rule, _ in routes(app, "/twilio/voice")]


def call_params(sid: str) -> dict:
    return {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": "+14155550131", "To": "+18005550199",
            "Caller": "+14155550131", "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}


@FUZZ
@given(data=st.data(), sid=CALL_SIDS, extra=st.dictionaries(CALL_PARAMS, TEXT, max_size=4),
       query=st.dictionaries(st.sampled_from(["locale", "attempt", "x"]), TEXT, max_size=2))
def test_voice_steps_with_arbitrary_parameters(app, twilio, data, sid, extra, query):
    path = data.draw(st.sampled_from(voice_paths(app)), label="path")
    if query:
        path += "?" + urlencode(query)
    params = {**call_params(sid), **extra}
    reply = twilio.post(path, params)
    assert reply.status in (200, 400), (path, reply.status, reply.raw[:300])
    if reply.status == 200:
        assert reply.content_type.startswith(("application/xml", "text/xml"))
        assert_voice_twiml(app, reply.raw)


@FUZZ
@given(inputs=st.lists(st.tuples(st.booleans(), KEYS), min_size=1, max_size=6))
def test_a_call_answers_any_keys_or_speech_with_twiml(app, twilio, inputs):
    """A caller pressing or saying anything at all, step after step, following the TwiML."""
    call = Call(twilio, "+14155550132")
    call.start()
    for speak, value in inputs:
        if call.ended:
            break
        if speak and "speech" in call.gather.get("input", ""):
            call.say(value)
        elif call.gather is not None:
            call.press(value)
        else:
            call.silence()
    for reply in call.responses:  # Call already asserted 200 and known verbs; now the attributes
        assert_voice_twiml(app, reply.raw)


STATUS_PARAMS = st.sampled_from(["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "To", "From",
                                 "AccountSid", "X-Extra"])


@FUZZ
@given(params=st.dictionaries(STATUS_PARAMS, TEXT, max_size=6),
       query=st.dictionaries(st.sampled_from(["o", "a", "x"]), st.text("0123456789-x", max_size=14) | TEXT, max_size=3))
def test_status_callbacks_with_arbitrary_parameters(twilio, params, query):
    path = "/twilio/status" + ("?" + urlencode(query) if query else "")
    reply = twilio.post(path, params)
    assert reply.status in (204, 400), (reply.status, reply.raw[:300])
    if reply.status == 204:
        assert reply.raw == b""
