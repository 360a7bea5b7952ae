"""Traditional Chinese keywords (locales/zh_Hant/keywords.toml): opt-out, navigation, no misfires."""

import pytest

from service.content.catalog import load_catalog
from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "退訂", "退訂。", " 退訂！", "取消訂閱", "停止", "取消", "退出", "不要再傳", "唔好再發",
    "唔好再SEND", "退訂訊息", "ＳＴＯＰ",
])
@pytest.mark.parametrize("locale", ["zh-Hant", "zh-Hans", "en", "es"])
def test_traditional_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["幫助", "幫助？", "求助", "幫忙"])
@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_traditional_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("更多", kw.MORE), ("下一則", kw.MORE), ("繼續", kw.MORE), ("返回", kw.BACK), ("上一頁", kw.BACK),
    ("目錄", kw.MENU), ("選單", kw.MENU), ("菜單", kw.MENU), ("開始", kw.OPT_IN), ("語言", kw.LANG),
    ("START", kw.OPT_IN), ("YES", kw.OPT_IN), ("LANG", kw.LANG), ("MENU", kw.MENU),
])
def test_traditional_keyword_kinds(text, kind):
    assert LEX.classify(text, "zh-Hant") == kind


@pytest.mark.parametrize("text", ["目錄", "選單", "開始", "語言", "下一則"])
@pytest.mark.parametrize("locale", ["en", "es", "zh-Hans"])
def test_traditional_navigation_words_do_not_fire_elsewhere(text, locale):
    assert LEX.classify(text, locale) is None


@pytest.mark.parametrize("text", ["停止化療了嗎", "我想取消預約", "唔好停", "好", "係"])
def test_traditional_misfires(text):
    assert LEX.classify(text, "zh-Hant") not in (kw.OPT_OUT, kw.OPT_IN)


def test_trials_command_takes_a_zip():
    assert LEX.trials_args("試驗 94110 TNBC", "zh-Hant") == ("94110", "tnbc")


@pytest.mark.parametrize("text", [
    "我化療後發燒到39度",
    "阿媽唞唔到氣",            # Cantonese: mum cannot breathe
    "我呼吸困難",
    "心口痛咗成晚",            # Cantonese: chest pain all night
    "我唔想活",
    "有自殺的念頭",
    "嚴重肚瀉成日",
    "佢啱啱暈低咗",            # Cantonese: she just fainted
])
@pytest.mark.parametrize("locale", ["zh-Hant", "en"])
def test_traditional_red_flags_inside_a_sentence(text, locale):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", ["我發現了一個問題", "多謝，我好好", "今日好熱"])
def test_ordinary_traditional_chinese_is_not_a_red_flag(text):
    assert LEX.red_flag(text) is None


@pytest.mark.parametrize("text", ["哈囉", "早晨", "午安", "你好嗎", "請問", "查詢"])
def test_traditional_greetings_start_in_zh_hant(text):
    assert LEX.keyword_locale(text) == "zh-Hant"


def test_simplified_hello_starts_in_zh_hans_not_zh_hant():
    assert LEX.keyword_locale("你好") == "zh-Hans"
    assert LEX.language_named("繁體中文") == "zh-Hant"


def test_every_keyword_printed_in_a_footer_is_accepted():
    catalog = load_catalog(("en", "zh-Hant"))
    wanted = {"menu_more": kw.MORE, "item_footer": kw.MORE, "topic_footer": kw.MENU,
              "menu_footer": kw.HELP}
    for name, kind in wanted.items():
        text = catalog.string("zh-Hant", name)
        word = text.split("，")[-1 if name == "topic_footer" else 0].split(" = ")[0]
        assert LEX.classify(word, "zh-Hant") == kind, (name, word)
    assert LEX.classify(catalog.string("zh-Hant", "menu_footer").split("，")[1].split(" = ")[0], "zh-Hant") == kw.OPT_OUT
