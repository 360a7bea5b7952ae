"""Tagalog keywords (locales/tl/keywords.toml): opt-out for everyone, navigation only for tl."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "TIGIL", "tigil!", "Itigil.", "itigil na", "HINTO", "huminto?", "Tama na!", "AYOKO NA",
    "huwag na", "Kansela", "KANSELAHIN", "i-cancel",
])
@pytest.mark.parametrize("locale", ["tl", "en", "es"])
def test_tagalog_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["TULONG", "tulong?", "Tulungan", "PATULONG"])
@pytest.mark.parametrize("locale", ["tl", "en"])
def test_tagalog_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("SUSUNOD", kw.MORE), ("susunod.", kw.MORE), ("BALIK", kw.BACK), ("bumalik", kw.BACK),
    ("menyu", kw.MENU), ("OO", kw.OPT_IN), ("simula", kw.OPT_IN), ("WIKA", kw.LANG),
    ("STOP", kw.OPT_OUT), ("MENU", kw.MENU), ("START", kw.OPT_IN),
])
def test_tagalog_keyword_kinds(text, kind):
    assert LEX.classify(text, "tl") == kind


@pytest.mark.parametrize("text", ["susunod", "balik", "oo", "sige", "wika", "dagdag"])
def test_tagalog_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text", [
    "tama",                 # "correct": only "tama na" (enough) is a stop
    "ayoko",                # "I don't want (it)": an answer, not an unsubscribe
    "tigil ang sakit",      # "stop the pain": a sentence, not the whole-message keyword
    "salamat po",
])
def test_tagalog_misfires(text):
    assert LEX.classify(text, "tl") not in (kw.OPT_OUT, kw.HELP)


@pytest.mark.parametrize("text", [
    "may lagnat ako simula kagabi",
    "nilalagnat po ako pagkatapos ng chemo",
    "hindi ako makahinga",
    "hirap huminga si nanay",
    "masakit ang dibdib ko",
    "gusto ko nang mamatay",
    "matinding pagtatae buong araw",
    "nahimatay siya kanina",
])
def test_tagalog_red_flags_inside_a_sentence(text):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", ["masarap ang ulam", "magandang umaga po", "ano ang chemo"])
def test_tagalog_ordinary_phrases_are_not_red_flags(text):
    assert LEX.red_flag(text) is None


def test_tagalog_greeting_starts_in_tagalog():
    assert LEX.keyword_locale("Kumusta po") == "tl"
    assert LEX.keyword_locale("magandang umaga") == "tl"
    assert LEX.language_named("tagalog") == "tl"
