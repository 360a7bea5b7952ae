"""Whole calls to /twilio/voice, followed the way Twilio follows TwiML (tests/support/voice_caller)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from service.content.voice import VOICES
from service.engine.call import language_page
from service.models import CallSession, ConsentEvent, OutboundMessage, Subscriber
from tests.support.voice_caller import Call
from tests.support.voice_caller import choose_language as pick_language

CALLER = "+14155550123"


def voice(app):
    return app.extensions["voice"]


def said(app, locale, name, **params) -> str:
    return voice(app).renderer.line(locale, name, **params).text


def assert_spoken_in(heard, locale):
    expected = VOICES[locale]
    assert heard, "nothing was said"
    for h in heard:
        assert (h.kind, h.language, h.voice) == ("say", expected.language, expected.voice), h


def choose_language(call: Call, app, locale: str) -> list:
    return pick_language(call, voice(app).offered, locale)


def new_call(twilio, app, locale: str, caller: str = CALLER) -> Call:
    call = Call(twilio, caller)
    call.start()
    choose_language(call, app, locale)
    return call


def walk_to_item(call: Call, topic_key: str = "2", item_key: str = "1") -> None:
    call.press(topic_key)
    call.press(item_key)


def outbox(db) -> list[OutboundMessage]:
    return db.all(sa.select(OutboundMessage).order_by(OutboundMessage.id))


# --- the language menu ---------------------------------------------------------------------------


def test_new_caller_hears_each_language_in_its_own_voice(app, twilio):
    call = Call(twilio, CALLER)
    heard = call.start()
    offered = voice(app).offered
    assert offered[:2] == ["en", "es"]
    assert heard[0].text == said(app, "en", "voice_lang_prompt")
    shown, more = language_page(offered, 0)
    options = heard[1:1 + len(shown)]
    for key, (locale, h) in enumerate(zip(shown, options), start=1):
        assert h.text == said(app, locale, "voice_lang_option", key=key)
        assert (h.language, h.voice) == (VOICES[locale].language, VOICES[locale].voice)
    assert options[1].text == "Para español, marque 2."
    # With more than nine, the next page's languages are named too, each in its own voice, on 9.
    following = offered[len(shown):2 * len(shown)] if more else []
    assert [(h.text, h.voice) for h in heard[1 + len(shown):]] == [
        (said(app, locale, "voice_lang_option", key=9), VOICES[locale].voice) for locale in following]
    # Keypad only (the options are in several languages); one key; # is a key, not "done". The
    # next request is the call's step 1 (service/calls/log.py).
    gather = call.gather
    assert gather.attrib == {"action": "/twilio/voice/input?step=1", "method": "POST", "input": "dtmf",
                             "numDigits": "1", "timeout": "6", "finishOnKey": ""}
    redirect = call.after[0]
    assert (redirect.tag, redirect.text, redirect.get("method")) == ("Redirect", "/twilio/voice/silence?step=1",
                                                                     "POST")


def test_a_locale_without_a_twilio_voice_is_not_offered_without_recordings(app):
    assert "ht" in app.extensions["line"].renderer.enabled_locales
    assert "ht" not in voice(app).offered
    assert all(locale in VOICES for locale in voice(app).offered)


def test_choosing_a_language_stores_it_without_consenting_to_texts(app, twilio, db):
    call = new_call(twilio, app, "es")
    assert call.heard[0].text == said(app, "es", "voice_welcome")
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == CALLER))
    assert (sub.locale, sub.status) == ("es", "new")
    assert db.count(ConsentEvent) == 0

    again = Call(twilio, CALLER)
    heard = again.start()  # a stored language: straight to the welcome and menu
    assert_spoken_in(heard, "es")
    assert heard[0].text == said(app, "es", "voice_welcome")


def test_a_texter_is_greeted_in_their_language_and_can_change_it(app, twilio, db):
    assert twilio.sms("HOLA", from_=CALLER).status == 200
    call = Call(twilio, CALLER)
    heard = call.start()
    assert_spoken_in(heard, "es")
    assert said(app, "es", "voice_menu_lang", key="7") in call.said
    menu = call.press("7")
    assert menu[0].text == said(app, "en", "voice_lang_prompt")
    heard = choose_language(call, app, "en")
    assert_spoken_in(heard, "en")
    assert heard[0].text == said(app, "en", "voice_welcome")
    assert db.one(sa.select(Subscriber.locale).where(Subscriber.phone == CALLER)) == "en"


# --- whole calls per locale -------------------------------------------------------------------------


LOCALES = ["en", "es", "zh-Hans", "vi", "ru"]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_whole_call_in_one_language(app, twilio, locale):
    assert locale in voice(app).offered
    renderer = voice(app).renderer
    call = new_call(twilio, app, locale)
    assert_spoken_in(call.heard, locale)
    assert call.heard[0].text == said(app, locale, "voice_welcome")
    speech = VOICES[locale].speech
    if speech:
        assert (call.gather.get("input"), call.gather.get("language")) == ("dtmf speech", speech)
        assert renderer.topic_label(locale, "hormone") in call.gather.get("hints")
    else:
        assert call.gather.get("input") == "dtmf"

    heard = call.press("2")
    assert_spoken_in(heard, locale)
    assert heard[0].text == renderer.topic_label(locale, "hormone")
    first_part = renderer.catalog.get(locale, renderer.content.topic("hormone").items[0].label_key)
    assert heard[1].text == said(app, locale, "voice_item_option", label=first_part, key=1)
    heard = call.press("1")
    assert heard[0].text == renderer.item_text(locale, "hormone", 0).text
    assert said(app, locale, "voice_item_next", key="6") in call.said
    heard = call.press("6")
    assert heard[0].text == renderer.item_text(locale, "hormone", 1).text
    heard = call.press("0")
    assert heard[0].text == said(app, locale, "voice_menu_option", topic=renderer.topic_label(locale, "choosing"), key=1)
    heard = call.press("#")
    assert [h.text for h in heard] == [said(app, locale, "voice_goodbye")]
    assert_spoken_in(heard, locale)
    assert call.ended and call.responses[-1].root[-1].tag == "Hangup"


def test_voice_wording_spells_out_what_sms_abbreviates(app, twilio):
    call = new_call(twilio, app, "en")
    assert "For C D K 4 and 6 inhibitors, press 3." in call.said
    call.press("2")
    heard = call.press("5")
    assert "E S R 1" in heard[0].text and "ESR1" not in heard[0].text
    sms = app.extensions["line"].renderer.item("en", "hormone", 4)
    assert "ESR1" in sms  # the same item, texted


def test_the_main_menu_pages_and_numbers_run_on(app, twilio, db):
    call = new_call(twilio, app, "en")
    heard = call.press("6")
    assert heard[0].text == "For Immunotherapy, press 1."
    heard = call.press("5")
    assert heard[0].text == "Clinical trials"
    assert said(app, "en", "voice_trials_zip", key="8") in call.said
    row = db.one(sa.select(CallSession).where(CallSession.call_sid == call.sid))
    assert (row.node, row.topic, row.locale) == ("topic", "trials", "en")


def test_star_repeats_what_was_said_last(app, twilio):
    call = new_call(twilio, app, "en")
    walk_to_item(call)
    first = list(call.heard)
    assert call.press("*") == first
    call.press("0")
    menu = list(call.heard)
    assert call.press("*") == menu


# --- silence and wrong keys -----------------------------------------------------------------------


def test_silence_reprompts_twice_then_says_goodbye_and_hangs_up(app, twilio):
    call = new_call(twilio, app, "en")
    menu = [h.text for h in call.heard[3:]]  # after the welcome's three lines
    for _ in range(2):
        heard = call.silence()
        assert [h.text for h in heard] == [said(app, "en", "voice_no_input"), *menu]
        assert not call.ended
    heard = call.silence()
    assert [h.text for h in heard] == [said(app, "en", "voice_goodbye")]
    assert call.ended and call.responses[-1].root[-1].tag == "Hangup"


def test_silence_on_the_language_menu_reprompts_in_english(app, twilio):
    call = Call(twilio, CALLER)
    options = list(call.start())
    heard = call.silence()
    assert heard[0].text == said(app, "en", "voice_no_input")
    assert heard[1:] == options


def test_wrong_keys_reprompt_and_a_good_key_resets_the_count(app, twilio):
    call = new_call(twilio, app, "en")
    assert call.press("9")[0].text == said(app, "en", "voice_invalid")  # 9 means nothing on the main menu
    assert call.press("8")[0].text == said(app, "en", "voice_invalid")
    assert call.press("2")[0].text == "Hormone therapy"
    assert call.press("7")[0].text == said(app, "en", "voice_invalid")  # 7: language, main menu only
    assert call.silence()[0].text == said(app, "en", "voice_no_input")
    assert not call.ended
    call.press("8")  # trials search only in the trials topic
    assert call.ended


# --- speech ----------------------------------------------------------------------------------------


def test_speech_picks_topics_and_parts_by_name(app, twilio):
    call = new_call(twilio, app, "en")
    assert call.say("hormone therapy")[0].text == "Hormone therapy"
    heard = call.say("side effects please")
    assert heard[0].text == voice(app).renderer.item_text("en", "hormone", 2).text
    assert call.say("trials")[0].text == "Clinical trials"  # another topic, from inside one
    assert call.say("chemo")[0].text == "Chemotherapy"
    assert call.say("main menu")[0].text.startswith("For Choosing treatment")
    assert call.say("banana bread")[0].text == said(app, "en", "voice_invalid")


def test_spanish_speech_uses_spanish_labels(app, twilio):
    call = new_call(twilio, app, "es")
    heard = call.say("terapia hormonal")
    assert heard[0].text == voice(app).renderer.topic_label("es", "hormone")
    assert_spoken_in(heard, "es")


def test_a_red_flag_said_aloud_gets_the_safety_message(app, twilio):
    call = new_call(twilio, app, "en")
    heard = call.say("I have chest pain")
    safety = voice(app).renderer.safety("en", "emergency", "nobody")
    assert [h.text for h in heard] == [u.text for u in safety]  # no menu read over it
    assert "Call 911 now" in heard[0].text and "press star" in heard[-1].text and not call.ended
    # * says it again; a "yes" is no answer to it; any other key says it again too
    assert [h.text for h in call.press("*")] == [u.text for u in safety]
    assert [h.text for h in call.say("yes")] == [u.text for u in safety]
    assert [h.text for h in call.press("3")] == [u.text for u in safety]
    # 0 leaves it for the main menu
    menu = voice(app).renderer.main_menu("en", 0, languages=True, speech=True)
    assert [h.text for h in call.press("0")][:len(menu) - 2] == [u.text for u in menu][:len(menu) - 2]


@pytest.mark.parametrize("locale,said,kind", [
    ("es", "quiero morirme", "crisis"), ("vi", "tôi muốn tự tử", "crisis"), ("zh-Hans", "我发烧了", "urgent"),
])
def test_a_red_flag_said_aloud_is_answered_in_the_callers_language(app, twilio, locale, said, kind):
    call = new_call(twilio, app, locale)
    heard = call.say(said)
    safety = voice(app).renderer.safety(locale, kind, "nobody")
    assert [h.text for h in heard] == [u.text for u in safety]
    assert {h.language for h in heard} == {VOICES[locale].language}


# --- press 9: get this by text ----------------------------------------------------------------------


def test_press_9_queues_the_sms_wording_once_and_records_consent(app, twilio, db):
    call = new_call(twilio, app, "en")
    walk_to_item(call)
    heard = call.press("9")
    assert heard[0].text == said(app, "en", "voice_texted")
    options = voice(app).renderer.item_options("en", "hormone", 0, trials_search=False)
    assert [h.text for h in heard[1:]] == [u.text for u in options]  # then the choices again
    sms = app.extensions["line"].renderer
    rows = outbox(db)
    assert [(r.source, r.phone, r.locale, r.status) for r in rows] == [("voice_handoff", CALLER, "en", "queued")] * 2
    assert rows[0].body == sms.render_text("welcome", "en")  # first text to a new number: not medical advice
    assert rows[1].body == sms.item("en", "hormone", 0)
    assert rows[1].dedupe_key == f"voice_handoff:{call.sid}:hormone:0" and rows[1].topic == "hormone"
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == CALLER))
    assert sub.status == "active"
    events = db.all(sa.select(ConsentEvent).where(ConsentEvent.subscriber_id == sub.id))
    assert [(e.kind, e.source, e.channel) for e in events] == [("opt_in", "voice_request", "voice")]

    call.press("9")  # again: said again, queued once
    assert len(outbox(db)) == 2
    assert db.one(sa.select(CallSession.texts_sent).where(CallSession.call_sid == call.sid)) == 1


def test_press_9_in_spanish_texts_spanish(app, twilio, db):
    call = new_call(twilio, app, "es")
    call.press("2")
    heard = call.press("9")  # on the topic menu: its SMS menu, so a reply by text picks a part
    assert_spoken_in(heard, "es")
    assert heard[0].text == said(app, "es", "voice_texted")
    bodies = [r.body for r in outbox(db)]
    assert bodies[-1] == app.extensions["line"].renderer.topic_menu("es", "hormone")
    assert all(r.locale == "es" for r in outbox(db))


def test_a_text_reply_carries_on_where_the_call_left_off(app, twilio):
    call = new_call(twilio, app, "en")
    walk_to_item(call)
    call.press("9")
    reply = twilio.sms("MORE", from_=CALLER)
    assert reply.messages == [app.extensions["line"].renderer.item("en", "hormone", 1)]


def test_at_most_three_texts_per_call(app, twilio, db):
    call = new_call(twilio, app, "en")
    walk_to_item(call)
    for _ in range(3):
        assert call.press("9")[0].text == said(app, "en", "voice_texted")
        call.press("6")
    assert call.press("9")[0].text == said(app, "en", "voice_text_limit", count=3)
    assert len([r for r in outbox(db) if r.topic == "hormone"]) == 3


def test_no_text_to_a_number_that_opted_out(app, twilio, db):
    twilio.sms("hi", from_=CALLER)
    twilio.sms("STOP", from_=CALLER)
    events_before = db.count(ConsentEvent)
    call = Call(twilio, CALLER)
    call.start()  # stored language: English
    walk_to_item(call)
    heard = call.press("9")
    assert heard[0].text == said(app, "en", "voice_opted_out")
    assert outbox(db) == []
    assert db.count(ConsentEvent) == events_before
    assert db.one(sa.select(Subscriber.status).where(Subscriber.phone == CALLER)) == "opted_out"


def test_an_active_texter_gets_no_second_welcome_or_consent(app, twilio, db):
    twilio.sms("hi", from_=CALLER)
    call = Call(twilio, CALLER)
    call.start()
    walk_to_item(call)
    call.press("9")
    assert [r.body for r in outbox(db)] == [app.extensions["line"].renderer.item("en", "hormone", 0)]
    sources = db.all(sa.select(ConsentEvent.source))
    assert sources == ["sms_first_contact"]


def test_a_withheld_number_hears_the_line_but_cannot_get_texts(app, twilio, db):
    call = new_call(twilio, app, "en", caller="Anonymous")
    walk_to_item(call)
    assert call.press("9")[0].text == said(app, "en", "voice_no_text")
    assert outbox(db) == [] and db.count(Subscriber) == 0


# --- other parts of the call --------------------------------------------------------------------


def test_trials_search_by_zip_and_back_to_the_menu_without_a_second_welcome(app, twilio):
    catalog = app.extensions["line"].renderer.catalog
    call = new_call(twilio, app, "es")
    call.press("6")
    call.press("5")
    heard = call.press("8")
    assert heard[0].text == catalog.string("es", "trials_voice_zip")
    call.silence()  # the trials search asks once more
    heard = call.silence()  # then explains and sends the caller back to /twilio/voice
    texts = [h.text for h in heard]
    assert said(app, "es", "voice_welcome") not in texts
    assert said(app, "es", "voice_menu_option", topic=voice(app).renderer.topic_label("es", "choosing"), key=1) in texts
    assert not call.ended


def test_call_state_is_kept_per_call_sid(app, twilio, db):
    first = new_call(twilio, app, "en")
    second = new_call(twilio, app, "en", caller="+14155550124")
    walk_to_item(first, "3", "2")
    second.press("4")
    rows = {r.call_sid: r for r in db.all(sa.select(CallSession))}
    assert (rows[first.sid].node, rows[first.sid].topic, rows[first.sid].item) == ("item", "cdk46", 1)
    assert (rows[second.sid].node, rows[second.sid].topic) == ("topic", "her2")


# --- failures and bad requests ------------------------------------------------------------------


def test_an_internal_failure_is_a_spoken_apology_and_hangup(app, twilio, monkeypatch, caplog):
    call = new_call(twilio, app, "es")

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(type(voice(app)), "gathered", broken)
    with caplog.at_level(logging.ERROR):
        heard = call.press("2")
    assert [h.text for h in heard] == [said(app, "es", "voice_apology")]
    assert_spoken_in(heard, "es")
    assert call.ended and call.responses[-1].status == 200
    assert call.responses[-1].root[-1].tag == "Hangup"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+1******0123" in logged and CALLER not in logged


def test_a_failure_before_any_language_apologises_in_english(app, twilio, monkeypatch):
    monkeypatch.setattr(type(voice(app)), "start", lambda *a, **k: 1 / 0)
    heard = Call(twilio, CALLER).start()
    assert [h.text for h in heard] == [said(app, "en", "voice_apology")]


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/input", "/twilio/voice/silence"])
def test_unsigned_or_badly_signed_requests_are_refused(twilio, path, db):
    params = Call(twilio, CALLER).params | {"Digits": "1"}
    assert twilio.post(path, params, signature="").status == 403
    assert twilio.post(path, params, signature="bm90IGEgc2lnbmF0dXJl").status == 403
    signed_other = twilio.sign(path, params | {"Digits": "2"})
    assert twilio.post(path, params, signature=signed_other).status == 403
    assert db.count(CallSession) == 0


def test_malformed_requests_get_400(twilio, client):
    params = Call(twilio, CALLER).params
    del params["CallSid"]
    assert twilio.post("/twilio/voice", params).status == 400
    resp = client.post("/twilio/voice", json={"CallSid": "CA1"},
                       headers={"X-Twilio-Signature": twilio.sign("/twilio/voice", {})})
    assert resp.status_code == 400


def test_the_language_menu_pages_when_more_than_nine_languages():
    twelve = ["en", "es", "zh-Hans", "zh-Hant", "vi", "ko", "tl", "ru", "ar", "ht", "pt-BR", "fr"]
    assert language_page(twelve[:9], 0) == (twelve[:9], False)  # keys 1-9, no paging
    assert language_page(twelve, 0) == (twelve[:8], True)  # 1-8, then 9 = more languages
    assert language_page(twelve, 1) == (twelve[8:], True)  # 9 again goes back to the start


def test_nine_pages_the_language_menu_and_comes_back(app, twilio):
    offered = voice(app).offered
    if len(offered) <= 9:
        pytest.skip("nine or fewer languages fit on keys 1-9")
    call = Call(twilio, CALLER)
    first = call.start()
    heard = call.press("9")
    later = offered[8:]  # at most 12 locales exist: two pages
    assert [h.text for h in heard[:len(later)]] == [said(app, loc, "voice_lang_option", key=n)
                                                     for n, loc in enumerate(later, start=1)]
    assert heard[-1].text == said(app, "en", "voice_lang_more", key=9)
    assert call.press("9") == first  # 9 on the last page: back to the first languages
    call.press("9")
    heard = call.press(str(len(later)))
    assert heard[0].text == said(app, offered[-1], "voice_welcome")
    assert_spoken_in(heard, offered[-1])


def test_a_calls_row_is_made_once_with_its_defaults_and_says_who_made_it(app, clock):
    """lock_call inserts with ON CONFLICT DO NOTHING (no SAVEPOINT): the first request makes the
    row, a later or racing one finds it and is told it did not make it."""
    from service import db
    from service.call_sessions import _INSERT_CALL_ONCE, lock_call
    from service.calls.flow import LANG

    with app.app_context():
        with db.transaction() as sess:
            call, created = lock_call(sess, "CA" + "1" * 32, CALLER, clock())
            assert created
            assert (call.node, call.page, call.retries, call.texts_sent, call.locale) == (LANG, 0, 0, 0, None)
            assert (call.phone, call.started_at, call.last_seen_at) == (CALLER, clock(), clock())
        with db.transaction() as sess:
            again, created = lock_call(sess, "CA" + "1" * 32, CALLER, clock())
            assert not created and again.id == call.id
            # The race lost: the row appeared between our SELECT and our INSERT.
            conn = sess.connection()
            lost = conn.execute(_INSERT_CALL_ONCE[conn.dialect.name], {
                "call_sid": "CA" + "1" * 32, "phone": CALLER, "node": LANG, "started_at": clock(),
                "last_seen_at": clock()}).first()
            assert lost is None
        with db.transaction() as sess:
            assert sess.scalar(sa.select(sa.func.count()).select_from(CallSession)) == 1
