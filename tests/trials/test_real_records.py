"""Issue 19 on real ClinicalTrials.gov API v2 records (fixtures/real/, see its README) and the
invented edge cases beside them (fixtures/edge_cases.json), through the fake API, the sync, the
SMS webhook and the voice webhook."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from service.models import TrialSite, TrialStudy, TrialSync
from service.trials.parse import (SKIP_EXCLUDES_BREAST, SKIP_NOT_BREAST, SKIP_NOT_METASTATIC, dialable,
                                  parse_study, skip_reason)
from tests.trials.fake_ctgov import FIXTURES, REAL, load
from tests.trials.test_voice import RESULT_PATH, post, says

PHONE = "+14155550190"


def record(nct_id: str) -> dict:
    path = REAL / f"{nct_id}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return next(s for s in load("edge_cases.json")["studies"]
                if s["protocolSection"]["identificationModule"]["nctId"] == nct_id)


@pytest.fixture
def real(runner, ctgov):
    ctgov.dataset = "real"
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code == 0, result.output
    return result.output


def listed(text: str) -> list[str]:
    return re.findall(r"NCT\d{8}", text)


def sms(twilio, body: str, phone: str = PHONE) -> str:
    reply = twilio.sms(body, from_=phone)
    assert reply.status == 200
    return reply.messages[-1]


# --- What the registry says -> what is kept -----------------------------------------------------

# (NCT id, skip reason or None, subtype tags): real records first, then the invented edge cases.
TABLE = [
    ("NCT02576665", None, ["TNBC"]),                       # real: basket study, "Triple Negative Breast Cancer"
    ("NCT05894239", None, ["HER2+"]),                      # real: INAVO122, HER2-positive in the titles
    ("NCT06323538", SKIP_NOT_BREAST, []),                  # real: diet cohort, keyword "breast feeding time"
    ("NCT06604689", SKIP_NOT_BREAST, []),                  # real: stage IV lung cancer, brain metastases
    ("NCT07062965", None, ["HR+"]),                        # real: "HR-positive, HER2-negative": never HER2+
    ("NCT99999911", None, ["HR+", "HER2+"]),               # subtypes only in the official title + inclusion
    ("NCT99999912", SKIP_EXCLUDES_BREAST, []),             # "Cancers Excluding Breast Cancer"
    ("NCT99999913", SKIP_NOT_METASTATIC, []),              # early breast cancer follow-up
    ("NCT99999914", None, ["HR+"]),                        # HR+/HER2-negative: not HER2+
    ("NCT99999915", None, ["TNBC"]),                       # TNBC in the criteria; ER-negative is not HR+
    ("NCT99999916", None, ["HER2-low"]),                   # HER2-positive only among the exclusions
]


@pytest.mark.parametrize("nct_id, reason, tags", TABLE)
def test_relevance_and_subtypes_from_everything_the_record_says(nct_id, reason, tags):
    raw = record(nct_id)
    assert skip_reason(raw) == reason
    assert parse_study(raw).subtypes.split() == tags


def minimal(conditions, title="Test Study", criteria="") -> dict:
    return {"protocolSection": {"identificationModule": {"nctId": "NCT99999990", "briefTitle": title},
                                "conditionsModule": {"conditions": conditions},
                                "eligibilityModule": {"eligibilityCriteria": criteria}}}


@pytest.mark.parametrize("conditions, title, criteria, reason", [
    (["Breast Cancer"], "Test Care", "Inclusion Criteria:\n* Stage I-IV breast cancer", None),
    (["Breast Cancer"], "Test Care", "Inclusion Criteria:\n* Breast cancer of any stage", None),
    (["Non-metastatic Breast Cancer"], "Test Care", "", SKIP_NOT_METASTATIC),
    (["Breast Cancer"], "Test Care", "Inclusion Criteria:\n* Stage II-III\nExclusion Criteria:\n* Stage IV",
     SKIP_NOT_METASTATIC),  # "stage IV" only among the exclusions
    (["Advanced Solid Tumors"], "Test Drug in Advanced Solid Tumors", "* Any solid tumor, including breast cancer",
     SKIP_NOT_BREAST),  # a basket study: breast cancer only in the criteria
    (["Solid Tumor", "Non-breast Cancers"], "Test Drug", "", SKIP_EXCLUDES_BREAST),
    (["Metastatic Breast Cancer", "Solid Tumors Other Than Breast"], "Test Drug", "", SKIP_EXCLUDES_BREAST),
])
def test_relevance_rules(conditions, title, criteria, reason):
    assert skip_reason(minimal(conditions, title, criteria)) == reason


def test_the_real_hr2_record_reads_as_its_acronym_and_treatments():
    study = parse_study(record("NCT05894239"))
    assert (study.acronym, study.interventions) == ("INAVO122", "Inavolisib + Phesgo")
    assert study.phases == "PHASE3"
    # The only study contact is "888-662-6728 (U.S. Only)": not a number for the Hong Kong sites.
    assert [(s.city, s.phone) for s in study.sites] == [("Hong Kong", None), ("Hong Kong", None)]


def test_the_real_pfizer_record_reads_as_its_treatments_with_the_us_line_and_no_office():
    raw = record("NCT07062965")
    study = parse_study(raw)
    # "A Study to Learn About the Study Medicine Called PF-07248144 in Combination With..." has no acronym.
    assert (study.acronym, study.interventions, study.phases) == (
        "", "PF-07248144 + Fulvestrant + Everolimus", "PHASE3")
    locations = raw["protocolSection"]["contactsLocationsModule"]["locations"]
    offices = [loc["facility"] for loc in locations if "No Patients" in loc["facility"]]
    assert offices == ["Los Angeles Cancer Network - (Admin Only / Central IDS) - No Patients"]
    assert len(study.sites) == len(locations) - 1 and offices[0] not in {s.facility for s in study.sites}
    # No site lists a phone; the study's only contact is Pfizer's US line "1-800-718-1021".
    assert {s.phone for s in study.sites if s.country == "United States"} == {"800-718-1021"}


@pytest.mark.parametrize("raw, us_only, dialed", [
    ("888-662-6728 (U.S. Only)", True, "888-662-6728"),
    ("+1 (713) 555-0114", True, "713-555-0114"),
    ("713.555.0114 x 123", True, "713-555-0114 x123"),
    ("+91 80 5550 0114", True, None),                       # a sponsor's line in India, for a US site
    ("+31 20 555 0111", True, None),
    ("+31 20 555 0111", False, "+31 20 555 0111"),
    ("See https://forpatients.roche.com/", True, None),
    ("", True, None),
])
def test_phones_are_cleaned_to_something_dialable(raw, us_only, dialed):
    assert dialable(raw, us_only=us_only) == dialed


# --- The sync --------------------------------------------------------------------------------------

def test_sync_reports_stored_skipped_by_reason_and_sites(real, db):
    assert ("trials sync ok: 7 studies stored, 4 skipped (not about breast cancer: 2; conditions exclude "
            "breast cancer: 1; not for metastatic or advanced disease: 1), 213 sites, 0 removed") in real
    assert "Syncing trials" in real  # the progress bar
    stored = {s.nct_id: s for s in db.all(sa.select(TrialStudy))}
    assert sorted(stored) == ["NCT02576665", "NCT05894239", "NCT07062965", "NCT99999911", "NCT99999914",
                              "NCT99999915", "NCT99999916"]
    run = db.one(sa.select(TrialSync))
    assert (run.status, run.studies, run.skipped) == ("ok", len(stored), 4)
    assert run.skip_reasons.startswith("not about breast cancer: 2")
    assert stored["NCT99999911"].acronym == "TESTERA"
    assert stored["NCT99999911"].interventions == "Test Drug K + Test Antibody Pair"  # no placebo, no "choice"


def test_healthz_shows_the_last_good_sync_by_reason_and_keeps_it_when_a_sync_fails(real, runner, ctgov, client,
                                                                                  clock):
    expected = {"studies": 7, "skipped": 4, "sites": 213, "removed": 0, "skipped_by_reason": {
        SKIP_NOT_BREAST: 2, SKIP_EXCLUDES_BREAST: 1, SKIP_NOT_METASTATIC: 1}}
    body = client.get("/healthz").get_json()
    assert (body["status"], body["trials_sync"]) == ("ok", expected)
    synced_at = body["trials_last_sync"]
    clock.advance(days=1)
    ctgov.only = {"NCT06323538", "NCT06604689"}  # nothing to keep: the run fails, patients keep the data
    assert runner.invoke(args=["trials", "sync"]).exit_code != 0
    body = client.get("/healthz").get_json()
    assert (body["trials_last_sync"], body["trials_sync"]) == (synced_at, expected)


def test_an_answer_with_nothing_to_keep_fails_and_says_why(runner, ctgov, db):
    ctgov.dataset, ctgov.only = "real", {"NCT06323538", "NCT99999913"}
    result = runner.invoke(args=["trials", "sync"])
    assert result.exit_code != 0
    assert ("no studies to keep (2 skipped: not about breast cancer: 1; not for metastatic or advanced "
            "disease: 1); keeping the last good data") in result.output
    assert db.one(sa.select(TrialSync)).status == "failed"


def test_no_site_that_sees_no_patients_is_stored(real, db):
    facilities = [site.facility for site in db.all(sa.select(TrialSite))]
    # The real Pfizer record's admin office and the invented sponsor office are left out.
    assert len(facilities) == 213 and not any("No Patients" in f or "Sponsor Office" in f for f in facilities)


def test_a_zip_centre_near_the_registry_point_is_used_and_a_far_one_is_not(real, db):
    # Real: the registry puts MD Anderson (ZIP 77030) at Houston's city point; 77030's centre is used.
    real_site = db.one(sa.select(TrialSite).join(TrialStudy).where(TrialStudy.nct_id == "NCT02576665",
                                                                   TrialSite.city == "Houston"))
    assert (real_site.zip, real_site.lat, real_site.lon) == ("77030", 29.7041, -95.401)
    houston = db.one(sa.select(TrialSite).join(TrialStudy).where(
        TrialStudy.nct_id == "NCT99999915", TrialSite.zip == "77030"))
    typo = db.one(sa.select(TrialSite).join(TrialStudy).where(
        TrialStudy.nct_id == "NCT99999915", TrialSite.zip == "10065"))
    assert (houston.lat, houston.lon) == (29.7041, -95.401)  # 77030's centre, 4.7 mi from the city point
    assert (typo.lat, typo.lon) == (29.76328, -95.36327)  # a New York ZIP on a Houston site: the point


# --- What a patient reads ----------------------------------------------------------------------

def test_houston_her2_search_finds_the_study_that_says_her2_only_in_its_official_title(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 77030 HER2+")
    assert listed(page) == ["NCT99999911"]
    lines = page.splitlines()
    assert lines[1] == "TESTERA: Test Drug K + Test Antibody Pair (Phase 3, NCT99999911)"
    # No site phone: the US study contact, cleaned; never the Dutch one.
    assert lines[2] == "Test Fixture Medical Center Houston, Houston, under 1 mi. Call 888-555-0111"
    assert "+31" not in page
    # The real HR-positive, HER2-negative study is an HR+ study, never a HER2+ one.
    assert listed(sms(twilio, "TRIALS 77030 HR+")) == ["NCT99999911", "NCT07062965", "NCT99999914"]


def test_houston_list_orders_by_distance_then_phase_and_never_shows_excluded_studies(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 77030")
    # Both under 1 mi: phase 3 before phase 1. Then, about 5 mi away at Houston's registry point: the
    # real phase 3 study, recruiting, before the invented phase 2 that opens soon (on the next page).
    assert listed(page) == ["NCT99999911", "NCT99999915", "NCT07062965"]
    assert "NCT99999912" not in page and "NCT99999913" not in page  # excludes breast; early breast
    assert "NCT02576665" not in page  # real, terminated: its sites give no status of their own
    assert "No Patients" not in page and "Sponsor Office" not in page
    # The real record gives its Houston sites no ZIP, only the city's point: the main campus and West
    # Houston tie, and the one the registry lists first is named (MD Anderson is in 77030 itself, so
    # "about 5 mi" is the registry's city-level point speaking; no ZIP, nothing better to use).
    assert "University of Texas MD Anderson" in page and "West Houston" not in page
    assert "Houston, about 5 mi. Call 800-718-1021" in page
    more = sms(twilio, "TRIALS MORE")
    assert listed(more) == ["NCT99999914"]
    assert "NCT02576665" not in sms(twilio, "TRIALS 77030 TNBC")
    assert "Test Fixture Oncology Houston, Houston, about 5 mi. Opens soon. Call 713-555-0114" in more


def test_glendale_is_never_sent_to_the_office_that_sees_no_patients(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 91203")
    # The real study's nearest registered location is its Glendale admin office ("No Patients"); the
    # patient is given the nearest site that sees patients, with the study's US line.
    assert page.splitlines()[1:] == [
        "PF-07248144 + Fulvestrant + Everolimus (Phase 3, NCT07062965)",
        "Los Angeles Cancer Network - Good Samaritan, Los Angeles, about 7 mi. Opens soon. Call 800-718-1021",
        "That is all. Ask your care team if a trial fits you."]


def test_phoenix_reads_the_treatments_not_the_registry_title(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 85004")
    assert "A Study to Learn" not in page
    assert page.splitlines()[1:3] == ["PF-07248144 + Fulvestrant + Everolimus (Phase 3, NCT07062965)",
                                      "Ironwood Cancer & Research Centers, Phoenix, under 1 mi. Call 800-718-1021"]


def test_canton_gets_nci_instead_of_a_foreign_number(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 44702")
    assert listed(page) == ["NCT99999914"]
    assert "Pill P + Fulvestrant (Phase 2, NCT99999914)" in page
    assert "Test Fixture Cancer Care Canton, Canton, under 1 mi. Call NCI 1-800-4-CANCER" in page
    assert "+91" not in page and "x114" not in page


def test_new_york_lists_no_study_that_excludes_breast_cancer(twilio, real):
    sms(twilio, "hi")
    page = sms(twilio, "TRIALS 10065")
    assert "NCT99999912" not in page
    # Same distance: phase 3, then phase 2; then the real study in Hackensack, NJ, opening soon.
    assert listed(page) == ["NCT99999911", "NCT99999916", "NCT07062965"]
    assert "Hackensack, about 9 mi. Opens soon. Call 800-718-1021" in page
    assert "Call 212-555-0111 x4" in page
    assert listed(sms(twilio, "TRIALS 10065 HER2+")) == ["NCT99999911"]  # HER2-low is not HER2+
    her2_low = sms(twilio, "TRIALS 10065 HER2 low")
    assert her2_low.startswith("Recruiting HER2-low trials near 10065") and listed(her2_low) == ["NCT99999916"]


def test_in_spanish_the_same_list_reads_in_spanish(twilio, real):
    phone = "+14155550191"
    sms(twilio, "hola", phone)
    page = sms(twilio, "ESTUDIOS 44702", phone)
    assert listed(page) == ["NCT99999914"]
    assert "Test Fixture Cancer Care Canton, Canton, a menos de 1 mi. Llame al NCI: 1-800-4-CANCER" in page
    page = sms(twilio, "ESTUDIOS 77030", phone)
    assert listed(page) == ["NCT99999911", "NCT99999915", "NCT07062965"]
    assert "Houston, a unas 5 mi. Llame al 800-718-1021" in page
    assert "Llame al 888-555-0111" in page and "+31" not in page
    more = sms(twilio, "ESTUDIOS SIGUIENTE", phone)
    assert listed(more) == ["NCT99999914"] and "Houston, a unas 5 mi. Abre pronto. Llame al 713-555-0114" in more
    page = sms(twilio, "ESTUDIOS 91203", phone)
    assert listed(page) == ["NCT07062965"] and "No Patients" not in page
    assert ("Los Angeles Cancer Network - Good Samaritan, Los Angeles, a unas 7 mi. Abre pronto. "
            "Llame al 800-718-1021") in page


def test_voice_keypad_zip_hears_the_nearest_real_site_not_an_office(twilio, real):
    root = post(twilio, f"{RESULT_PATH}?locale=en", Digits="77030", call_sid="CA" + "4" * 32)
    spoken = says(root)
    assert spoken[0] == "Recruiting trials within 50 miles of ZIP code 7 7 0 3 0: 4."
    assert spoken[1] == "The nearest is at Test Fixture Medical Center Houston in Houston, less than a mile away."


    root = post(twilio, f"{RESULT_PATH}?locale=en", Digits="91203", call_sid="CA" + "6" * 32)
    assert says(root)[:2] == [
        "Recruiting trials within 50 miles of ZIP code 9 1 2 0 3: 1.",
        "The nearest is at Los Angeles Cancer Network - Good Samaritan in Los Angeles, about 7 miles away."]


def test_voice_in_spanish(twilio, real):
    root = post(twilio, f"{RESULT_PATH}?locale=es", Digits="44702", call_sid="CA" + "5" * 32)
    spoken = says(root)
    assert "44702" not in spoken[0] and "4 4 7 0 2" in spoken[0]
    assert "Test Fixture Cancer Care Canton" in spoken[1]
    root = post(twilio, f"{RESULT_PATH}?locale=es", Digits="91203", call_sid="CA" + "7" * 32)
    assert says(root)[:2] == [
        "Estudios que buscan pacientes a 50 millas o menos del código postal 9 1 2 0 3: 1.",
        "El más cercano está en Los Angeles Cancer Network - Good Samaritan, en Los Angeles, a unas 7 millas."]
