"""Haitian Creole keywords (locales/ht/keywords.toml): with or without è/ò, no misfires."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "SISPANN", "sispann!", "Sispan.", "ANILE", "anile?", "KANSELE", "dezabone", "Dezabòne",
    "PA VOYE ANKÒ", "pa voye anko", "pa voye mesaj anko!", "KANPE",
])
@pytest.mark.parametrize("locale", ["ht", "en", "es"])
def test_creole_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["EDE", "ede m", "Ede mwen!", "mwen bezwen èd", "MWEN BEZWEN ED"])
@pytest.mark.parametrize("locale", ["ht", "en"])
def test_creole_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("PLIS", kw.MORE), ("swivan", kw.MORE), ("RETOUNEN", kw.BACK), ("meni", kw.MENU),
    ("WI", kw.OPT_IN), ("kòmanse", kw.OPT_IN), ("KOMANSE", kw.OPT_IN), ("LANG", kw.LANG),
    ("STOP", kw.OPT_OUT), ("START", kw.OPT_IN), ("MENU", kw.MENU),
])
def test_creole_keyword_kinds(text, kind):
    assert LEX.classify(text, "ht") == kind


@pytest.mark.parametrize("text", ["plis", "wi", "meni", "retounen", "swivan"])
def test_creole_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text", [
    "Ed",          # bare "èd" (help) folds to a name; it is deliberately not a keyword
    "mèsi",
    "sispann doulè a",  # "stop the pain": a sentence, not the whole-message keyword
])
def test_creole_misfires(text):
    assert LEX.classify(text, "ht") not in (kw.OPT_OUT, kw.HELP)
    assert LEX.classify(text, "en") not in (kw.OPT_OUT, kw.HELP)


def test_creole_trials_command_pages_with_creole_more():
    assert LEX.trials_args("ETID 94110", "ht") == ("94110",)
    assert LEX.classify(" ".join(LEX.trials_args("etid plis", "ht")), "ht") == kw.MORE


@pytest.mark.parametrize("text", [
    "mwen gen lafyèv depi yè",
    "mwen gen lafyev",           # no marks
    "m pa ka respire byen",
    "doulè nan pwatrin mwen",
    "mwen vle mouri",
    "mwen gen gwo dyare",
    "manman m endispoze",
])
def test_creole_red_flags_inside_a_sentence(text):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", ["mwen sòt", "bonjou, kijan ou ye", "kisa chimyo ye"])
def test_creole_ordinary_phrases_are_not_red_flags(text):
    assert LEX.red_flag(text) is None


def test_creole_greeting_starts_in_creole():
    assert LEX.keyword_locale("Bonjou") == "ht"
    assert LEX.keyword_locale("sak pase") == "ht"
    assert LEX.language_named("kreyol") == "ht"
