"""Vietnamese keywords (locales/vi/keywords.toml): opt-out with and without marks, no misfires."""

import unicodedata

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", [
    "DỪNG", "dừng lại", "Dừng lại!", "DUNG LAI", "dung lai.", "NGỪNG", "ngưng", "ngung lai",
    "HỦY", "huỷ", "Hủy đăng ký", "HUỶ ĐĂNG KÝ", "huy dang ky?", "HUY BO", "ngừng nhắn tin",
    "NGUNG NHAN TIN", "dung nhan tin!!", "Đừng nhắn nữa", "khong nhan nua",
    unicodedata.normalize("NFD", "Dừng lại"),  # phone keyboards may send decomposed marks
])
@pytest.mark.parametrize("locale", ["vi", "en", "es"])
def test_vietnamese_opt_out_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text", ["GIÚP", "giúp đỡ", "GIUP DO", "Trợ giúp?", "tro giup", "giup toi"])
@pytest.mark.parametrize("locale", ["vi", "en"])
def test_vietnamese_help_works_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.HELP


@pytest.mark.parametrize("text,kind", [
    ("TIẾP", kw.MORE), ("tiep", kw.MORE), ("xem them", kw.MORE), ("QUAY LẠI", kw.BACK), ("quay lai", kw.BACK),
    ("danh muc", kw.MENU), ("BẮT ĐẦU", kw.OPT_IN), ("bat dau", kw.OPT_IN), ("Có", kw.OPT_IN),
    ("ngôn ngữ", kw.LANG), ("doi ngon ngu", kw.LANG),
    # the English words printed in Vietnamese texts always work
    ("STOP", kw.OPT_OUT), ("HELP", kw.HELP), ("MENU", kw.MENU), ("START", kw.OPT_IN), ("LANG", kw.LANG),
])
def test_vietnamese_keyword_kinds(text, kind):
    assert LEX.classify(text, "vi") == kind


@pytest.mark.parametrize("text", ["tiep", "TIẾP", "quay lai", "danh muc", "bat dau", "ngon ngu", "có"])
def test_vietnamese_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text", [
    "dùng",          # "use": differs from "dừng" (stop) only by its marks
    "DUNG",          # bare unaccented form: dừng, dùng, dung, dũng...
    "Huy",           # a common name; "hủy" (cancel) needs its mark
    "thôi",          # "never mind / that's all", not a request to unsubscribe
    "dừng thuốc được không",  # "can I stop the drug?": a question, not an opt-out
    "co",            # có / cô / cỏ / cơ: not a yes
])
def test_vietnamese_misfires(text):
    assert LEX.classify(text, "vi") not in (kw.OPT_OUT, kw.OPT_IN)


@pytest.mark.parametrize("text", [
    "Tôi bị sốt 39 độ sau hóa trị",
    "me toi sot cao qua",           # no marks at all
    "em thấy khó thở lắm",
    "toi khong tho duoc",           # "được" without marks: "đ" does not fold to "d"
    "bị đau ngực từ tối qua",
    "dau nguc qua",
    "tôi muốn chết",
    "con nghĩ đến tự tử",
    "bị tiêu chảy nặng cả ngày",
    "mẹ tôi bị ngất xỉu",
    "cần cấp cứu",
])
def test_vietnamese_red_flags_inside_a_sentence(text):
    assert LEX.red_flag(text) is not None


@pytest.mark.parametrize("text", [
    "từ từ thôi",          # "slowly": folds to "tu tu", like "tự tử"
    "đợi một xíu",         # "a moment": "xíu" folds like "xỉu" (faint)
    "mì sốt cà chua",      # "sốt" is also a sauce
    "tôi bỏ sót tin nhắn",  # "sót" (missed) folds like "sốt" (fever)
])
def test_vietnamese_ordinary_phrases_are_not_red_flags(text):
    assert LEX.red_flag(text) is None


def test_vietnamese_greeting_starts_in_vietnamese():
    assert LEX.keyword_locale("Xin chào") == "vi"
    assert LEX.keyword_locale("xin chao") == "vi"
    assert LEX.language_named("tieng viet") == "vi"
