"""Simplified Chinese keywords (locales/zh_Hans/keywords.toml): opt-out, navigation, no misfires."""

import pytest

from service.content.catalog import load_catalog
from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "退订", "退订。", " 退订！", "退订!!", "取消订阅", "停止", "停止。", "取消", "退出？",
    "不要再发", "别再发了", "退订短信", "ＳＴＯＰ", "stop。",
])
@pytest.mark.parametrize("locale", ["zh-Hans", "en", "es", "ko"])
def test_chinese_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["帮助", "帮助？", "求助", "帮忙"])
@pytest.mark.parametrize("locale", ["zh-Hans", "en"])
def test_chinese_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("更多", kw.MORE), ("下一条", kw.MORE), ("继续", kw.MORE), ("返回", kw.BACK), ("0", kw.BACK),
    ("菜单", kw.MENU), ("目录", kw.MENU), ("开始", kw.OPT_IN), ("重新订阅", kw.OPT_IN), ("语言", kw.LANG),
    # the English words printed in Chinese texts always work
    ("START", kw.OPT_IN), ("YES", kw.OPT_IN), ("LANG", kw.LANG), ("STOP", kw.OPT_OUT), ("MENU", kw.MENU),
])
def test_chinese_keyword_kinds(text, kind):
    assert LEX.classify(text, "zh-Hans") == kind


@pytest.mark.parametrize("text", ["更多", "返回", "菜单", "开始", "语言", "下一条"])
@pytest.mark.parametrize("locale", ["en", "es", "ko"])
def test_chinese_navigation_words_do_not_fire_elsewhere(text, locale):
    assert LEX.classify(text, locale) is None


@pytest.mark.parametrize("text", [
    "停止化疗了吗",      # "has chemo stopped?": a sentence, not an opt-out
    "我想取消预约",      # "I want to cancel my appointment"
    "不要停",           # "don't stop"
    "好",               # "OK" is not a yes to re-subscribe
    "是",               # neither is "yes/is"
])
def test_chinese_misfires(text):
    assert LEX.classify(text, "zh-Hans") not in (kw.OPT_OUT, kw.OPT_IN)


def test_trials_command_takes_a_zip():
    assert LEX.trials_args("试验 94110 HR+", "zh-Hans") == ("94110", "hr+")
    assert LEX.trials_args("试验 94110", "en") is None  # a Chinese command word for Chinese readers only


@pytest.mark.parametrize("text", [
    "我化疗后发烧到39度",
    "妈妈今天喘不过气",
    "我呼吸困难",
    "胸口疼了一晚上",
    "我不想活了",
    "有自杀的念头",
    "严重腹泻一整天",
    "她刚才晕倒了",
])
@pytest.mark.parametrize("locale", ["zh-Hans", "en"])
def test_chinese_red_flags_inside_a_sentence(text, locale):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", ["我发现了一个问题", "谢谢，我很好", "热水袋很热"])
def test_ordinary_chinese_is_not_a_red_flag(text):
    assert LEX.red_flag(text) is None


@pytest.mark.parametrize("text", ["你好", "您好", "早上好", "哈喽", "请问"])
def test_simplified_greetings_start_in_zh_hans(text):
    assert LEX.keyword_locale(text) == "zh-Hans"


def test_language_name():
    assert LEX.language_named("中文") == "zh-Hans"


def test_every_keyword_printed_in_a_footer_is_accepted():
    catalog = load_catalog(("en", "zh-Hans"))
    wanted = {"menu_more": kw.MORE, "item_footer": kw.MORE, "topic_footer": kw.MENU,
              "menu_footer": kw.HELP}
    for name, kind in wanted.items():
        text = catalog.string("zh-Hans", name)
        word = text.split("，")[-1 if name == "topic_footer" else 0].split(" = ")[0]
        assert LEX.classify(word, "zh-Hans") == kind, (name, word)
    assert LEX.classify(catalog.string("zh-Hans", "menu_footer").split("，")[1].split(" = ")[0], "zh-Hans") == kw.OPT_OUT


@pytest.mark.parametrize("text, locale, args", [
    ("试验94110", "zh-Hans", ("94110",)),
    ("临床试验94110 HR+", "zh-Hans", ("94110", "hr+")),
    ("試驗94110", "zh-Hant", ("94110",)),
    ("임상시험94110", "ko", ("94110",)),
    ("TRIALS94110", "en", ("94110",)),
    ("TRIALS", "en", ()),
])
def test_trials_word_written_without_a_space_before_the_zip(text, locale, args):
    assert LEX.trials_args(text, locale) == args


def test_a_chinese_trials_word_glued_to_a_zip_starts_in_chinese():
    assert LEX.keyword_locale("试验94110") == "zh-Hans"
