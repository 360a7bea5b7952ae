"""Calls in the message log (service/calls/log.py): each topic heard and each red flag said
is an inbound_messages row with channel "voice", written once per CallSid and step."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from service.calls.log import step_sid
from service.channels.voice import step_of, with_step
from service.models import ConsentEvent, InboundMessage, Subscriber
from tests.support.voice_caller import Call
from tests.support.voice_caller import choose_language as pick_language

CALLER = "+14155550123"


def new_call(twilio, app, locale: str, caller: str = CALLER) -> Call:
    call = Call(twilio, caller)
    call.start()
    pick_language(call, app.extensions["voice"].offered, locale)
    return call


def logged(db, call: Call | None = None) -> list[InboundMessage]:
    query = sa.select(InboundMessage).order_by(InboundMessage.id)
    if call is not None:
        query = query.where(InboundMessage.sid.startswith(f"{call.sid}:"))
    return db.all(query)


def subscriber(db, phone: str = CALLER) -> Subscriber:
    return db.one(sa.select(Subscriber).where(Subscriber.phone == phone))


def test_an_english_call_logs_each_topic_heard(app, twilio, db, clock):
    call = new_call(twilio, app, "en")  # steps 0 (the call) and 1 (the language): nothing to log
    assert logged(db) == []
    call.press("2")  # step 2: Hormone therapy
    call.press("1")  # step 3: its first part
    call.press("6")  # step 4: the next part
    call.press("9")  # step 5: by text: a hand-off, not a question
    call.press("0")  # step 6: the main menu
    clock.advance(seconds=30)
    call.say("chemo")  # step 7: Chemotherapy, by speech
    rows = logged(db, call)
    sub = subscriber(db)
    assert [(r.sid, r.channel, r.locale, r.topic, r.body, r.subscriber_id) for r in rows] == [
        (f"{call.sid}:2", "voice", "en", "hormone", "digit 2", sub.id),
        (f"{call.sid}:3", "voice", "en", "hormone", "digit 1", sub.id),
        (f"{call.sid}:4", "voice", "en", "hormone", "digit 6", sub.id),
        (f"{call.sid}:7", "voice", "en", "chemo", "chemo", sub.id),
    ]
    before = clock() - timedelta(seconds=30)
    assert [r.received_at for r in rows] == [before, before, before, clock()]  # the app clock
    assert all(r.red_flag is None for r in rows)
    # The answer is what the caller heard, as a text's row keeps the texts sent back.
    assert json.loads(rows[1].response)[0] == app.extensions["voice"].renderer.item_text("en", "hormone", 0).text


def test_a_spanish_call_is_logged_in_spanish_without_consent_to_texts(app, twilio, db):
    call = new_call(twilio, app, "es")
    call.press("2")
    call.say("quimioterapia")
    rows = logged(db, call)
    assert [(r.channel, r.locale, r.topic, r.body) for r in rows] == [
        ("voice", "es", "hormone", "digit 2"), ("voice", "es", "chemo", "quimioterapia")]
    sub = subscriber(db)
    assert {r.subscriber_id for r in rows} == {sub.id}
    assert (sub.locale, sub.status) == ("es", "new")  # calling is not consent to texts
    assert db.count(ConsentEvent) == 0


def test_an_opted_out_caller_is_logged_and_stays_opted_out(app, twilio, db):
    twilio.sms("hi", from_=CALLER)
    twilio.sms("STOP", from_=CALLER)
    call = Call(twilio, CALLER)
    call.start()
    call.press("4")
    assert [(r.channel, r.topic) for r in logged(db, call)] == [("voice", "her2")]
    assert subscriber(db).status == "opted_out"


def test_a_red_flag_said_aloud_is_logged_with_what_was_said(app, twilio, db):
    call = new_call(twilio, app, "en")
    call.press("2")
    call.say("I have chest pain")
    row = logged(db, call)[-1]
    assert (row.channel, row.topic, row.body) == ("voice", None, "I have chest pain")
    assert row.red_flag and "chest pain" in row.red_flag and row.red_flag_class == "emergency"
    assert json.loads(row.response)[0] == app.extensions["line"].renderer.catalog.string("en", "safety_emergency")


def test_only_what_was_pressed_or_said_is_kept(app, twilio, db):
    call = new_call(twilio, app, "en")
    action = call.gather.get("action")
    # Twilio sends what it heard; a longer key string is one key here, and is logged as that key.
    assert twilio.post(action, {**call.params, "Digits": "2345"}).status == 200
    assert [r.body for r in logged(db, call)] == ["digit 2"]


def test_a_withheld_number_is_logged_without_a_subscriber(app, twilio, db):
    call = new_call(twilio, app, "en", caller="Anonymous")
    call.press("3")
    assert [(r.topic, r.subscriber_id) for r in logged(db, call)] == [("cdk46", None)]
    assert db.count(Subscriber) == 0


def test_a_retried_request_writes_nothing_twice(app, twilio, db):
    call = new_call(twilio, app, "en")
    action = call.gather.get("action")
    call.press("2")
    first = [(r.id, r.sid, r.topic, r.body) for r in logged(db)]
    assert first == [(first[0][0], f"{call.sid}:2", "hormone", "digit 2")]
    # Twilio retries the same request (same URL, so the same step) after the answer was lost.
    retry = twilio.post(action, {**call.params, "Digits": "2"})
    assert retry.status == 200 and retry.root.tag == "Response"
    assert [(r.id, r.sid, r.topic, r.body) for r in logged(db)] == first
    # The caller's next step is logged as usual.
    call.press("1")
    assert [r.sid for r in logged(db)] == [f"{call.sid}:2", f"{call.sid}:3"]


def test_two_calls_from_one_number_are_logged_apart(app, twilio, db):
    first = new_call(twilio, app, "en")
    first.press("2")
    second = Call(twilio, CALLER)
    second.start()
    second.press("2")
    rows = logged(db)
    assert [r.sid for r in rows] == [f"{first.sid}:2", f"{second.sid}:1"]
    assert len({r.subscriber_id for r in rows}) == 1


def test_a_flood_of_calls_does_not_hold_back_text_replies(app, twilio, db):
    line = app.extensions["line"]
    twilio.sms("hi", from_=CALLER)  # an active texter: the flood limit applies to them
    for _ in range(line.flood_limit + 2):
        call = Call(twilio, CALLER)
        call.start()
        call.press("2")
    assert db.scalar(sa.select(sa.func.count()).select_from(InboundMessage)
                     .where(InboundMessage.channel == "voice")) == line.flood_limit + 2
    reply = twilio.sms("2", from_=CALLER)
    assert reply.messages == [line.renderer.topic_menu("en", "hormone")]


def test_a_failing_log_write_is_still_an_apology_not_a_500(app, twilio, db, monkeypatch):
    import service.calls.flow as flow

    call = new_call(twilio, app, "en")

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(flow, "record_step", broken)
    heard = call.press("2")
    assert [h.text for h in heard] == [app.extensions["voice"].renderer.line("en", "voice_apology").text]
    assert call.ended and call.responses[-1].status == 200 and call.responses[-1].root[-1].tag == "Hangup"
    assert logged(db) == []


def test_steps_in_urls():
    assert step_of({}) == 0 and step_of({"step": "12"}) == 12
    assert step_of({"step": "-1"}) == 0 and step_of({"step": "1e9"}) == 0 and step_of({"step": "²"}) == 0
    assert with_step("/twilio/voice/input", 3) == "/twilio/voice/input?step=3"
    assert with_step("/twilio/voice/trials/zip?locale=zh-Hans&step=2", 3) == (
        "/twilio/voice/trials/zip?locale=zh-Hans&step=3")
    assert step_sid("CA" + "0" * 32, 7) == "CA" + "0" * 32 + ":7"
    long = step_sid("CA" + "x" * 62, 123456)
    assert len(long) <= 64 and long.endswith(":123456") and long != step_sid("CA" + "y" * 62, 123456)


def test_a_retried_request_gets_the_same_answer_and_the_call_moves_once(app, twilio, db):
    """Twilio retries a request whose answer it did not get (a timeout, a dropped connection)
    with the same URL: the caller must hear the same thing, not the next step's answer."""
    call = new_call(twilio, app, "en")
    action = call.gather.get("action")
    call.press("2")  # the hormone therapy list
    first = call.responses[-1].raw
    retry = twilio.post(action, {**call.params, "Digits": "2"})
    assert retry.raw == first  # byte for byte, links to the next step included
    heard = call.press("1")  # the caller goes on from the list, as if the retry never happened
    again = [h.text for h in heard]
    fresh = new_call(twilio, app, "en", caller="+14155550124")
    fresh.press("2")
    assert again == [h.text for h in fresh.press("1")]
    assert [r.sid for r in logged(db, call)] == [f"{call.sid}:2", f"{call.sid}:3"]


def test_a_retry_of_a_failed_request_is_answered_afresh(app, twilio, monkeypatch):
    """Nothing is remembered from a request that failed: its retry runs the step."""
    call = new_call(twilio, app, "en")
    action = call.gather.get("action")
    voice = app.extensions["voice"]
    real = voice.gathered

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(voice, "gathered", broken)
    failed = twilio.post(action, {**call.params, "Digits": "2"})
    assert [el.tag for el in failed.root] == ["Say", "Hangup"]
    monkeypatch.setattr(voice, "gathered", real)
    retry = twilio.post(action, {**call.params, "Digits": "2"})
    said = [el.text for el in retry.root.iter("Say")]
    assert retry.root.find("Gather") is not None and any("ormone" in (t or "") for t in said), retry.raw
