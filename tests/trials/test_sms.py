"""TRIALS through the signed SMS webhook (tests.support.twilio): replies parsed from TwiML."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from service.content.locales import KNOWN_LOCALES, available_locales
from service.content.segments import count
from service.models import InboundMessage, Subscriber, TrialSearch

PHONE = "+14155550100"


def texts(twilio, body, phone=PHONE) -> list[str]:
    reply = twilio.sms(body, from_=phone)
    assert reply.status == 200, reply.raw
    for text in reply.messages:
        assert count(text).segments <= 3, text
    return reply.messages


def listed(text: str) -> list[str]:
    return re.findall(r"NCT\d{8}", text)


def test_trials_zip_lists_the_three_nearest(twilio, synced):
    twilio.sms("hi")
    [page] = texts(twilio, "TRIALS 94110")
    lines = page.splitlines()
    assert lines[0] == "Recruiting trials near 94110, up to 50 miles:"
    assert listed(page) == ["NCT99999901", "NCT99999902", "NCT99999907"]
    # The registry's acronym and the treatments tested (placebo left out), then phase and NCT id.
    assert lines[1] == "TEST-A: Test Pill A + Letrozole (Phase 3, NCT99999901)"
    assert lines[2] == "Test Fixture Cancer Center San..., San Francisco, about 3 mi. Call 415-555-0101"
    assert lines[3] == "Test Antibody B (Phase 2, NCT99999902)"  # no acronym: the treatment
    # No phone for the site or the study: NCI's free line, never nothing.
    assert lines[4] == "Test Fixture Medical Center Oakland, Oakland, about 9 mi. Call NCI 1-800-4-CANCER"
    assert lines[6] == "Test Fixture Health Berkeley, Berkeley, about 10 mi. Opens soon. Call 510-555-0107"
    assert lines[-1] == "Reply TRIALS MORE for more."
    assert "Trial names are in English" not in page


def test_trials_more_pages_on_then_says_no_more(twilio, synced):
    twilio.sms("hi")
    first = texts(twilio, "trials 94110")[0]
    second = texts(twilio, "TRIALS MORE")[0]
    assert listed(second) == ["NCT99999903", "NCT99999904", "NCT99999905"]
    assert "Phase 1/2, NCT99999903" in second and "Call 408-555-0105 x12" in second
    # Palo Alto and Stanford are both about 25 mi away: the later phase first.
    assert "Palo Alto, about 25 mi" in second and "Stanford, about 25 mi" in second
    assert second.splitlines()[-1] == "That is all. Ask your care team if a trial fits you."
    assert texts(twilio, "TRIALS MORE") == ["No more trials near 94110. Send TRIALS 94110 to see the list again."]
    assert texts(twilio, "TRIALS 94110")[0] == first  # a new search starts again at page 1


def test_plain_more_pages_after_a_trials_reply(twilio, synced, db):
    twilio.sms("hi")
    texts(twilio, "TRIALS 94110")
    assert listed(texts(twilio, "MORE")[0]) == ["NCT99999903", "NCT99999904", "NCT99999905"]
    sub = db.one(sa.select(Subscriber).where(Subscriber.phone == PHONE))
    search = db.one(sa.select(TrialSearch).where(TrialSearch.subscriber_id == sub.id))
    assert (search.zip, search.subtype, search.page, sub.menu_node) == ("94110", None, 1, "trials")
    # Menu navigation still works from the trials list.
    assert texts(twilio, "MENU")[0].startswith("MBC Guide topics")
    assert texts(twilio, "2")[0].startswith("Hormone therapy")


def test_paging_survives_the_session_expiry(twilio, synced, clock):
    twilio.sms("hi")
    texts(twilio, "TRIALS 94110")
    clock.advance(hours=3)
    assert listed(texts(twilio, "TRIALS MORE")[0]) == ["NCT99999903", "NCT99999904", "NCT99999905"]


def test_subtype_filters_the_list(twilio, synced):
    twilio.sms("hi")
    [page] = texts(twilio, "TRIALS 94110 HR+")
    assert page.startswith("Recruiting HR+ trials near 94110, up to 50 miles:")
    assert listed(page) == ["NCT99999901", "NCT99999905"]
    assert listed(texts(twilio, "trials tnbc 94110")[0]) == ["NCT99999903"]
    assert listed(texts(twilio, "Trials 94110 HER2+.")[0]) == ["NCT99999902"]
    assert listed(texts(twilio, "TRIALS 94110 triple negative")[0]) == ["NCT99999903"]


def test_a_new_number_gets_the_disclaimer_first(twilio, synced, db):
    welcome, page = texts(twilio, "TRIALS 94110")
    assert "not medical advice" in welcome
    assert listed(page) == ["NCT99999901", "NCT99999902", "NCT99999907"]
    assert db.one(sa.select(InboundMessage)).topic == "trials"


def test_without_a_zip_trials_are_explained(twilio, synced):
    twilio.sms("hi")
    replies = texts(twilio, "TRIALS")
    joined = "\n".join(replies)
    assert "send TRIALS and your ZIP code, like TRIALS 94110" in joined
    assert "Phase 1" in joined and "Placebos are rare" in joined and "leave a trial at any time" in joined
    assert "1-800-4-CANCER" in joined and "English or Spanish" in joined
    assert "TRIALS MORE" not in joined


def test_trials_more_before_any_search_explains(twilio, synced):
    twilio.sms("hi")
    assert "like TRIALS 94110" in "\n".join(texts(twilio, "TRIALS MORE"))


def test_unknown_zip(twilio, synced):
    twilio.sms("hi")
    for zip_code in ("00000", "9411"):
        joined = "\n".join(texts(twilio, f"TRIALS {zip_code}"))
        assert f"We could not find ZIP code {zip_code}." in joined
        assert "1-800-4-CANCER" in joined and "Placebos are rare" in joined


def test_no_results_explains_and_gives_the_nci_number(twilio, synced):
    twilio.sms("hi")
    joined = "\n".join(texts(twilio, "TRIALS 99501"))
    assert "No recruiting trials found within 50 miles of 99501." in joined
    assert "1-800-4-CANCER" in joined and "Placebos are rare" in joined
    subtype = "\n".join(texts(twilio, "TRIALS 94110 HER2+ ", phone="+14155550101"))
    assert "NCT99999902" in subtype
    none = "\n".join(texts(twilio, "TRIALS 10001 TNBC"))
    assert "No recruiting TNBC trials found within 50 miles of 10001." in none


def test_before_any_sync_there_are_no_results_but_help(twilio, ctgov):
    twilio.sms("hi")
    joined = "\n".join(texts(twilio, "TRIALS 94110"))
    assert "Sorry, the trial list is not ready yet." in joined and "1-800-4-CANCER" in joined
    assert "No recruiting trials found" not in joined  # with no data at all, that would be untrue
    assert "days old" not in joined


def test_data_older_than_a_week_says_how_old(twilio, synced, clock):
    twilio.sms("hi")
    assert "days old" not in texts(twilio, "TRIALS 94110")[0]
    clock.advance(days=7, hours=1)
    assert "days old" not in texts(twilio, "TRIALS 94110")[0]
    clock.advance(days=2)
    assert "This list is 9 days old." in texts(twilio, "TRIALS 94110")[0].splitlines()
    assert "This list is 9 days old." in "\n".join(texts(twilio, "TRIALS 99501"))


def test_radius_is_configurable(twilio, synced, app):
    app.extensions["line"].trials.radius = 10
    twilio.sms("hi")
    [page] = texts(twilio, "TRIALS 94110")
    assert page.startswith("Recruiting trials near 94110, up to 10 miles:")
    assert listed(page) == ["NCT99999901", "NCT99999902"]


def test_in_spanish_the_frame_is_translated_titles_stay_english(twilio, synced):
    twilio.sms("hola")
    [page] = texts(twilio, "ESTUDIOS 94110")
    assert page.startswith("Estudios abiertos cerca de 94110, hasta 50 mi:")
    assert "Nombres de estudios en inglés." in page
    assert "TEST-A: Test Pill A" in page  # the registry's acronym and treatment names, as registered
    assert listed(page) == ["NCT99999901", "NCT99999902", "NCT99999907"]
    assert listed(texts(twilio, "ESTUDIOS SIGUIENTE")[0]) == ["NCT99999903", "NCT99999904", "NCT99999905"]
    assert listed(texts(twilio, "TRIALS 94110")[0])[0] == "NCT99999901"  # English keyword works too
    assert listed(texts(twilio, "ENSAYOS 94110 TNBC")[0]) == ["NCT99999903"]
    assert "1-800-4-CANCER" in "\n".join(texts(twilio, "ESTUDIOS"))


def test_a_first_spanish_command_sets_spanish(twilio, synced):
    welcome, *rest = texts(twilio, "ENSAYOS 94110")
    assert "No es consejo médico" in welcome
    assert rest[-1].startswith("Estudios abiertos cerca de 94110")


def test_stop_still_wins_and_an_opted_out_number_gets_nothing(twilio, synced):
    twilio.sms("hi")
    texts(twilio, "TRIALS 94110")
    assert "no more texts" in texts(twilio, "STOP")[0]
    assert texts(twilio, "TRIALS 94110") == []
    assert texts(twilio, "TRIALS MORE") == []


def test_red_flag_wins_over_trials(twilio, synced):
    twilio.sms("hi")
    [reply] = texts(twilio, "TRIALS 94110 chest pain")
    assert reply.startswith("MBC Guide: This may be an emergency. Call 911 now.")


def test_a_repeated_delivery_gets_the_same_answer(twilio, synced):
    twilio.sms("hi")
    first = twilio.sms("TRIALS 94110", sid="SM" + "7" * 32).messages
    texts(twilio, "TRIALS MORE")
    again = twilio.sms("TRIALS 94110", sid="SM" + "7" * 32).messages
    assert again == first


@pytest.mark.parametrize("locale", available_locales())
def test_every_locale_pages_through_all_trials_within_budget(twilio, synced, locale):
    phone = "+1415555" + str(1000 + available_locales().index(locale))
    twilio.sms("hi", from_=phone)
    twilio.sms(KNOWN_LOCALES[locale], from_=phone)
    seen = listed(texts(twilio, "TRIALS 94110 ", phone=phone)[-1])
    for _ in range(6):
        page = texts(twilio, "TRIALS MORE", phone=phone)
        if not listed(page[-1]):
            assert "94110" in page[-1]  # "no more trials near 94110"
            break
        seen += listed(page[-1])
    assert seen == ["NCT99999901", "NCT99999902", "NCT99999907", "NCT99999903", "NCT99999904", "NCT99999905"]
    for body in ("TRIALS", "TRIALS 00000", "TRIALS 99501 TNBC"):
        replies = texts(twilio, body, phone=phone)  # each within budget (checked in texts())
        assert "1-800-4-CANCER" in "\n".join(replies)
