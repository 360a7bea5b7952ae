"""The pure engine: no Flask, Twilio or database; state, input and time in, turn out."""

import ast
import pathlib
from dataclasses import replace as dc_replace
from datetime import datetime, timedelta, timezone

import pytest

from service.content.lexicon import load_ask
from service.engine import (ConsentChanged, Facts, HeldTextsConfirmed, LanguageChanged, RedFlag, Reply, State,
                            TopicViewed, converse)
from service.engine.keywords import Lexicon, normalize
from service.engine.menu import MenuTree

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
TREE = MenuTree(
    topics=(("a", ("x", "y")), ("b", ("x",)), ("c", ("x",)), ("d", ("x",)), ("e", ("x",)), ("f", ("x",))),
    page_size=5,
)
LEXICON = Lexicon.build(
    {
        "en": {"fold_accents": True, "opt_out": ["STOP"], "opt_in": ["START"], "help": ["HELP"], "menu": ["MENU"],
               "back": ["0", "BACK"], "more": ["MORE"], "lang": ["LANG"], "affirm": ["YES", "OK"],
               "red_flags": {"urgent": ["fever"], "emergency": ["chest pain*"], "crisis": ["kill myself"]}},
        "es": {"fold_accents": True, "opt_out": ["PARAR"], "help": ["AYUDA"], "more": ["MÁS"], "greetings": ["HOLA"],
               "affirm": ["SÍ"], "red_flags": {"urgent": ["fiebre"]}},
    },
    {"en": "ENGLISH", "es": "ESPAÑOL"},
)


def turn(state, text, now=T0):
    return converse(state, text, now, TREE, LEXICON)


def kinds(t):
    return [(r.kind, r.key) for r in t.replies]


def active(**kw):
    return State(status="active", last_seen=T0, **kw)


def test_engine_imports_nothing_from_flask_twilio_or_the_database():
    root = pathlib.Path(__file__).resolve().parents[2] / "service" / "engine"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"flask", "twilio", "sqlalchemy", "service"}, (path, name)


def test_new_number_gets_welcome_and_menu_and_consent():
    t = turn(State(), "hello")
    assert kinds(t) == [("text", "welcome"), ("main_menu", None)]
    assert t.state.status == "active"
    assert t.events == (ConsentChanged("opt_in", "hello", "sms_first_contact"),)


def test_opted_out_hears_nothing_but_opt_in():
    out = State(status="opted_out", last_seen=T0)
    for text in ("MENU", "help", "1", "hola", "ESPAÑOL"):
        t = turn(out, text)
        assert t.replies == () and t.events == () and t.state.status == "opted_out"
    # A red flag gets no text either (carriers block it), but its clinic hears of it.
    t = turn(out, "fever")
    assert t.replies == () and t.events == (RedFlag("urgent", "fever", "fever"),)
    assert t.state.status == "opted_out"
    back = turn(out, "START")
    assert back.state.status == "active"
    assert kinds(back) == [("text", "start_confirm"), ("main_menu", None)]


def test_stop_wins_over_any_state_and_is_one_reply():
    t = turn(active(node="item", topic="a", item=1), "Stop.")
    assert kinds(t) == [("text", "stop_confirm")]
    assert t.state.status == "opted_out"
    assert t.events == (ConsentChanged("opt_out", "stop", "sms_keyword"),)


def test_red_flag_keeps_position():
    state = active(node="item", topic="a", item=0)
    t = turn(state, "I have a fever")
    assert kinds(t) == [("safety", "urgent")]
    assert (t.state.node, t.state.topic, t.state.item) == ("item", "a", 0)
    assert t.events == (RedFlag("urgent", "fever", "fever"),)


@pytest.mark.parametrize("start,text,expected_node,expected_topic,expected_item,reply_kind", [
    (active(), "1", "topic", "a", None, "topic_menu"),
    (active(), "6", "topic", "f", None, "topic_menu"),  # numbers run across pages
    (active(), "7", "main", None, None, "text"),  # out of range: hint, no move
    (active(node="topic", topic="a"), "2", "item", "a", 1, "item"),
    (active(node="topic", topic="a"), "MORE", "item", "a", 0, "item"),
    (active(node="item", topic="a", item=0), "MORE", "item", "a", 1, "item"),
    (active(node="item", topic="a", item=1), "MORE", "topic", "a", None, "topic_menu"),  # wraps to topic menu
    (active(node="item", topic="a", item=1), "1", "item", "a", 0, "item"),  # sibling item
    (active(node="item", topic="a", item=1), "0", "topic", "a", None, "topic_menu"),
    (active(node="topic", topic="f"), "BACK", "main", None, None, "main_menu"),
    (active(node="item", topic="a", item=1), "MENU", "main", None, None, "main_menu"),
])
def test_navigation(start, text, expected_node, expected_topic, expected_item, reply_kind):
    t = turn(start, text)
    assert (t.state.node, t.state.topic, t.state.item) == (expected_node, expected_topic, expected_item)
    assert t.replies[0].kind == reply_kind


def test_back_from_a_topic_returns_to_its_page():
    t = turn(active(node="topic", topic="f"), "0")
    assert t.replies[0].page == 1


def test_more_cycles_main_menu_pages():
    first = turn(active(), "MORE")
    assert first.replies[0].page == 1
    assert turn(first.state, "MORE").replies[0].page == 0


def test_silence_expires_state():
    state = active(node="topic", topic="a")
    later = T0 + timedelta(minutes=31)
    t = converse(state, "1", later, TREE, LEXICON)
    assert kinds(t) == [("main_menu", None)]
    assert t.state.node == "main" and t.state.last_seen == later
    custom = converse(state, "1", later, TREE, LEXICON, expiry=timedelta(hours=2))
    assert custom.state.node == "item"


def test_language_by_name_and_by_lang_menu():
    t = turn(active(), "español")
    assert t.state.locale == "es" and t.events == (LanguageChanged("es"),)
    assert kinds(t) == [("text", "lang_set"), ("main_menu", None)]
    menu = turn(active(), "LANG")
    assert menu.replies[0].kind == "lang_menu"
    chosen = turn(menu.state, "2")
    assert chosen.state.locale == "es"


def test_unknown_input_gets_hint_not_silence():
    t = turn(active(), "blah")
    assert kinds(t) == [("text", "hint")]
    assert not t.understood  # what a call says "not a valid choice" for
    assert turn(active(), "1").understood and turn(active(), "HELP").understood


def test_yes_releases_what_a_call_held_only_when_something_is():
    held = Facts(texts_held=True)  # START: this lexicon's opt-in word (YES on the line)
    for state in (State(), active()):
        t = converse(state, "START", T0, TREE, LEXICON, facts=held)
        assert HeldTextsConfirmed() in t.events
        assert HeldTextsConfirmed() not in converse(state, "START", T0, TREE, LEXICON).events
    assert HeldTextsConfirmed() not in converse(active(), "1", T0, TREE, LEXICON, facts=held).events
    # A clinic's confirmation takes the same YES: both happen.
    both = converse(State(), "START", T0, TREE, LEXICON, facts=Facts(texts_held=True, clinic_pending_locale="en"))
    assert [type(e).__name__ for e in both.events] == ["HeldTextsConfirmed", "ClinicConfirmed"]


def test_same_input_same_output():
    assert turn(active(), "1") == turn(active(), "1")


def test_first_message_greeting_starts_in_that_language():
    t = turn(State(), "¡Hola!")
    assert t.state.locale == "es"
    assert kinds(t) == [("text", "welcome"), ("text", "lang_set"), ("main_menu", None)]
    assert LanguageChanged("es") in t.events


def test_first_message_spanish_opt_out_confirms_in_spanish():
    t = turn(State(), "parar")
    assert t.state.locale == "es" and t.state.status == "opted_out"
    assert kinds(t) == [("text", "stop_confirm")]


def test_a_locales_own_words_do_not_fire_for_others():
    # "más" is MORE only for Spanish speakers; opt-out words work for everyone
    assert turn(active(), "más").replies[0].key == "hint"
    assert turn(active(locale="es"), "más").replies[0].kind == "main_menu"
    assert turn(active(), "PARAR").state.status == "opted_out"


def test_greeting_later_does_not_switch_language():
    assert turn(active(), "hola").state.locale == "en"


def test_an_english_keyword_that_is_also_a_locale_word_keeps_english():
    lexicon = Lexicon.build(
        {"en": {"fold_accents": True, "menu": ["MENU"], "opt_out": ["STOP"]},
         "es": {"fold_accents": True, "menu": ["MENÚ"], "greetings": ["HOLA"]}},
        {"en": "ENGLISH", "es": "ESPAÑOL"},
    )
    assert converse(State(), "MENU", T0, TREE, lexicon).state.locale == "en"
    assert converse(State(), "menú", T0, TREE, lexicon).state.locale == "en"
    assert converse(State(), "hola", T0, TREE, lexicon).state.locale == "es"


# --- Ask a term / topic words (issue 15): a step just before the "hint" fallback ---

ASK_LEXICON = Lexicon.build(
    {"en": {"opt_out": ["STOP"], "help": ["HELP"], "menu": ["MENU"], "back": ["0"], "more": ["MORE"],
            "red_flags": {"urgent": ["fever"]}}},
    {"en": "ENGLISH"},
)


def ask_turn(state, text):
    lexicon = dc_replace(ASK_LEXICON, ask=load_ask())
    tree = MenuTree(topics=(("chemo", ("what",)), ("hormone", ("what",)), ("trials", ("what",))), page_size=5)
    return converse(state, text, T0, tree, lexicon)


@pytest.mark.parametrize("text, key", [
    ("what is her2?", "term_her2"), ("TNBC", "term_tnbc"), ("que es HER2", "term_her2"),
    ("qué es el HER2+", "term_her2"), ("HER2 là gì", "term_her2"), ("什么是HER2？", "term_her2"),
    ("what's a CPS score", "term_pdl1"), ("o que é metástase", "term_metastatic"), ("hr+", "term_hr"),
])
def test_a_term_or_a_question_about_one_gets_its_definition(text, key):
    t = ask_turn(active(), text)
    assert kinds(t) == [("text", key)]
    assert t.state.node == "main"  # where the person was stays as it was


@pytest.mark.parametrize("text, topic", [
    ("chemo", "chemo"), ("hormone", "hormone"), ("clinical trials", "trials"), ("tell me about tamoxifen", "hormone"),
    ("quimioterapia", "chemo"),
])
def test_a_topic_word_opens_that_topic(text, topic):
    t = ask_turn(active(), text)
    assert [(r.kind, r.topic) for r in t.replies] == [("topic_menu", topic)]
    assert t.state.node == "topic" and t.state.topic == topic


@pytest.mark.parametrize("text", ["I feel sad today", "chr+", "ivory", "hello there", "her2 " + "word " * 10])
def test_a_phrase_not_understood_still_gets_the_hint(text):
    assert kinds(ask_turn(active(), text)) == [("text", "hint")]


def test_numbers_keywords_and_red_flags_win_over_terms():
    assert kinds(ask_turn(active(), "fever and her2")) == [("safety", "urgent")]
    assert kinds(ask_turn(active(), "STOP")) == [("text", "stop_confirm")]
    t = ask_turn(active(), "1")
    assert [(r.kind, r.topic) for r in t.replies] == [("topic_menu", "chemo")]


def test_a_topic_word_for_a_topic_the_tree_lacks_gets_the_hint():
    lexicon = dc_replace(ASK_LEXICON, ask=load_ask())
    tree = MenuTree(topics=(("a", ("x",)),), page_size=5)
    assert kinds(converse(active(), "chemo", T0, tree, lexicon)) == [("text", "hint")]


# --- A term or topic word as the very first message (issue 15): the welcome, then the answer ---

ASK_ALL = Lexicon.build(
    {"en": {"opt_out": ["STOP"], "help": ["HELP"], "menu": ["MENU"], "back": ["0"], "more": ["MORE"],
            "red_flags": {"urgent": ["fever"], "emergency": ["chest pain*"]}},
     "es": {"fold_accents": True, "opt_out": ["PARAR"], "help": ["AYUDA"], "greetings": ["HOLA"],
            "red_flags": {"emergency": ["dolor de pecho"]}}},
    {"en": "ENGLISH", "es": "ESPAÑOL", "zh-Hans": "中文(简体)", "zh-Hant": "中文(繁體)", "ko": "한국어"},
)


def first_turn(text, state=State()):
    lexicon = dc_replace(ASK_ALL, ask=load_ask())
    tree = MenuTree(topics=(("chemo", ("what",)), ("hormone", ("what",)), ("trials", ("what",))), page_size=5)
    return converse(state, text, T0, tree, lexicon)


@pytest.mark.parametrize("text, key, locale", [
    ("what is her2?", "term_her2", "en"), ("TNBC", "term_tnbc", "en"), ("hr+", "term_hr", "en"),
    ("what is metastasis", "term_metastatic", "en"), ("Metastasis to bone", "term_metastatic", "en"),
    ("que es HER2", "term_her2", "es"), ("¿Qué es la metástasis?", "term_metastatic", "es"), ("¿Qué es el TNBC?", "term_tnbc", "es"),
    ("什么是HER2？", "term_her2", "zh-Hans"), ("三陰性是什麼", "term_tnbc", "zh-Hant"), ("HER2가 뭐예요?", "term_her2", "ko"),
])
def test_a_first_message_asking_a_term_gets_the_welcome_then_the_definition(text, key, locale):
    t = first_turn(text)
    switched = [("text", "lang_set")] if locale != "en" else []
    assert kinds(t) == [("text", "welcome"), *switched, ("text", key)]
    assert t.state.locale == locale and t.state.status == "active" and t.state.node == "main"
    assert ConsentChanged("opt_in", normalize(text)[:40], "sms_first_contact") in t.events
    assert (LanguageChanged(locale) in t.events) == (locale != "en")


@pytest.mark.parametrize("text, topic, locale", [
    ("chemo", "chemo", "en"), ("tell me about tamoxifen", "hormone", "en"), ("quimioterapia", "chemo", "es"),
    ("化疗", "chemo", "zh-Hans"), ("clinical trials", "trials", "en"),
])
def test_a_first_message_naming_a_topic_gets_the_welcome_then_the_topic(text, topic, locale):
    t = first_turn(text)
    assert t.replies[0] == Reply("text", key="welcome")
    assert (t.replies[-1].kind, t.replies[-1].topic) == ("topic_menu", topic)
    assert t.state.node == "topic" and t.state.topic == topic and t.state.locale == locale
    assert TopicViewed(topic, None) in t.events


@pytest.mark.parametrize("text, kind", [
    ("what is her2? chest pain", "emergency"), ("que es HER2, tengo dolor de pecho", "emergency"),
    ("her2 fever", "urgent"),
])
def test_a_red_flag_in_a_first_question_comes_first_without_the_definition(text, kind):
    t = first_turn(text)
    assert kinds(t)[0] == ("safety", kind)
    assert ("text", "welcome") in kinds(t)
    assert not any(r.key and r.key.startswith("term_") for r in t.replies)


def test_a_first_message_not_about_a_term_still_gets_the_menu_in_english():
    t = first_turn("hello, can you help with my mom")
    assert kinds(t) == [("text", "welcome"), ("main_menu", None)] and t.state.locale == "en"


def test_a_locale_not_enabled_is_not_chosen_by_a_question():
    t = first_turn("что такое HER2")  # Russian is not enabled in this lexicon
    assert kinds(t) == [("text", "welcome"), ("text", "term_her2")] and t.state.locale == "en"


def test_a_term_after_a_long_silence_is_answered_not_sent_to_the_menu():
    state = State(status="active", last_seen=T0 - timedelta(hours=5), node="topic", topic="chemo")
    t = first_turn("what is her2", state)
    assert kinds(t) == [("text", "term_her2")] and t.state.node == "main"
    assert kinds(first_turn("1", state)) == [("main_menu", None)]  # a digit is still not guessed at
