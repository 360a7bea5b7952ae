"""What patients are told about review, over SMS and voice, under both UNREVIEWED_LOCALES policies
(service/reviews.py): "reviewed" only from recorded approvals, the machine-translation note, and a
locale held back until every text is approved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service import create_app
from service import db as dbmod
from service.clinics.accounts import create_token
from service.models import Clinic, LocaleNotice, Subscriber
from tests.conftest import PUBLIC, TOKEN, _empty_tables
from tests.support.reviews import approve
from tests.support.twilio import TwilioEmulator
from tests.support.voice_caller import Call, choose_language

PHONE = "+14155550142"


def string(app, locale: str, name: str, **params) -> str:
    return app.extensions["line"].renderer.catalog.string(locale, name, **params)


def spoken(app, locale: str, name: str, **params) -> str:
    return app.extensions["voice"].renderer.line(locale, name, **params).text


@pytest.fixture
def off_app(database_url, clock):
    """The line with UNREVIEWED_LOCALES=off, on the test database."""
    app = create_app({"APP_ENV": "test", "TESTING": True, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC,
                      "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "test-secret", "UNREVIEWED_LOCALES": "off"})
    app.extensions["clock"] = clock
    yield app
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


def line_of(app) -> TwilioEmulator:
    return TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)


# --- label (the default) --------------------------------------------------------------------------


def test_label_english_says_facts_as_of_until_every_text_is_approved(app, twilio):
    welcome = twilio.sms("hi", from_=PHONE).messages[0]
    assert welcome.endswith("\nFacts as of June 2026.") and "reviewed" not in welcome
    approve(app, "en", list(app.extensions["line"].renderer.content.texts)[:-1])  # all but one
    assert twilio.sms("hi", from_="+14155550143").messages[0].endswith("\nFacts as of June 2026.")
    approve(app, "en")
    welcome = twilio.sms("hi", from_="+14155550144").messages[0]
    assert welcome.endswith("\nInfo reviewed November 2026.")  # the month of the approvals (clock: 2 Nov 2026)
    assert string(app, "en", "machine_note") not in twilio.sms("HELP", from_="+14155550144").messages


def test_label_a_machine_translation_says_so_on_choosing_it_and_in_help(app, twilio):
    note = string(app, "es", "machine_note")
    first = twilio.sms("Hola", from_=PHONE).messages
    assert string(app, "es", "facts_as_of", date="junio de 2026") in first[0]
    assert first[1] == string(app, "es", "lang_set") and first[2] == note  # its own text: HELP keeps its budget
    assert note in twilio.sms("AYUDA", from_=PHONE).messages
    lang = twilio.sms("IDIOMA", from_=PHONE).messages
    assert "ESPAÑOL" in lang[0]  # every enabled language is offered under "label"
    assert twilio.sms("TIẾNG VIỆT", from_=PHONE).messages[1] == string(app, "vi", "machine_note")
    # Once every Spanish text is approved, the note stops and the welcome says when it was reviewed.
    approve(app, "es")
    assert note not in twilio.sms("AYUDA", from_=PHONE).messages
    welcome = twilio.sms("Hola", from_="+14155550145").messages
    assert welcome[0].endswith(string(app, "es", "reviewed", date="noviembre de 2026")) and note not in welcome


def test_label_calls_say_the_note_and_the_real_date(app, twilio):
    call = Call(twilio, PHONE)
    call.start()
    said = choose_language(call, app.extensions["voice"].offered, "es")
    texts = [h.text for h in said]
    assert spoken(app, "es", "voice_machine_note") in texts
    assert spoken(app, "es", "voice_facts_as_of", date="junio de 2026") in texts
    approve(app, "es")
    call = Call(twilio, PHONE)  # the stored language now: straight to the Spanish welcome
    texts = [h.text for h in call.start()]
    assert spoken(app, "es", "voice_reviewed", date="noviembre de 2026") in texts
    assert spoken(app, "es", "voice_machine_note") not in texts


# --- off --------------------------------------------------------------------------------------------


def test_off_offers_a_language_by_sms_only_when_every_text_is_approved(off_app, db):
    line = line_of(off_app)
    english_menu = line.sms("LANG", from_="+14155550150").messages[-1]
    assert english_menu.splitlines()[1:] == ["1 ENGLISH"]  # nothing else is approved yet
    # Someone who writes in Spanish (or chose it before) gets English, with one note in Spanish.
    first = line.sms("Hola", from_=PHONE).messages
    assert first[0] == string(off_app, "es", "locale_off_note")
    assert first[1].startswith("MBC Guide: facts on metastatic") and first[2].startswith("MBC Guide topics")
    assert db.one(sa.select(Subscriber.locale).where(Subscriber.phone == PHONE)) == "es"  # their choice is kept
    again = line.sms("MENU", from_=PHONE).messages
    assert again[0].startswith("MBC Guide topics") and string(off_app, "es", "locale_off_note") not in again
    assert db.count(LocaleNotice) == 1
    # Spanish keywords still work for them (STOP above all), answered in English.
    assert line.sms("PARAR", from_=PHONE).messages == [string(off_app, "en", "stop_confirm")]
    line.sms("START", from_=PHONE)

    approve(off_app, "es")  # the last Spanish text approved: Spanish is offered from the next message
    assert line.sms("MENU", from_=PHONE).messages[0].startswith(string(off_app, "es", "menu_header"))
    menu = line.sms("LANG", from_="+14155550150").messages[-1].splitlines()
    assert menu[1:] == ["1 ENGLISH", "2 ESPAÑOL"]
    assert line.sms("2", from_="+14155550150").messages[0] == string(off_app, "es", "lang_set")


def test_off_calls_offer_only_approved_languages_and_tell_a_held_back_caller_once(off_app, db):
    voice = off_app.extensions["voice"]
    assert voice.offered == ["en"]
    line = line_of(off_app)
    line.sms("Hola", from_=PHONE)  # a Spanish texter (told by text already)
    with off_app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.delete(LocaleNotice))  # ...who calls before their first note: told on the call
    call = Call(line, PHONE)
    heard = call.start()
    assert heard[0].text == spoken(off_app, "es", "voice_locale_off_note") and heard[0].language == "es-US"
    assert heard[1].text == spoken(off_app, "en", "voice_welcome") and heard[1].language == "en-US"
    heard = Call(line, PHONE).start()  # once only
    assert heard[0].text == spoken(off_app, "en", "voice_welcome")
    approve(off_app, "fr")
    assert voice.offered == ["en", "fr"]
    call = Call(line, "+14155550160")
    call.start()
    texts = [h.text for h in choose_language(call, voice.offered, "fr")]
    assert spoken(off_app, "fr", "voice_reviewed", date="novembre 2026") in texts
    assert spoken(off_app, "fr", "voice_machine_note") not in texts


def test_off_clinics_enroll_only_in_offered_languages(off_app):
    with off_app.app_context(), dbmod.transaction() as sess:
        clinic = Clinic(name="North", timezone="America/New_York")
        sess.add(clinic)
        sess.flush()
        _, token = create_token(sess, clinic, "tests")
    client = off_app.test_client()
    body = {"phone": "+14155550123", "locale": "es", "categories": ["hormone"], "patient_consented": True}
    resp = client.post("/api/v1/enrollments", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "unknown_locale"
    assert resp.get_json()["error"]["allowed"] == ["en"]
    approve(off_app, "es")
    resp = client.post("/api/v1/enrollments", json=body, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.get_json()
