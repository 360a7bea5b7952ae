"""Korean keywords (locales/ko/keywords.toml): opt-out with and without spaces, no misfires."""

import pytest

from service.content.catalog import load_catalog
from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "중지", "중지.", " 중지! ", "수신거부", "수신 거부", "수신  거부?", "구독취소", "구독 취소",
    "그만", "그만 보내세요", "보내지 마세요", "해지", "취소", "탈퇴", "STOP",
])
@pytest.mark.parametrize("locale", ["ko", "en", "es", "zh-Hans"])
def test_korean_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["도움말", "도움", "도와주세요"])
@pytest.mark.parametrize("locale", ["ko", "en"])
def test_korean_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("더보기", kw.MORE), ("더 보기", kw.MORE), ("다음", kw.MORE), ("뒤로", kw.BACK), ("0", kw.BACK),
    ("메뉴", kw.MENU), ("시작", kw.OPT_IN), ("다시 시작", kw.OPT_IN), ("언어", kw.LANG),
    ("START", kw.OPT_IN), ("YES", kw.OPT_IN), ("LANG", kw.LANG), ("MENU", kw.MENU),
])
def test_korean_keyword_kinds(text, kind):
    assert LEX.classify(text, "ko") == kind


@pytest.mark.parametrize("text", ["더보기", "다음", "뒤로", "메뉴", "시작", "언어"])
@pytest.mark.parametrize("locale", ["en", "es", "zh-Hans"])
def test_korean_navigation_words_do_not_fire_elsewhere(text, locale):
    assert LEX.classify(text, locale) is None


@pytest.mark.parametrize("text", [
    "중지해도 되나요",      # "may I stop (the drug)?": a question, not an opt-out
    "예약 취소했어요",      # "I cancelled my appointment"
    "그만두고 싶지 않아요",  # "I don't want to quit"
    "네",                  # "yes" is not a re-subscribe
    "아니요",
])
def test_korean_misfires(text):
    assert LEX.classify(text, "ko") not in (kw.OPT_OUT, kw.OPT_IN)


def test_trials_command_takes_a_zip():
    assert LEX.trials_args("임상시험 94110 HER2+", "ko") == ("94110", "her2+")
    assert LEX.trials_args("임상시험 더보기", "ko") == ("더보기",)


@pytest.mark.parametrize("text", [
    "항암 치료 후에 열이 나요",
    "어제부터 고열이 있어요",
    "엄마가 숨을 못 쉬어요",
    "숨이 차서 힘들어요",
    "가슴이 아파요",
    "죽고 싶어요",
    "자살 생각이 나요",
    "심한 설사가 계속돼요",
    "방금 기절했어요",
])
@pytest.mark.parametrize("locale", ["ko", "en"])
def test_korean_red_flags_inside_a_sentence(text, locale):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", [
    "열심히 하고 있어요",   # "working hard": contains 열 but is not a fever
    "문을 열어 주세요",     # "please open the door"
    "열 번째 질문",         # "the tenth question"
    "감사합니다",
])
def test_ordinary_korean_is_not_a_red_flag(text):
    assert LEX.red_flag(text) is None


@pytest.mark.parametrize("text", ["안녕하세요", "안녕", "여보세요", "좋은 아침"])
def test_korean_greetings_start_in_korean(text):
    assert LEX.keyword_locale(text) == "ko"


def test_language_name():
    assert LEX.language_named("한국어") == "ko"


def test_every_keyword_printed_in_a_footer_is_accepted():
    catalog = load_catalog(("en", "ko"))
    wanted = {"menu_more": kw.MORE, "item_footer": kw.MORE, "menu_footer": kw.HELP}
    for name, kind in wanted.items():
        word = catalog.string("ko", name).split(" = ")[0]
        assert LEX.classify(word, "ko") == kind, (name, word)
    assert LEX.classify(catalog.string("ko", "topic_footer").split(", ")[1].split(" = ")[0], "ko") == kw.MENU
    assert LEX.classify(catalog.string("ko", "menu_footer").split(", ")[1].split(" = ")[0], "ko") == kw.OPT_OUT
