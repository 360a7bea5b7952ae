"""POST /twilio/voice/trials/zip and /result: signed, parsed TwiML, press 9 queues the list."""

from __future__ import annotations

import itertools
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa

from service.models import ConsentEvent, InboundMessage, OutboundMessage, Subscriber
from tests.support.twilio import ACCOUNT_SID, PROGRAM_NUMBER

CALLER = "+14155550123"
ZIP_PATH = "/twilio/voice/trials/zip"
RESULT_PATH = "/twilio/voice/trials/result"
_calls = itertools.count(1)


def call_params(from_=CALLER, call_sid=None, **extra) -> dict:
    params = {"CallSid": call_sid or f"CA{next(_calls):032x}", "AccountSid": ACCOUNT_SID, "From": from_,
              "To": PROGRAM_NUMBER, "CallStatus": "in-progress", "Direction": "inbound",
              "ApiVersion": "2010-04-01", "Caller": from_, "Called": PROGRAM_NUMBER}
    params.update(extra)
    return params


def post(twilio, path, **params):
    reply = twilio.post(path, call_params(**params))
    assert reply.status == 200, reply.raw
    assert reply.root is not None and reply.root.tag == "Response"
    return reply.root


def says(element: ElementTree.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


def test_zip_prompt_gathers_five_digits(twilio, app):
    root = post(twilio, ZIP_PATH)
    gather = root.find("Gather")
    assert gather.get("numDigits") == "5" and gather.get("input") == "dtmf"
    # Each URL names the call's next step (service/channels/call_log.py): no step here is step 0.
    assert gather.get("action") == f"{RESULT_PATH}?locale=en&step=1"
    assert says(gather) == ["To find clinical trials near you, enter your five-digit ZIP code now."]
    assert gather.find("Say").get("language") == "en-US"
    # Nothing pressed: say so and ask once more.
    assert root.find("Redirect").text == f"{ZIP_PATH}?locale=en&attempt=2&step=1"
    again = post(twilio, f"{ZIP_PATH}?locale=en&attempt=2&step=1")
    assert "1 800 4 CANCER" in " ".join(says(again))
    assert again.find("Redirect").text == "/twilio/voice?step=2"


def test_routes_need_a_signature(twilio):
    for path in (ZIP_PATH, RESULT_PATH):
        assert twilio.post(path, call_params(), signature="bad").status == 403
        assert twilio.post(path, call_params(), signature="").status == 403


def test_malformed_requests_are_400(twilio, client):
    assert twilio.post(RESULT_PATH, {"Digits": "94110"}).status == 400  # no CallSid/From
    resp = client.post(ZIP_PATH, json={"CallSid": "CA1"}, headers={"X-Twilio-Signature": twilio.sign(ZIP_PATH, {})})
    assert resp.status_code == 400


def test_result_says_the_count_and_the_nearest_site(twilio, synced):
    root = post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110")
    spoken = says(root)
    assert spoken[0] == "Recruiting trials within 50 miles of ZIP code 9 4 1 1 0: 6."
    assert spoken[1] == ("The nearest is at Test Fixture Cancer Center San Francisco in San Francisco, "
                         "about 3 miles away.")
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{RESULT_PATH}?locale=en&zip=94110&step=1"
    assert "press 9" in says(gather)[0]


def test_unknown_zip_asks_again(twilio, synced):
    root = post(twilio, f"{RESULT_PATH}?locale=en", Digits="00000")
    assert says(root) == ["Sorry, we could not find that ZIP code."]
    assert root.find("Redirect").text == f"{ZIP_PATH}?locale=en&attempt=2&step=1"


def test_no_trials_nearby_explains(twilio, synced):
    spoken = " ".join(says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="99501")))
    assert "We found no recruiting trials within 50 miles of ZIP code 9 9 5 0 1." in spoken
    assert "Placebos are rare" in spoken and "1 800 422 6237" in spoken


def test_press_9_queues_the_list_once(twilio, synced, db, app):
    post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110", call_sid="CA" + "9" * 32)
    root = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110", Digits="9", call_sid="CA" + "9" * 32)
    assert says(root) == ["OK. We will text this to you soon. Message and data rates may apply."]
    assert root.find("Redirect").text == "/twilio/voice?step=1"
    rows = db.all(sa.select(OutboundMessage).order_by(OutboundMessage.id))
    assert {r.source for r in rows} == {"trials_handoff"}
    assert {r.phone for r in rows} == {CALLER}
    welcome, listing = [r.body for r in rows]
    assert "not medical advice" in welcome  # a new number's first text
    assert listing.startswith("Recruiting trials near 94110, up to 50 miles:\nTEST-A: Test Pill A + Letrozole "
                              "(Phase 3, NCT99999901)")
    # The same as texting TRIALS 94110 would answer.
    with app.app_context():
        from service import db as dbmod
        from service.trials.line import search_texts

        with dbmod.transaction() as sess:
            expected = search_texts(sess, app.extensions["line"].trials.composer, "en", zip_code="94110",
                                    subtype=None, page=0, radius=50, now=app.extensions["clock"]())
    assert [listing] == expected
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == CALLER))
    assert sub.status == "active"
    assert [(e.kind, e.source, e.channel) for e in db.all(sa.select(ConsentEvent))] == [
        ("opt_in", "voice_request", "voice")]
    # Twilio retries the webhook: nothing is queued twice.
    post(twilio, f"{RESULT_PATH}?locale=en&zip=94110", Digits="9", call_sid="CA" + "9" * 32)
    assert db.count(OutboundMessage) == 2


def test_press_9_after_stop_queues_nothing(twilio, synced, db):
    twilio.sms("hi", from_=CALLER)
    twilio.sms("STOP", from_=CALLER)
    root = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110", Digits="9")
    assert says(root) == ["You asked us not to text you. To get texts again, text START to this number."]
    assert db.count(OutboundMessage) == 0


def test_press_1_and_0(twilio, synced):
    assert post(twilio, f"{RESULT_PATH}?locale=en&zip=94110&step=4", Digits="1").find("Redirect").text == (
        f"{ZIP_PATH}?locale=en&step=5")
    assert post(twilio, f"{RESULT_PATH}?locale=en&zip=94110&step=4", Digits="0").find("Redirect").text == (
        "/twilio/voice?step=5")
    other = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110", Digits="7")
    assert says(other)[0].startswith("Recruiting trials within 50 miles")  # heard again


def test_spanish_by_query_or_by_the_callers_language(twilio, synced):
    gather = post(twilio, f"{ZIP_PATH}?locale=es").find("Gather")
    say = gather.find("Say")
    assert say.get("language") == "es-US"
    assert say.text.startswith("Para buscar un estudio clínico")
    twilio.sms("hola", from_=CALLER)  # stored language: Spanish
    root = post(twilio, RESULT_PATH, Digits="94110")
    assert says(root)[0].startswith("Estudios que buscan pacientes a 50 millas")
    assert root.find("Gather").get("action") == f"{RESULT_PATH}?locale=es&zip=94110&step=1"


def test_stale_data_is_announced(twilio, synced, clock):
    clock.advance(days=10)
    assert "This list is 10 days old." in says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110"))


@pytest.mark.parametrize("path", [f"{RESULT_PATH}?locale=en", f"{RESULT_PATH}?locale=en&zip=94110"])
def test_an_internal_failure_is_an_apology_not_a_500(twilio, synced, monkeypatch, path):
    from service.trials import voice

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(voice, "nearest_sites", broken)
    monkeypatch.setattr(voice, "search_texts", broken)
    root = post(twilio, path, Digits="94110" if "zip=" not in path else "9")
    assert says(root) and root.find("Hangup") is not None
    assert "problem" in says(root)[0]


def test_before_any_sync_the_caller_is_not_told_there_are_none(twilio, ctgov):
    spoken = says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110"))
    assert spoken[0] == "Sorry, the trial list is not ready yet."
    assert not any("We found no" in s for s in spoken)


def test_one_call_can_text_only_a_few_lists(twilio, synced, db):
    from service.content.voice import MAX_TEXTS_PER_CALL

    call = "CA" + "8" * 32
    zips = ["94110", "94612", "10001", "99501", "60601"][: MAX_TEXTS_PER_CALL + 1]
    for zip_code in zips[:-1]:
        root = post(twilio, f"{RESULT_PATH}?locale=en&zip={zip_code}", Digits="9", call_sid=call)
        assert says(root)[0].startswith("OK. We will text this to you soon.")
    queued = db.count(OutboundMessage)
    root = post(twilio, f"{RESULT_PATH}?locale=en&zip={zips[-1]}", Digits="9", call_sid=call)
    assert says(root) == [f"Sorry, we can send only {MAX_TEXTS_PER_CALL} texts on one call."]
    assert db.count(OutboundMessage) == queued
    # Pressing 9 again for a list already queued is fine (and queues nothing new).
    again = post(twilio, f"{RESULT_PATH}?locale=en&zip={zips[0]}", Digits="9", call_sid=call)
    assert says(again)[0].startswith("OK.")
    assert db.count(OutboundMessage) == queued


def test_a_zip_search_is_logged_once_per_step(twilio, synced, db):
    call_sid = "CA" + "7" * 32
    post(twilio, f"{RESULT_PATH}?locale=es&step=7", Digits="94110", call_sid=call_sid)
    post(twilio, f"{RESULT_PATH}?locale=es&step=7", Digits="94110", call_sid=call_sid)  # Twilio retries it
    rows = db.all(sa.select(InboundMessage))
    assert [(r.sid, r.channel, r.locale, r.topic, r.body) for r in rows] == [
        (f"{call_sid}:7", "voice", "es", "trials", "digits 94110")]
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == CALLER))
    assert rows[0].subscriber_id == sub.id and sub.status == "new"  # not consent to texts
    assert rows[0].response.startswith('["Estudios que buscan pacientes')
    # What the caller presses after hearing the result is not another search.
    post(twilio, f"{RESULT_PATH}?locale=es&zip=94110&step=8", Digits="0", call_sid=call_sid)
    post(twilio, f"{RESULT_PATH}?locale=es&zip=94110&step=8", Digits="9", call_sid=call_sid)
    assert db.count(InboundMessage) == 1


def test_a_call_through_the_zip_search_keeps_counting_steps(app, twilio, synced, db):
    from tests.support.voice_caller import Call

    call = Call(twilio, CALLER)
    call.start()  # step 0
    call.press("1")  # 1: English
    call.press("6")  # 2: more topics
    call.press("5")  # 3: Clinical trials
    call.press("8")  # 4, then the ZIP prompt at 5
    heard = call.press("94110")  # 6: the search
    assert heard[0].text.startswith("Recruiting trials within 50 miles")
    call.press("0")  # 7, then the main menu at 8
    call.press("3")  # 9: CDK4/6 inhibitors
    rows = db.all(sa.select(InboundMessage).order_by(InboundMessage.id))
    assert [(r.sid, r.topic, r.body) for r in rows] == [
        (f"{call.sid}:3", "trials", "digit 5"), (f"{call.sid}:6", "trials", "digits 94110"),
        (f"{call.sid}:9", "cdk46", "digit 3")]
    assert {r.channel for r in rows} == {"voice"}
