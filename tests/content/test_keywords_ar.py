"""Arabic keywords (locales/ar/keywords.toml): opt-out for everyone, navigation only in Arabic."""

import pytest

from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import keywords as kw

LEX = load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("text", ["إيقاف", "ايقاف", "إيقاف!", " إلغاء. ", "الغاء الاشتراك", "توقف؟", "كفى",
                                  "ستوب", "\u200fإيقاف\u200f", "إيقاف الرسائل", "أوقف"])
@pytest.mark.parametrize("locale", ["en", "es", "ar", "fr"])
def test_arabic_opt_out_words_work_for_everyone(text, locale):
    assert LEX.classify(text, locale) == kw.OPT_OUT


@pytest.mark.parametrize("text,kind", [
    ("مساعدة", kw.HELP), ("مساعده؟", kw.HELP), ("ابدأ", kw.OPT_IN), ("ابدا", kw.OPT_IN), ("نعم", kw.OPT_IN),
    ("القائمة", kw.MENU), ("القائمه", kw.MENU), ("رجوع", kw.BACK), ("المزيد", kw.MORE), ("التالي", kw.MORE),
    ("اللغة", kw.LANG), ("0", kw.BACK), ("MENU", kw.MENU), ("STOP", kw.OPT_OUT),
    ("مَزِيد", kw.MORE),  # short-vowel marks are folded away
])
def test_arabic_keyword_kinds(text, kind):
    assert LEX.classify(text, "ar") == kind


@pytest.mark.parametrize("text", ["المزيد", "رجوع", "القائمة", "اللغة", "نعم", "ابدأ"])
def test_arabic_navigation_words_do_not_fire_for_english_speakers(text):
    assert LEX.classify(text, "en") is None


@pytest.mark.parametrize("text", ["توقف الألم", "كيف أوقف الغثيان؟", "إلغاء الموعد", "لا أريد رسائل عن الكيماوي فقط"])
def test_words_inside_a_sentence_are_not_opt_outs(text):
    # Misfire check: "stop the pain", "cancel the appointment" are questions, not opt-outs.
    assert LEX.classify(text, "ar") != kw.OPT_OUT


@pytest.mark.parametrize("text", ["مرحبا", "مرحباً", "السلام عليكم", "صباح الخير", "تجارب 94110"])
def test_an_arabic_first_message_starts_in_arabic(text):
    assert LEX.keyword_locale(text) == "ar"


def test_trials_command_takes_arguments_in_arabic():
    assert LEX.trials_args("تجارب 94110 HER2", "ar") == ("94110", "her2")


@pytest.mark.parametrize("text,term", [
    ("عندي حمى منذ أمس", "حمى"), ("أشعر بضيق في التنفس", "ضيق في التنفس"),
    ("لا أستطيع التنفس!", "لا استطيع التنفس"), ("ألم في الصدر قوي", "الم في الصدر"),
    ("أفكر في الانتحار", "انتحار"), ("عندها إسهال شديد", "اسهال شديد"), ("أغمي علي اليوم", "اغمي علي"),
])
def test_arabic_red_flags_found_inside_a_sentence(text, term):
    assert LEX.red_flag(text) is not None, term


@pytest.mark.parametrize("text", ["حماية العظام", "هل يحمي الدواء القلب؟", "أخبرني عن الكيماوي"])
def test_ordinary_arabic_words_are_not_red_flags(text):
    # "حماية" (protection) and "يحمي" (protects) share letters with "حمى" (fever) but are not it.
    assert LEX.red_flag(text) is None
