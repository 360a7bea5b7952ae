"""A caller ID can be spoofed: "press 9" sends at once only with proof the number is the caller's.

Proof is Twilio's full attestation (StirVerstat TN-Validation-Passed-A) or an earlier opt-in by
text. Otherwise one text asks the number to reply YES, and what the call asked for is held until
then (service/calls/handoff.py, service/outbound.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from service.content.voice import MAX_TEXTS_PER_CALL
from service.models import ConsentEvent, OutboundMessage, Subscriber
from tests.support.voice_caller import Call, choose_language

CALLER = "+14155550123"


def rows(db) -> list[OutboundMessage]:
    return db.all(sa.select(OutboundMessage).order_by(OutboundMessage.id))


def call_to_a_part(app, twilio, stir: str | None, locale: str = "en") -> Call:
    call = Call(twilio, CALLER, stir=stir)
    call.start()
    choose_language(call, app.extensions["voice"].offered, locale)
    call.press("2")  # Hormone therapy
    call.press("1")  # its first part
    return call


def test_an_attested_caller_gets_the_text_at_once(app, twilio, db):
    call = call_to_a_part(app, twilio, "TN-Validation-Passed-A")
    assert call.press("9")[0].text.startswith("OK.")
    assert [(r.source, r.status) for r in rows(db)] == [("voice_handoff", "queued"), ("voice_handoff", "queued")]
    assert db.one(sa.select(Subscriber.status)) == "active"


def test_an_unattested_caller_gets_one_opt_in_text_and_the_topic_after_yes(app, twilio, db):
    sms = app.extensions["line"].renderer
    call = call_to_a_part(app, twilio, "TN-Validation-Passed-B")  # partial attestation: not proof
    assert call.press("9")[0].text.startswith("OK.")  # the caller hears the same
    call.press("0")
    call.press("3")
    call.press("9")  # a second thing on the same call: still one opt-in text
    queued = rows(db)
    assert [(r.source, r.status) for r in queued] == [
        ("voice_optin", "queued"), ("voice_handoff", "held"), ("voice_handoff", "held")]
    assert queued[0].body == sms.render_text("voice_optin", "en")
    assert queued[0].body.startswith("MBC Guide: Reply YES to get this by text")
    assert queued[1].body == sms.item("en", "hormone", 0)
    # Nothing is recorded as consent and the number stays new.
    assert db.count(ConsentEvent) == 0
    assert db.one(sa.select(Subscriber.status)) == "new"

    reply = twilio.sms("YES", from_=CALLER)
    assert "not medical advice" in reply.text  # the usual first reply
    assert [r.status for r in rows(db)] == ["queued", "queued", "queued"]
    assert [(e.kind, e.source, e.channel) for e in db.all(sa.select(ConsentEvent))] == [
        ("opt_in", "sms_first_contact", "sms")]


def test_without_a_yes_the_held_texts_never_go(app, twilio, db, clock):
    call = call_to_a_part(app, twilio, None)  # no StirVerstat at all
    call.press("9")
    twilio.sms("hello", from_=CALLER)  # not a YES
    assert [r.status for r in rows(db)] == ["queued", "held"]
    twilio.sms("STOP", from_=CALLER)
    assert [r.status for r in rows(db)] == ["cancelled", "cancelled"]


def test_a_yes_a_day_late_releases_nothing(app, twilio, db, clock):
    call = call_to_a_part(app, twilio, None)
    call.press("9")
    clock.advance(days=2)
    twilio.sms("YES", from_=CALLER)
    assert [r.status for r in rows(db)] == ["queued", "cancelled"]


def test_a_number_that_opted_in_by_text_needs_no_attestation(app, twilio, db):
    twilio.sms("hi", from_=CALLER)
    call = call_to_a_part(app, twilio, None)
    assert call.press("9")[0].text.startswith("OK.")
    assert [(r.source, r.status) for r in rows(db)] == [("voice_handoff", "queued")]


def test_the_per_call_cap_counts_held_requests_too(app, twilio, db):
    call = call_to_a_part(app, twilio, None)
    for part in ("1", "2", "3"):
        call.press("0")
        call.press("2")
        call.press(part)
        call.press("9")
    call.press("0")
    call.press("3")
    assert call.press("9")[0].text == f"Sorry, we can send only {MAX_TEXTS_PER_CALL} texts on one call."
    assert [r.status for r in rows(db)].count("held") == MAX_TEXTS_PER_CALL


def test_the_opt_in_text_is_in_the_call_language_and_spanish_yes_works(app, twilio, db):
    call = call_to_a_part(app, twilio, None, locale="es")
    call.press("9")
    first = rows(db)[0]
    assert first.body == app.extensions["line"].renderer.render_text("voice_optin", "es")
    assert "SI" in first.body
    twilio.sms("SI", from_=CALLER)
    assert [r.status for r in rows(db)] == ["queued", "queued"]
