"""Keyword tables: every SPEC.md opt-out word, any case, trailing punctuation, Spanish too."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as _kw

LEX = load_lexicon(list(KNOWN_LOCALES))


class kw:  # noqa: N801
    """The module API as the tests knew it, over the real lexicon."""

    OPT_OUT, OPT_IN, HELP, MENU, BACK, MORE, LANG = _kw.OPT_OUT, _kw.OPT_IN, _kw.HELP, _kw.MENU, _kw.BACK, _kw.MORE, _kw.LANG
    normalize = staticmethod(_kw.normalize)
    choice_number = staticmethod(_kw.choice_number)

    @staticmethod
    def classify(text, locale):
        return LEX.classify(text, locale)

OPT_OUTS = ["STOP", "stop", "Stop.", " STOP! ", "STOPALL", "UNSUBSCRIBE", "cancel", "END", "quit",
            "Revoke", "OPTOUT", "STOP ALL", "opt out", "Opt-Out", "PARAR", "alto", "Cancelar", "BAJA",
            "detener", "no más", "NO MAS", "stop\u200b", "\u200fSTOP", "ＳＴＯＰ"]


@pytest.mark.parametrize("text", OPT_OUTS)
@pytest.mark.parametrize("locale", ["en", "es"])
def test_opt_out_words_opt_out_in_any_locale(text, locale):
    assert kw.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["stop the pain", "please stop texting me now?", "I want to end it", "endocrine", "stopped"])
def test_words_inside_a_sentence_are_not_opt_outs(text):
    assert kw.classify(text, "en") != kw.OPT_OUT


@pytest.mark.parametrize("text,locale,kind", [
    ("START", "en", kw.OPT_IN), ("unstop", "en", kw.OPT_IN), ("Yes!", "en", kw.OPT_IN),
    ("HELP", "en", kw.HELP), ("info?", "en", kw.HELP), ("AYUDA", "en", kw.HELP), ("ayuda", "es", kw.HELP),
    ("menu", "en", kw.MENU), ("MENÚ", "es", kw.MENU), ("0", "en", kw.BACK), ("Back", "en", kw.BACK),
    ("atrás", "es", kw.BACK), ("more", "en", kw.MORE), ("MÁS", "es", kw.MORE), ("lang", "en", kw.LANG),
    ("idioma", "es", kw.LANG), ("3", "en", None), ("hello", "en", None),
])
def test_keyword_kinds(text, locale, kind):
    assert kw.classify(text, locale) == kind


def test_spanish_navigation_words_do_not_fire_for_english_speakers():
    # "mas" / "si" are ordinary words elsewhere; only Spanish speakers get them as commands
    assert kw.classify("mas", "en") is None
    assert kw.classify("si", "en") is None


@pytest.mark.parametrize("text,number", [("3", 3), (" 3. ", 3), ("#10", 10), ("３", 3), ("3a", None), ("", None), ("1234", None)])
def test_choice_number(text, number):
    assert kw.choice_number(text) == number


@pytest.mark.parametrize("text,term", [
    ("I have a FEVER", "fever"), ("fever of 101 after chemo", "fever"), ("I can't breathe", "can't breathe"),
    ("I can\u2019t breathe", "can't breathe"), ("bad chest pain tonight", "chest pain"), ("thinking about suicide", "suicide"),
    ("tengo fiebre", "fiebre"), ("No puedo respirar!", "no puedo respirar"), ("dolor de pecho", "dolor de pecho"),
])
def test_red_flags_found(text, term):
    assert LEX.red_flag(text) is not None, term


@pytest.mark.parametrize("text", ["effervescent", "tell me about chemo", "2", "pechos", "infeverno"])
def test_ordinary_words_are_not_red_flags(text):
    assert LEX.red_flag(text) is None


def test_normalize_strips_control_characters_and_collapses_space():
    assert kw.normalize("  Hello\x00\x07   World!!  ") == "hello world"
