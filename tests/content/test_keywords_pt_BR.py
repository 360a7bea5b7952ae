"""Brazilian Portuguese keywords (locales/pt_BR/keywords.toml)."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", ["SAIR", "sair", "Sair!", " PARAR. ", "cancelar", "DESCADASTRAR", "chega!!",
                                  "Não quero mais", "NAO QUERO MAIS", "cancelar inscrição", "\u200bsair"])
@pytest.mark.parametrize("locale", ["en", "es", "pt-BR", "tl"])
def test_portuguese_opt_out_words_work_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text,kind", [
    ("AJUDA", kw.HELP), ("ajuda?", kw.HELP), ("COMEÇAR", kw.OPT_IN), ("comecar", kw.OPT_IN), ("sim", kw.OPT_IN),
    ("temas", kw.MENU), ("MENU", kw.MENU), ("voltar", kw.BACK), ("MAIS", kw.MORE), ("próximo", kw.MORE),
    ("proximo", kw.MORE), ("idioma", kw.LANG), ("língua", kw.LANG), ("0", kw.BACK), ("STOP", kw.OPT_OUT),
])
def test_portuguese_keyword_kinds(text, kind):
    assert LEX.classify(text, "pt-BR") == kind


@pytest.mark.parametrize("text", ["mais", "voltar", "temas", "sim", "próximo", "seguinte"])
def test_portuguese_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text,locale", [("pare", "tl"), ("Pare!", "en"), ("para", "es"), ("para", "pt-BR")])
def test_short_words_that_are_ordinary_elsewhere_are_not_opt_outs(text, locale):
    # Misfire check: Tagalog "pare" (buddy) and Spanish/Portuguese "para" (for) are not keywords.
    assert LEX.classify(text, locale) != kw.OPT_OUT


@pytest.mark.parametrize("text", ["sair da quimio?", "como parar o enjoo", "chega de dor"])
def test_words_inside_a_sentence_are_not_opt_outs(text):
    assert LEX.classify(text, "pt-BR") != kw.OPT_OUT


@pytest.mark.parametrize("text", ["Olá", "oi!", "Bom dia", "boa noite", "informações", "ESTUDOS 94110"])
def test_a_portuguese_first_message_starts_in_portuguese(text):
    assert LEX.keyword_locale(text) == "pt-BR"


@pytest.mark.parametrize("text,term", [
    ("Estou com febre desde ontem", "estou com febre"), ("minha mãe está com falta de ar", "falta de ar"),
    ("Não consigo respirar!", "nao consigo respirar"), ("dor no peito forte", "dor no peito"),
    ("às vezes quero morrer", "quero morrer"), ("ela desmaiou no banho", "desmaiou"),
    ("diarreia forte há 2 dias", "diarreia forte"),
])
def test_portuguese_red_flags_found_inside_a_sentence(text, term):
    assert LEX.red_flag(text) is not None, term


@pytest.mark.parametrize("text", ["o que é febril?", "ar condicionado", "me fale da quimio"])
def test_ordinary_portuguese_words_are_not_red_flags(text):
    assert LEX.red_flag(text) is None
