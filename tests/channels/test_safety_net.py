"""The safety net through the signed SMS webhook (issue 13): every locale, a "yes" right after a
safety reply, a red flag as a first message, mid-menu and mid-topic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.content.lexicon import keyword_tables
from service.content.locales import KNOWN_LOCALES, locale_dir
from service.content.redflag_quality import load_corpora
from service.engine import Reply
from service.messaging.loops import REPEATS
from service.models import ConsentEvent, InboundMessage, Subscriber

PHONE = "+14155550177"
CORPORA = load_corpora()
TABLES = keyword_tables(list(KNOWN_LOCALES))


def safety(app, kind: str, locale: str, seen_by: str = "nobody") -> str:
    return app.extensions["line"].renderer.render(Reply("safety", key=kind, params=(("seen_by", seen_by),)), locale)


def consents(db) -> int:
    return db.count(ConsentEvent)


@pytest.mark.parametrize("locale", [loc for loc in KNOWN_LOCALES if loc != "en"])
def test_yes_after_a_crisis_reply_is_the_crisis_reply_again_in_every_locale(locale, app, twilio, db):
    name = app.extensions["line"].lexicon.names[locale]
    twilio.sms(name, from_=PHONE)  # "ESPAÑOL", "TIẾNG VIỆT", ...: the language is chosen
    assert db.one(sa.select(Subscriber)).locale == locale
    said = CORPORA[locale_dir(locale)]["crisis"][0]
    assert twilio.sms(said, from_=PHONE).messages == [safety(app, "crisis", locale)]
    before = consents(db)
    for word in TABLES[locale]["affirm"][:4]:
        assert twilio.sms(word, from_=PHONE).messages == [safety(app, "crisis", locale)], word
    assert consents(db) == before  # nothing taken as consent
    rows = db.all(sa.select(InboundMessage.red_flag_class).where(InboundMessage.red_flag_class.is_not(None)))
    assert rows == ["crisis"]  # the yes words are not red flags themselves


def test_a_red_flag_mid_menu_and_mid_topic_keeps_the_place(app, twilio, db):
    twilio.sms("hi", from_=PHONE)
    twilio.sms("7", from_=PHONE)  # chemotherapy
    assert twilio.sms("i dont want to live anymore", from_=PHONE).messages == [safety(app, "crisis", "en")]
    twilio.sms("1", from_=PHONE)
    assert twilio.sms("thinking of killing myself", from_=PHONE).messages == [safety(app, "crisis", "en")]
    sub = db.one(sa.select(Subscriber))
    assert (sub.menu_node, sub.menu_topic, sub.safety) == ("item", "chemo", "crisis")


@pytest.mark.parametrize("said,kind", [
    ("chest pains", "emergency"), ("cant breath", "emergency"), ("胸口很痛", "emergency"),
    ("me duele mucho el pecho", "emergency"), ("temp 38.5", "urgent"), ("38,5°C", "urgent"),
    ("i dont want to live anymore", "crisis"),
])
def test_a_red_flag_as_a_first_message_gets_help_before_the_welcome(said, kind, app, twilio, db):
    messages = twilio.sms(said, from_=PHONE).messages
    locale = db.one(sa.select(Subscriber)).locale
    assert messages[0] == safety(app, kind, locale)
    assert "911" in messages[1]  # the welcome, with its disclaimer


def test_ordinary_texts_near_a_red_flag_are_answered_normally(twilio):
    for text in ("stop worrying", "chest port", "I had a fever last year"):
        reply = twilio.sms(text, from_=PHONE).text
        assert "911 now" not in reply and "988" not in reply and "care team now" not in reply, text


def test_the_same_yes_again_gets_the_safety_reply_until_it_is_an_echo_loop(app, twilio, clock):
    """A "yes" repeated gets the safety reply each time, REPEATS times (then it is a loop: the same
    text answered the same way, as for any reply; tests/security/test_floods.py)."""
    twilio.sms("hi", from_=PHONE)
    assert twilio.sms("i cant breathe", from_=PHONE).messages == [safety(app, "emergency", "en")]
    for _ in range(REPEATS):
        clock.advance(seconds=3)
        assert twilio.sms("yes", from_=PHONE).messages == [safety(app, "emergency", "en")]
    clock.advance(seconds=3)
    assert twilio.sms("yes", from_=PHONE).messages == []  # the third same text: an echo, held back
