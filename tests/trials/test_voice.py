"""The trials ZIP search on a call: signed, parsed TwiML, press 9 queues the list.

The search is part of the one call flow (service/calls/flow.py): its <Gather>s post to
/twilio/voice/input and /silence like every other step. /twilio/voice/trials/zip and /result, its
former pages, still work for TwiML Twilio fetched before (they put the call where the page was).
"""

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
INPUT_PATH = "/twilio/voice/input"
SILENCE_PATH = "/twilio/voice/silence"
_calls = itertools.count(1)
MAIN_MENU_FIRST = "For Hormone therapy, press 2."


def call_params(from_=CALLER, call_sid=None, **extra) -> dict:
    params = {"CallSid": call_sid or f"CA{next(_calls):032x}", "AccountSid": ACCOUNT_SID, "From": from_,
              "To": PROGRAM_NUMBER, "CallStatus": "in-progress", "Direction": "inbound",
              "ApiVersion": "2010-04-01", "Caller": from_, "Called": PROGRAM_NUMBER,
              "StirVerstat": "TN-Validation-Passed-A"}  # an attested caller ID (service/calls/handoff.py)
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
    call_sid = "CA" + "5" * 32
    root = post(twilio, ZIP_PATH, call_sid=call_sid)
    gather = root.find("Gather")
    assert gather.get("numDigits") == "5" and gather.get("input") == "dtmf" and gather.get("timeout") == "10"
    # Each URL names the call's next step (service/channels/voice.py `with_step`): no step here is step 0.
    assert gather.get("action") == f"{INPUT_PATH}?step=1"
    assert says(gather) == ["To find clinical trials near you, enter your five-digit ZIP code now."]
    assert gather.find("Say").get("language") == "en-US"
    # Nothing pressed: say so and ask once more.
    assert root.find("Redirect").text == f"{SILENCE_PATH}?step=1"
    again = post(twilio, f"{SILENCE_PATH}?step=1", call_sid=call_sid)
    assert says(again) == ["Sorry, we did not get a ZIP code.",
                           "To find clinical trials near you, enter your five-digit ZIP code now."]
    assert again.find("Gather").get("numDigits") == "5"
    # Nothing again: trials explained, then the main menu (no second welcome).
    last = says(post(twilio, f"{SILENCE_PATH}?step=2", call_sid=call_sid))
    assert "1 800 4 CANCER" in " ".join(last)
    assert MAIN_MENU_FIRST in last and not any("Welcome" in line for line in last)


def test_the_former_pages_still_work(twilio, app):
    """TwiML fetched before the search joined the call pointed at /trials/zip?attempt=2."""
    call_sid = "CA" + "6" * 32
    root = post(twilio, f"{ZIP_PATH}?locale=en&attempt=2&step=4", call_sid=call_sid)
    assert root.find("Gather").get("action") == f"{INPUT_PATH}?step=5"
    assert "1 800 4 CANCER" in " ".join(says(post(twilio, f"{SILENCE_PATH}?step=5", call_sid=call_sid)))


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
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "8" and gather.get("input") == "dtmf"
    assert gather.get("action") == f"{INPUT_PATH}?step=1"
    assert "press 9" in says(gather)[0]
    assert says(gather) == spoken[2:]  # the result is said before the <Gather>: a key does not cut it
    assert root.find("Redirect").text == f"{SILENCE_PATH}?step=1"  # nothing pressed: the main menu


def test_unknown_zip_asks_again(twilio, synced):
    root = post(twilio, f"{RESULT_PATH}?locale=en", Digits="00000")
    assert says(root) == ["Sorry, we could not find that ZIP code.",
                          "To find clinical trials near you, enter your five-digit ZIP code now."]
    assert root.find("Gather").get("numDigits") == "5"


def test_no_trials_nearby_explains(twilio, synced):
    spoken = " ".join(says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="99501")))
    assert "We found no recruiting trials within 50 miles of ZIP code 9 9 5 0 1." in spoken
    assert "Placebos are rare" in spoken and "1 800 422 6237" in spoken


def test_press_9_queues_the_list_once(twilio, synced, db, app):
    post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110", call_sid="CA" + "9" * 32)
    root = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110", Digits="9", call_sid="CA" + "9" * 32)
    assert says(root)[0] == "OK. We will text this to you soon. Message and data rates may apply."
    assert MAIN_MENU_FIRST in says(root.find("Gather"))  # then the main menu
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
    assert says(root)[0] == "You asked us not to text you. To get texts again, text START to this number."
    assert db.count(OutboundMessage) == 0


def test_press_1_and_0(twilio, synced):
    another = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110&step=4", Digits="1")
    assert says(another) == ["To find clinical trials near you, enter your five-digit ZIP code now."]
    assert another.find("Gather").get("action") == f"{INPUT_PATH}?step=5"
    menu = post(twilio, f"{RESULT_PATH}?locale=en&zip=94110&step=4", Digits="0")
    assert MAIN_MENU_FIRST in says(menu) and menu.find("Gather").get("action") == f"{INPUT_PATH}?step=5"
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
    assert root.find("Gather").find("Say").get("language") == "es-US"


def test_stale_data_is_announced(twilio, synced, clock):
    clock.advance(days=10)
    assert "This list is 10 days old." in says(post(twilio, f"{RESULT_PATH}?locale=en", Digits="94110"))


@pytest.mark.parametrize("path", [f"{RESULT_PATH}?locale=en", f"{RESULT_PATH}?locale=en&zip=94110"])
def test_an_internal_failure_is_an_apology_not_a_500(twilio, synced, monkeypatch, path):
    from service.trials import line

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(line, "nearest_sites", broken)  # the search, and the texts of press 9
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
    assert says(root)[0] == f"Sorry, we can send only {MAX_TEXTS_PER_CALL} texts on one call."
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
    call.press("8")  # 4: the ZIP prompt (part of the call: no redirect any more)
    heard = call.press("94110")  # 5: the search
    assert heard[0].text.startswith("Recruiting trials within 50 miles")
    call.press("0")  # 6: the main menu
    call.press("3")  # 7: CDK4/6 inhibitors
    rows = db.all(sa.select(InboundMessage).order_by(InboundMessage.id))
    assert [(r.sid, r.topic, r.body) for r in rows] == [
        (f"{call.sid}:3", "trials", "digit 5"), (f"{call.sid}:5", "trials", "digits 94110"),
        (f"{call.sid}:7", "cdk46", "digit 3")]
    assert {r.channel for r in rows} == {"voice"}


def test_a_retried_search_is_answered_from_the_call_row(twilio, synced, db):
    """Twilio retries a step it got no answer to: the same TwiML, and the call does not move."""
    from service.models import CallSession

    call_sid = "CA" + "4" * 32
    post(twilio, f"{ZIP_PATH}?locale=en&step=3", call_sid=call_sid)
    first = twilio.post(f"{INPUT_PATH}?step=4", call_params(call_sid=call_sid, Digits="94110"))
    row = db.one(sa.select(CallSession).where(CallSession.call_sid == call_sid))
    assert (row.node, row.trials_zip, row.last_step) == ("zip_heard", "94110", 4)
    again = twilio.post(f"{INPUT_PATH}?step=4", call_params(call_sid=call_sid, Digits="94110"))
    assert again.raw == first.raw
    press_9 = post(twilio, f"{INPUT_PATH}?step=5", call_sid=call_sid, Digits="9")
    assert says(press_9)[0].startswith("OK.")
    post(twilio, f"{INPUT_PATH}?step=5", call_sid=call_sid, Digits="9")  # retried
    assert db.one(sa.select(CallSession.texts_sent).where(CallSession.call_sid == call_sid)) == 1


def test_topic_texts_and_trial_lists_share_one_cap(app, twilio, synced, db):
    """A call asks for at most MAX_TEXTS_PER_CALL things by text, topics and trial lists together
    (before, each kept its own count: 3 topic texts plus 3 lists)."""
    from service.content.voice import MAX_TEXTS_PER_CALL
    from tests.support.voice_caller import Call

    assert MAX_TEXTS_PER_CALL == 3
    call = Call(twilio, CALLER)
    call.start()
    call.press("1")  # English
    call.press("2")  # Hormone therapy
    assert call.press("9")[0].text.startswith("OK.")  # 1: the topic's list
    call.press("1")  # its first part
    assert call.press("9")[0].text.startswith("OK.")  # 2: that part
    call.press("0")
    call.press("6")  # more topics
    call.press("5")  # Clinical trials
    call.press("8")
    call.press("94110")
    assert call.press("9")[0].text.startswith("OK.")  # 3: a trials list
    queued = db.count(OutboundMessage)
    call.press("6")
    call.press("5")
    call.press("8")
    call.press("94612")
    assert call.press("9")[0].text == f"Sorry, we can send only {MAX_TEXTS_PER_CALL} texts on one call."
    assert db.count(OutboundMessage) == queued
    sources = [r.source for r in db.all(sa.select(OutboundMessage).order_by(OutboundMessage.id))]
    assert sources.count("voice_handoff") == 3 and sources.count("trials_handoff") == 1  # the welcome first
