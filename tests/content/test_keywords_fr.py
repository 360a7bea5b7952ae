"""French keywords (locales/fr/keywords.toml)."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", ["ARRÊT", "arret", "Arrêter!", " ANNULER. ", "désabonner", "DESABONNEMENT",
                                  "désinscription", "Stop SMS", "me désinscrire", "STOP", "\u200farrêt"])
@pytest.mark.parametrize("locale", ["en", "es", "fr", "ht"])
def test_french_opt_out_words_work_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text,kind", [
    ("AIDE", kw.HELP), ("aide ?", kw.HELP), ("COMMENCER", kw.OPT_IN), ("démarrer", kw.OPT_IN), ("oui", kw.OPT_IN),
    ("START", kw.OPT_IN), ("sommaire", kw.MENU), ("MENU", kw.MENU), ("retour", kw.BACK), ("SUITE", kw.MORE),
    ("suivant", kw.MORE), ("langue", kw.LANG), ("0", kw.BACK),
])
def test_french_keyword_kinds(text, kind):
    assert LEX.classify(text, "fr") == kind


@pytest.mark.parametrize("text", ["suite", "plus", "retour", "oui", "langue", "sommaire"])
def test_french_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text,locale", [("fin", "es"), ("fin", "fr"), ("information", "en")])
def test_words_left_out_on_purpose_do_not_misfire(text, locale):
    # "fin" is ordinary Spanish; "information" is English and must not switch anyone to French.
    assert LEX.classify(text, locale) != kw.OPT_OUT
    assert LEX.keyword_locale(text) != "fr"


@pytest.mark.parametrize("text", ["arrêter la chimio?", "comment annuler un rendez-vous", "arrêt du traitement"])
def test_words_inside_a_sentence_are_not_opt_outs(text):
    assert LEX.classify(text, "fr") != kw.OPT_OUT


@pytest.mark.parametrize("text", ["Bonjour", "bonsoir!", "Salut", "informations", "ESSAIS 94110"])
def test_a_french_first_message_starts_in_french(text):
    assert LEX.keyword_locale(text) == "fr"


@pytest.mark.parametrize("text,term", [
    ("J'ai de la fièvre depuis hier", "de la fievre"), ("j ai du mal à respirer", "du mal a respirer"),
    ("Douleur à la poitrine ce matin", "douleur a la poitrine"), ("je veux mourir", "je veux mourir"),
    ("je me suis évanouie", "evanouie"), ("très forte diarrhée", "forte diarrhee"), ("je me sens fiévreuse", "fievreuse"),
])
def test_french_red_flags_found_inside_a_sentence(text, term):
    assert LEX.red_flag(text) is not None, term


@pytest.mark.parametrize("text", ["effervescent", "parlez-moi de la chimio", "une urgentiste"])
def test_ordinary_french_words_are_not_red_flags(text):
    assert LEX.red_flag(text) is None
