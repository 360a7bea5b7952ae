"""Webhook parameters fuzzed with hypothesis: never a 500, always valid TwiML or a clear 4xx.

Derandomized and without an example database: the same examples on every run. The voice and
status webhooks: tests/security/test_webhook_fuzz.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
PARAM_NAMES = st.sampled_from(["Body", "From", "To", "MessageSid", "NumMedia", "OptOutType", "NumSegments",
                               "MediaUrl0", "SmsStatus", "X-Extra", "FromCountry"])


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=TEXT, extra=st.dictionaries(PARAM_NAMES, TEXT, max_size=4))
def test_signed_sms_with_arbitrary_parameters(twilio, body, extra):
    params = twilio.sms_params(body, "+14155550123")
    params.update(extra)
    reply = twilio.post("/twilio/sms", params)
    assert reply.status in (200, 400), reply.raw
    if reply.status == 200:
        assert reply.root is not None and reply.root.tag == "Response"
        assert all(child.tag == "Message" for child in reply.root)


# Header values are what a client can send: printable Latin-1 without line breaks.
HEADER = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=60)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(PARAM_NAMES, TEXT, max_size=6), signature=HEADER)
def test_unsigned_or_garbage_signed_requests_are_403(twilio, params, signature):
    reply = twilio.post("/twilio/sms", params, signature=signature)
    assert reply.status == 403
