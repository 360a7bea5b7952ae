"""Every trials text fits the SMS budget in every locale under locales/, whatever the data."""

from __future__ import annotations

import re

import pytest

from service.content.catalog import load_catalog
from service.content.locales import available_locales
from service.content.segments import count, is_gsm7
from service.trials.compose import Composer, Search, gsm_safe, phase_label, shorten
from service.trials.search import Hit

LOCALES = available_locales()
LONG_TITLE = ("TEST FIXTURE - NOT A REAL STUDY: A Randomized, Open-label, Multicenter Phase 2/3 Study of "
              "Investigational Drug X Plus Fulvestrant Versus Fulvestrant Alone in Participants With "
              "ER-positive, HER2-negative Advanced or Metastatic Breast Cancer Whose Disease Progressed "
              "on Prior CDK4/6 Inhibitor Therapy (TEST-LONG)")


NCT = re.compile(r"NCT\d{8}")
LONG_FACILITY = "Test Fixture University Comprehensive Cancer Center and Research Institute Outpatient Pavilion"


def worst_hits(n: int = 7) -> list[Hit]:
    """Long everything: names, treatments, facilities, city names, phones with extensions, 2-digit
    distances; every other study without a phone (the NCI line instead)."""
    return [Hit(f"NCT9999999{i}", LONG_TITLE, "PHASE2,PHASE3", LONG_FACILITY,
                "Rancho Santa Margarita", "California", f"415-555-01{i:02d} x12345" if i % 2 == 0 else None,
                "NOT_YET_RECRUITING", 40.0 + i, "TESTFIXTURE-LONG-ACRONYM",
                "Investigational Drug X + Fulvestrant + Investigational Antibody Y") for i in range(n)]


def studies_in(text: str) -> list[str]:
    return NCT.findall(text)


@pytest.fixture(scope="module")
def composer():
    return Composer(load_catalog(tuple(LOCALES)))


def all_pages(composer, locale, search, hits):
    pages, page = [], 0
    while True:
        [text] = composer.results(locale, search, hits, page)
        if not studies_in(text):
            return pages, text
        pages.append(text)
        page += 1


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("subtype", [None, "HER2+"])
@pytest.mark.parametrize("age_days", [None, 3, 365])
def test_every_results_page_fits_and_pages_cover_each_study_once(composer, locale, subtype, age_days):
    hits = worst_hits()
    search = Search("94110", subtype, 50, age_days)
    pages, last = all_pages(composer, locale, search, hits)
    shown = [nct for page in pages for nct in studies_in(page)]
    assert shown == [h.nct_id for h in hits]  # in order, none skipped or repeated across pages
    for text in (*pages, last):
        assert count(text).segments <= 3, (locale, count(text), text)
    assert all(len(studies_in(p)) <= 3 for p in pages)
    if age_days == 365:
        assert all("365" in page for page in pages)
    else:
        assert not any("365" in page for page in pages)


@pytest.mark.parametrize("locale", LOCALES)
def test_help_texts_fit(composer, locale):
    search = Search("94110", "TNBC", 50, 30)
    for texts in (composer.no_zip(locale), composer.unknown_zip(locale, "1234567890"),
                  composer.none_found(locale, search), composer.none_found(locale, Search("94110", None, 500, 0)),
                  composer.none_found(locale, Search("94110", None, 50, None))):
        assert 1 <= len(texts) <= 3
        for text in texts:
            assert count(text).segments <= 3, (locale, text)
        joined = "\n".join(texts)
        assert "1-800-4-CANCER" in joined and "1-800-422-6237" in joined


def test_english_pages_show_three_studies_with_names_sites_and_phones(composer):
    title = LONG_TITLE.removeprefix("TEST FIXTURE - NOT A REAL STUDY: ")
    hits = [Hit(f"NCT9999999{i}", title, "PHASE2", "Test Fixture Facility", "San Francisco", "California",
                "415-555-0101" if i else None, "RECRUITING", 2.4 + i) for i in range(3)]
    [text] = composer.results("en", Search("94110", None, 50, None), hits, 0)
    assert is_gsm7(text)
    assert len(studies_in(text)) == 3
    # No acronym or treatments: a short name from the title, boilerplate removed, never a cut title.
    assert "Investigational Drug... (Phase 2, NCT99999990)" in text
    assert "A Randomized" not in text and "Study" not in text
    assert "Test Fixture Facility, San Francisco, about 2 mi. Call NCI 1-800-4-CANCER" in text
    assert "Test Fixture Facility, San Francisco, about 3 mi. Call 415-555-0101" in text


def test_a_study_reads_as_its_acronym_and_treatments(composer):
    hit = Hit("NCT05894239", LONG_TITLE, "PHASE3", "Test Fixture Cancer Center", "Houston", "Texas",
              "888-662-6728", "RECRUITING", 0.4, "INAVO122", "Inavolisib + Phesgo")
    [text] = composer.results("en", Search("77030", None, 50, None), [hit], 0)
    assert "INAVO122: Inavolisib + Phesgo (Phase 3, NCT05894239)\n" in text
    assert "Test Fixture Cancer Center, Houston, under 1 mi. Call 888-662-6728" in text


@pytest.mark.parametrize("distance, said", [(0.3, "under 1 mi"), (1.2, "about 1 mi"), (4.6, "about 5 mi"),
                                            (5.4, "about 5 mi"), (9.6, "about 10 mi"), (12.4, "about 10 mi"),
                                            (12.6, "about 15 mi"), (48.0, "about 50 mi")])
def test_distances_are_rounded_honestly(composer, distance, said):
    hit = Hit("NCT99999990", LONG_TITLE, "PHASE3", "Site", "Town", "CA", None, "RECRUITING", distance)
    [text] = composer.results("en", Search("94110", None, 50, None), [hit], 0)
    assert f"Site, Town, {said}." in text


def test_non_english_pages_say_titles_are_in_english_when_titles_are_shown(composer):
    for locale in LOCALES:
        if locale == "en":
            continue
        [text] = composer.results(locale, Search("94110", None, 50, None), worst_hits(1), 0)
        note = composer.s(locale, "trials_titles_english")
        titled = "TESTFIXTURE" in text  # the study's name (acronym) is shown
        assert titled == (note in text), locale


def test_registry_text_is_made_gsm7():
    assert gsm_safe("Río Grande “quoted” – ≥18 years … Mayagüez") == 'Rio Grande "quoted" - >=18 years ... Mayagüez'
    assert gsm_safe("α-specific\u200b  test\n") == "-specific test"
    assert is_gsm7(gsm_safe("北京 Clinic"))


def test_shorten_and_phase_labels():
    assert shorten("one two three four", 100) == "one two three four"
    assert shorten("one two three four", 12) == "one two..."
    assert len(shorten(LONG_TITLE, 42)) <= 42
    assert phase_label("PHASE2,PHASE3") == "2/3"
    assert phase_label("EARLY_PHASE1") == "1"
    assert phase_label("NA") == "" and phase_label("") == ""


def test_a_translation_over_budget_is_cut_between_sentences():
    from service.trials.compose import pack, split_to_fit

    sentence = "Đây là một câu khá dài để thử cách cắt tin nhắn."  # UCS-2: 67 units per segment
    long_text = " ".join([sentence] * 6)
    parts = split_to_fit(long_text)
    assert len(parts) == 2
    assert " ".join(parts) == long_text
    assert all(count(p).segments <= 3 for p in parts)
    assert pack(["short one", "short two"]) == ["short one\nshort two"]


@pytest.mark.parametrize("locale", LOCALES)
def test_latin_insertions_are_isolated_in_right_to_left_text_only(composer, locale):
    """'HR+' inside Arabic would show as '+HR' without an isolate; other locales get none."""
    from service.content.locales import LRI, PDI, RTL_LOCALES

    [page] = composer.results(locale, Search("94110", "HR+", 50, None), worst_hits(1), 0)
    none = composer.none_found(locale, Search("94110", "HR+", 50, 3))[0]
    for text in (page, none):
        if locale in RTL_LOCALES:
            assert f"{LRI}HR+{PDI}" in text
            assert text.count(LRI) == text.count(PDI)
        else:
            assert LRI not in text and PDI not in text
    if locale in RTL_LOCALES:
        assert f"{LRI}415-555-0100 x12345{PDI}" in page
