"""Calls and a clinic's patients: a call never changes their stored language, and a red flag said
from a caller ID that is not attested still reaches the clinic, marked so (issue 17)."""

from __future__ import annotations

import sqlalchemy as sa

from service.models import FollowUpTask, Subscriber
from tests.support.voice_caller import Call, choose_language

PHONE = "+14155550123"


def test_a_call_never_changes_a_clinic_patients_language(make_clinic, api_for, twilio, db, app):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, locale="es", categories=["chemo"])
    twilio.sms("SI", from_=PHONE)
    call = Call(twilio, PHONE, stir=None)
    heard = call.start()
    assert heard[0].language == "es-US"  # the stored language
    # The caller may hear the call in English (the language menu), but the texts stay Spanish.
    call.press("7")  # the language menu
    choose_language(call, app.extensions["voice"].offered, "en")
    call.press("2")
    call.press("1")
    assert call.press("9")[0].text.startswith("OK.")
    assert db.one(sa.select(Subscriber.locale).where(Subscriber.phone == PHONE)) == "es"


def test_a_new_caller_s_choice_is_still_stored(twilio, db, app):
    call = Call(twilio, PHONE)
    call.start()
    choose_language(call, app.extensions["voice"].offered, "es")
    assert db.one(sa.select(Subscriber.locale).where(Subscriber.phone == PHONE)) == "es"


def test_a_red_flag_from_an_unattested_caller_id_is_marked(make_clinic, api_for, twilio, db, app):
    north = make_clinic("North")
    api_for(north).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    for stir, sid in ((None, "CA" + "1" * 32), ("TN-Validation-Passed-A", "CA" + "2" * 32)):
        call = Call(twilio, PHONE, sid=sid, stir=stir)
        call.start()
        call.say("I can't breathe")
    tasks = db.all(sa.select(FollowUpTask).order_by(FollowUpTask.id))
    assert [(t.clinic_id, t.urgent, t.body) for t in tasks] == [
        (north.id, True, "I can't breathe [caller ID not verified]"), (north.id, True, "I can't breathe")]


def test_a_yes_releases_what_a_call_held_and_never_a_held_clinic_confirmation(app, db):
    """Both a call (until YES) and issue 17 (one confirmation out at a time) hold texts; the
    call's release touches only its own sources (outbound.CALL_HELD_SOURCES)."""
    from datetime import datetime, timezone

    from service import db as dbmod
    from service.models import OutboundMessage
    from service.outbound import release_held
    from service.statuses import MessageStatus

    HELD = MessageStatus.HELD

    now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
    with app.app_context(), dbmod.transaction() as sess:
        sub = Subscriber(phone="+14155550188", status="active")
        sess.add(sub)
        sess.flush()
        for source in ("enrollment", "voice_handoff", "trials_handoff"):
            sess.add(OutboundMessage(dedupe_key=f"k:{source}", subscriber_id=sub.id, phone=sub.phone, locale="en",
                                     body="x", source=source, status=HELD, due_at=now, created_at=now))
        sess.flush()
        assert release_held(sess, sub.id, now) == 2
    rows = {m.source: m.status for m in db.all(sa.select(OutboundMessage))}
    assert rows == {"enrollment": HELD, "voice_handoff": "queued", "trials_handoff": "queued"}
