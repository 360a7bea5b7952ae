"""Inbound floods and auto-responder loops: no reply storm from one number, STOP always works.

The flood limit (FLOOD_LIMIT texts per FLOOD_WINDOW, service/conversation.py) stops fast floods;
service/messaging/loops.py holds back replies to automatic replies and to the same text answered
the same way REPEATS times already (slow loops). tests/channels/test_sms_webhook.py has the
basic flood case.
"""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from service.messaging.loops import REPEATS, looks_automatic
from service.models import InboundMessage, Subscriber

PHONE = "+14155550171"
OTHER = "+14155550172"
VARIED = ["MENU", "HELP", "1", "0", "2", "MORE", "hello"]  # never the same text twice in a row


def status(db, phone=PHONE) -> str:
    return db.one(sa.select(Subscriber.status).where(Subscriber.phone == phone))


def test_a_flood_of_100_texts_gets_at_most_flood_limit_replies(app, twilio, clock):
    limit = app.config["FLOOD_LIMIT"]
    replies = 0
    for body in itertools.islice(itertools.cycle(VARIED), 100):
        clock.advance(seconds=1)
        replies += len(twilio.sms(body, from_=PHONE).messages)
    # The first text gets the disclaimer and the answer (two messages); at most one notice more.
    assert limit <= replies <= limit + 2
    # Another number is not held back by this one's flood.
    assert twilio.sms("MENU", from_=OTHER).messages


def test_stop_during_a_flood_is_confirmed_once_and_then_silence(app, twilio, db, clock):
    for body in itertools.islice(itertools.cycle(VARIED), app.config["FLOOD_LIMIT"] + 5):
        clock.advance(seconds=1)
        twilio.sms(body, from_=PHONE)
    assert twilio.sms("HELP", from_=PHONE).messages == []  # flooding: no replies now
    stop = twilio.sms("STOP", from_=PHONE)
    assert len(stop.messages) == 1 and "START" in stop.text
    assert status(db) == "opted_out"
    for body in ("STOP", "MENU", "I have a fever", "STOP"):
        clock.advance(seconds=1)
        assert twilio.sms(body, from_=PHONE).messages == [], body


def test_the_same_text_again_and_again_is_answered_only_twice(twilio, db, clock):
    """A slow loop (an auto-responder answering each of our replies) never reaches the flood
    limit; identical texts answered identically stop getting answers."""
    twilio.sms("MENU", from_=PHONE)  # a number we answered before (a first text gets the disclaimer too)
    answered = []
    for _ in range(12):
        clock.advance(seconds=8)
        answered.append(bool(twilio.sms("Thanks for your message!", from_=PHONE).messages))
    assert answered[:REPEATS] == [True] * REPEATS and not any(answered[REPEATS:])
    assert db.count(InboundMessage) == 13  # every text is still recorded
    # The person (or the loop's end) is answered as soon as the text differs.
    assert twilio.sms("MENU", from_=PHONE).messages
    # And STOP is confirmed whatever came before.
    assert "START" in twilio.sms("STOP", from_=PHONE).text


def test_menu_navigation_with_the_same_digit_is_still_answered(twilio, clock):
    """Same text, different answers: a person going deeper in the menu, not a loop."""
    twilio.sms("MENU", from_=PHONE)
    replies = []
    for _ in range(3):
        clock.advance(seconds=5)
        replies.append(twilio.sms("1", from_=PHONE).text)
    assert all(replies) and len(set(replies)) > 1


AUTO_REPLIES = [
    "I'm driving with Driving Focus turned on. I'll see your message when I get where I'm going.",
    "I'm Driving with Do Not Disturb While Driving turned on. I'll see your message when I get where I'm going.",
    "I'm driving right now - I'll get back to you later.",
    "Auto-reply: I am away until Monday.",
    "AUTOMATIC REPLY: out of office until 12/1",
    "This is an automated message. Please do not reply.",
    "This number is not monitored. Call 555-0100 for help.",
    "Respuesta automática: estoy manejando.",
]
PEOPLE = [
    "Is this an automated message?",
    "I'm driving to chemo tomorrow, what should I ask?",
    "MENU",
    "reply",
    "office",
]


@pytest.mark.parametrize("body", AUTO_REPLIES)
def test_auto_replies_get_no_reply(body, twilio, db, clock):
    twilio.sms("MENU", from_=PHONE)
    for _ in range(3):  # the loop: our answer, their auto-reply, ...
        clock.advance(seconds=5)
        assert twilio.sms(body, from_=PHONE).messages == []
    assert looks_automatic(body)
    assert status(db) == "active"  # recorded, not an opt-out


@pytest.mark.parametrize("body", PEOPLE)
def test_people_are_not_taken_for_auto_replies(body, twilio):
    assert not looks_automatic(body)
    assert twilio.sms(body, from_=PHONE).messages


def test_a_red_flag_during_a_flood_still_gets_the_safety_reply(app, twilio, clock):
    """Someone in danger may be texting fast: the flood limit holds back menus, never safety."""
    for body in itertools.islice(itertools.cycle(VARIED), app.config["FLOOD_LIMIT"] + 5):
        clock.advance(seconds=1)
        twilio.sms(body, from_=PHONE)
    assert twilio.sms("HELP", from_=PHONE).messages == []  # flooding: menus are held back
    reply = twilio.sms("I can't breathe", from_=PHONE)
    assert len(reply.messages) == 1 and "Call 911 now" in reply.text


def test_a_red_flag_that_reads_like_an_auto_reply_is_answered(twilio, clock):
    body = "chest pain, do not reply, just call me"
    assert looks_automatic(body)  # without the red flag it would be taken for an auto-reply
    twilio.sms("MENU", from_=PHONE)
    clock.advance(seconds=5)
    assert "911" in twilio.sms(body, from_=PHONE).text


def test_an_echo_of_the_safety_reply_does_not_loop(twilio, clock):
    """A bot echoing our safety text (which names red flags itself) is answered REPEATS times."""
    twilio.sms("MENU", from_=PHONE)
    echo = "If this is an emergency, call 911 now. Fever during chemo, trouble breathing or chest pain"
    answered = []
    for _ in range(6):
        clock.advance(seconds=5)
        answered.append(bool(twilio.sms(echo, from_=PHONE).messages))
    assert answered == [True] * REPEATS + [False] * (6 - REPEATS)
