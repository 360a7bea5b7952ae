"""Russian keywords (locales/ru/keywords.toml): opt-out for everyone, navigation only in Russian."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", ["СТОП", "стоп", "Стоп!", " стоп. ", "ОТПИСАТЬСЯ", "отписка", "Отмена",
                                  "хватит!!", "Больше не пишите", "СТОП ВСЁ", "стоп все", "\u200fСТОП"])
@pytest.mark.parametrize("locale", ["en", "es", "ru", "ar"])
def test_russian_opt_out_words_work_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text,kind", [
    ("ПОМОЩЬ", kw.HELP), ("справка?", kw.HELP), ("СТАРТ", kw.OPT_IN), ("да", kw.OPT_IN),
    ("МЕНЮ", kw.MENU), ("Назад", kw.BACK), ("ЕЩЁ", kw.MORE), ("еще", kw.MORE), ("далее.", kw.MORE),
    ("язык", kw.LANG), ("0", kw.BACK), ("MORE", kw.MORE), ("STOP", kw.OPT_OUT),
])
def test_russian_keyword_kinds(text, kind):
    assert LEX.classify(text, "ru") == kind


@pytest.mark.parametrize("text", ["ЕЩЁ", "еще", "далее", "назад", "меню", "язык", "да", "старт"])
def test_russian_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text", ["стоп боль", "как остановить тошноту?", "отмена лечения", "не пишите мне про химию"])
def test_words_inside_a_sentence_are_not_opt_outs(text):
    # Misfire check: a keyword counts only as the whole message.
    assert LEX.classify(text, "ru") != kw.OPT_OUT


def test_accents_are_not_folded_for_russian_keywords():
    # fold_accents = false: "ДАЛЕЕ" is a keyword, a look-alike with a breve is not folded into it.
    assert LEX.classify("далеё", "ru") is None


@pytest.mark.parametrize("text,locale", [("Привет", "ru"), ("здравствуйте!", "ru"), ("Добрый день", "ru"),
                                         ("ИССЛЕДОВАНИЯ 94110", "ru")])
def test_a_russian_first_message_starts_in_russian(text, locale):
    assert LEX.keyword_locale(text) == locale


def test_trials_command_takes_arguments_in_russian():
    assert LEX.trials_args("ИССЛЕДОВАНИЯ 94110 HR+", "ru") == ("94110", "hr+")
    assert LEX.classify("ещё", "ru") == kw.MORE  # ИССЛЕДОВАНИЯ ЕЩЁ pages on


@pytest.mark.parametrize("text,term", [
    ("У меня температура 38,5", "температура"), ("мне трудно дышать после укола", "трудно дышать"),
    ("сильная боль в груди", "боль в груди"), ("Я не могу дышать!", "не могу дышать"),
    ("иногда хочу умереть", "хочу умереть"), ("вчера потеряла сознание", "потеряла сознание"),
    ("у мамы сильный понос третий день", "сильныи понос"),
])
def test_russian_red_flags_found_inside_a_sentence(text, term):
    assert LEX.red_flag(text) is not None, term


@pytest.mark.parametrize("text", ["сегодня жарко", "температурный режим хранения таблеток", "расскажите про химию"])
def test_ordinary_russian_words_are_not_red_flags(text):
    assert LEX.red_flag(text) is None
