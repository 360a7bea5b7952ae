"""The SMS webhook writes its TwiML by hand (service/channels/sms.py messaging_twiml); it must stay
byte-for-byte what twilio's MessagingResponse would give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from service.channels.sms import messaging_twiml


def library(texts: list[str]) -> str:
    resp = MessagingResponse()
    for text in texts:
        resp.message(text)
    return str(resp)


def test_known_shapes():
    for texts in ([], [""], ["Hi"], ["a & b < c > d \"q\" 'a'", "second\nline"], ["Reply 1-3.\r\n\t¿Sí? 你好 ☎"]):
        assert messaging_twiml(texts) == library(texts)


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",))), max_size=4))
def test_any_texts(texts):
    assert messaging_twiml(texts) == library(texts)
