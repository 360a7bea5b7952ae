"""POST /twilio/sms through signed, Twilio-shaped form posts; TwiML parsed, not grepped."""

from __future__ import annotations

import sqlalchemy as sa

from service.models import ConsentEvent, InboundMessage, Subscriber

PHONE = "+14155550100"


def subscriber(db, phone=PHONE) -> Subscriber:
    return db.one(sa.select(Subscriber).where(Subscriber.phone == phone))


def consent_history(db, phone=PHONE) -> list[tuple[str, str]]:
    sub = subscriber(db, phone)
    rows = db.all(sa.select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id).order_by(ConsentEvent.id))
    return [(r.kind, r.source) for r in rows]


def test_first_text_gets_disclaimer_then_menu(twilio, db):
    reply = twilio.sms("hi")
    assert reply.status == 200
    assert reply.content_type.startswith("application/xml")
    welcome, menu = reply.messages
    assert "not medical advice" in welcome
    assert "Emergency? Call 911" in welcome
    assert menu.splitlines()[1] == "1 How doctors choose"[: len(menu.splitlines()[1])] or menu.splitlines()[1].startswith("1 ")
    assert subscriber(db).status == "active"
    assert consent_history(db) == [("opt_in", "sms_first_contact")]


def test_number_is_stored_in_e164(twilio, db):
    twilio.sms("MENU", from_="+1 (415) 555-0100")
    assert subscriber(db, "+14155550100").phone == "+14155550100"


def test_menu_navigation_topic_item_more_back(twilio, db):
    twilio.sms("hi")
    topic_menu = twilio.sms("2").messages
    assert len(topic_menu) == 1
    assert topic_menu[0].startswith("Hormone therapy")
    first = twilio.sms("1").text
    assert "estrogen" in first
    second = twilio.sms("MORE").text
    assert "letrozole" in second
    back = twilio.sms("0").text
    assert back.startswith("Hormone therapy")
    main = twilio.sms("back").text
    assert main.startswith("MBC Guide topics")
    state = subscriber(db)
    assert (state.menu_node, state.menu_topic) == ("main", None)


def test_more_pages_the_main_menu_and_numbers_work_across_pages(twilio):
    twilio.sms("hi")
    page2 = twilio.sms("MORE").text
    assert page2.splitlines()[1].startswith("6 ")
    assert twilio.sms("10").text.startswith("Clinical trials")


def test_unknown_input_gets_a_short_hint(twilio):
    twilio.sms("hi")
    hint = twilio.sms("what about my aunt").messages
    assert hint == ["Sorry, I did not get that. Reply a number from the list, MENU for topics, or HELP."]
    assert twilio.sms("99").messages == hint


def test_state_expires_after_silence(twilio, clock):
    twilio.sms("hi")
    twilio.sms("2")
    clock.advance(minutes=29)
    assert "estrogen" in twilio.sms("1").text  # still in the hormone topic
    clock.advance(minutes=31)
    assert twilio.sms("1").text.startswith("MBC Guide topics")  # starts again at the menu


def test_help_has_every_required_part(twilio):
    reply = twilio.sms("help").text
    for part in ("MBC Guide", "metastatic breast cancer", "Not medical advice", "Contact:",
                 "Msg & data rates may apply", "Reply STOP to cancel", "Emergency? Call 911"):
        assert part in reply


def test_spanish_help_keyword_answers(twilio):
    assert "911" in twilio.sms("AYUDA").text


def test_repeated_delivery_changes_nothing_and_gets_the_same_reply(twilio, db):
    twilio.sms("hi")
    first = twilio.sms("2", sid="SM" + "a" * 32)
    again = twilio.sms("2", sid="SM" + "a" * 32)
    assert again.raw == first.raw
    assert subscriber(db).menu_topic == "hormone"
    assert db.count(InboundMessage) == 2


def test_repeated_stop_delivery_records_one_opt_out(twilio, db):
    twilio.sms("hi")
    sid = "SM" + "b" * 32
    one = twilio.sms("STOP", sid=sid)
    two = twilio.sms("STOP", sid=sid)
    assert one.raw == two.raw and len(one.messages) == 1
    assert consent_history(db) == [("opt_in", "sms_first_contact"), ("opt_out", "sms_keyword")]


def test_unknown_extra_parameters_are_accepted(twilio):
    reply = twilio.sms("hi", NewParamTwilioAddedLater="x", StirVerstat="TN-Validation-Passed-A")
    assert reply.status == 200 and len(reply.messages) == 2


def test_advanced_opt_out_is_recorded_with_an_empty_response(twilio, db):
    twilio.sms("hi")
    reply = twilio.sms("STOP", OptOutType="STOP")
    assert reply.status == 200
    assert reply.root.tag == "Response" and list(reply.root) == []
    assert subscriber(db).status == "opted_out"
    assert consent_history(db)[-1] == ("opt_out", "twilio_advanced_opt_out")
    assert twilio.sms("MENU").messages == []
    back = twilio.sms("START", OptOutType="START")
    assert list(back.root) == []
    assert subscriber(db).status == "active"


def test_red_flag_gets_safety_reply_in_any_state(twilio, db):
    twilio.sms("hi")
    twilio.sms("7")
    twilio.sms("3")
    reply = twilio.sms("I have a fever of 101 since chemo")
    assert len(reply.messages) == 1
    assert "care team now" in reply.text and "911" in reply.text and "No person reads" in reply.text
    assert "?" not in reply.text  # a safety reply never asks a question
    row = db.all(sa.select(InboundMessage).order_by(InboundMessage.id.desc()))[0]
    assert (row.red_flag_class, row.red_flag) == ("urgent", "temperature")
    assert subscriber(db).menu_topic == "chemo"  # the menu position is kept


def test_red_flag_in_spanish(twilio):
    twilio.sms("hola")
    assert "911" in twilio.sms("no puedo respirar").text


def test_first_message_red_flag_gets_help_first_then_the_disclaimer(twilio):
    messages = twilio.sms("chest pain").messages
    assert "Call 911 now" in messages[0]
    assert "not medical advice" in messages[1]


def test_inbound_flood_from_one_number_is_throttled_but_stop_still_works(twilio, app, db, clock):
    limit = app.extensions["line"].flood_limit
    answered = 0
    for i in range(limit + 10):
        clock.advance(seconds=2)  # faster than anyone reads: a loop or a flood
        # Alternating: the same text again and again is a loop, held back sooner (tests/security/test_floods.py).
        if twilio.sms("MENU" if i % 2 else "HELP").messages:
            answered += 1
    assert answered == limit  # the first `limit` texts got replies, the rest none
    stop = twilio.sms("STOP")
    assert len(stop.messages) == 1 and "START" in stop.text
    assert subscriber(db).status == "opted_out"
    clock.advance(minutes=3)  # the window passes
    assert twilio.sms("START").messages != []


# A term or topic word as the very first text (issue 15): the CTIA welcome first, then the answer,
# in the language the question is written in.

def _welcome_then(messages: list[str], renderer, locale: str) -> list[str]:
    assert messages[0] == renderer.render_text("welcome", locale)
    for part in ("MBC Guide", "911"):
        assert part in messages[0]
    return messages[1:]


def test_first_text_asking_a_term_gets_the_welcome_then_the_definition(twilio, app, db):
    renderer = app.extensions["line"].renderer
    reply = twilio.sms("what is her2?").messages
    assert "Msg & data rates may apply" in reply[0]  # CTIA's first-contact wording, as sent
    rest = _welcome_then(reply, renderer, "en")
    assert rest == [renderer.render_text("term_her2", "en")]
    assert consent_history(db) == [("opt_in", "sms_first_contact")]
    rest = _welcome_then(twilio.sms("TNBC", from_="+14155550101").messages, renderer, "en")
    assert rest == [renderer.render_text("term_tnbc", "en")]


def test_first_text_asking_a_term_in_spanish_is_answered_in_spanish(twilio, app, db):
    renderer = app.extensions["line"].renderer
    rest = _welcome_then(twilio.sms("que es HER2").messages, renderer, "es")
    assert rest[0] == renderer.render_text("lang_set", "es")  # says how to change the language
    assert rest[-1] == renderer.render_text("term_her2", "es")
    assert subscriber(db).locale == "es"


def test_first_text_asking_a_term_in_chinese_is_answered_in_chinese(twilio, app, db):
    renderer = app.extensions["line"].renderer
    rest = _welcome_then(twilio.sms("什么是HER2？").messages, renderer, "zh-Hans")
    assert rest[-1] == renderer.render_text("term_her2", "zh-Hans")
    assert subscriber(db).locale == "zh-Hans"


def test_first_text_naming_a_topic_gets_the_welcome_then_the_topic(twilio, app, db):
    renderer = app.extensions["line"].renderer
    rest = _welcome_then(twilio.sms("chemo").messages, renderer, "en")
    assert rest == [renderer.topic_menu("en", "chemo")]
    assert (subscriber(db).menu_node, subscriber(db).menu_topic) == ("topic", "chemo")
    assert "Chemo kills" in twilio.sms("1").text  # the topic's numbers work next


def test_first_text_with_a_term_and_a_red_flag_gets_the_safety_reply_first(twilio):
    messages = twilio.sms("what is her2? I have chest pain").messages
    assert "Call 911 now" in messages[0]
    assert "not medical advice" in messages[1]
    assert not any("protein" in m for m in messages)
