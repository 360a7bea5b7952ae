"""What a key press or silence means on a call (service/engine/call.py): a pure table.

Each row: where the call is (a CallState), what was heard (keys, words or silence), the Decision.
The rows follow the rules of the module's docstring, in order.
"""

import ast
import pathlib

import pytest

from service.engine import call as engine_call
from service.engine.call import (ENDED, ITEM, LANG, MAIN, MAX_RETRIES, TOPIC, ZIP, ZIP_HEARD, AskZip, Begin,
                                 CallState, ChooseLanguage, Decision, Gathered, Goodbye, Heard, HearTrials,
                                 LanguageMenu, LanguagePage, MainMenu, NoZip, Repeat, Retry, SearchTrials, Silence,
                                 TextMe, TextTrialList, Walk, after_words, best_match, decide, key_message,
                                 language_page, retry, understand)
from service.engine.keywords import Lexicon
from service.engine.menu import MenuTree

# Seven topics, five a page: the main menu has two pages. Topic "trials" has three parts.
TREE = MenuTree(
    topics=(("basics", ("a", "b")), ("trials", ("x", "y", "z")), ("c", ("a",)), ("d", ("a",)), ("e", ("a",)),
            ("f", ("a",)), ("g", ("a",))),
    page_size=5,
)
SILENCE = Silence()


def keys(digits: str = "", speech: str = "") -> Gathered:
    return Gathered(digits=digits, speech=speech)


def at(node: str, **facts) -> CallState:
    return CallState(node=node, **facts)


ROWS = [
    # 1. Not greeted yet, or ended: begin.
    ("first request", at(MAIN, new=True), keys("2"), Decision(Begin())),
    ("first request is silence", at(LANG, new=True), SILENCE, Decision(Begin())),
    ("keys after the call ended", at(ENDED, retries=1), keys("1"), Decision(Begin())),
    ("silence after the call ended is a retry", at(ENDED), SILENCE, Decision(Retry("voice_no_input"), retries=1)),
    # 2. Silence.
    ("silence at the ZIP prompt once", at(ZIP), SILENCE, Decision(NoZip(), retries=1)),
    ("silence at the ZIP prompt twice", at(ZIP, retries=1), SILENCE, Decision(NoZip(explain=True), node=MAIN)),
    ("silence after the trials", at(ZIP_HEARD), SILENCE, Decision(MainMenu(), node=MAIN)),
    ("silence on a menu", at(MAIN), SILENCE, Decision(Retry("voice_no_input"), retries=1)),
    ("silence on the language menu", at(LANG, retries=1), SILENCE, Decision(Retry("voice_no_input"), retries=2)),
    ("silence on a safety reply", at(TOPIC, topic="basics", safety=True), SILENCE,
     Decision(Retry("voice_no_input"), retries=1)),
    ("silence past the last retry", at(TOPIC, topic="basics", retries=MAX_RETRIES), SILENCE,
     Decision(Goodbye(), retries=MAX_RETRIES + 1)),
    # 3. # ends the call anywhere.
    ("# on the main menu", at(MAIN, retries=1), keys("#"), Decision(Goodbye(), retries=1)),
    ("# on the language menu", at(LANG), keys("#"), Decision(Goodbye())),
    ("# at the ZIP prompt", at(ZIP), keys("#"), Decision(Goodbye())),
    ("# after the trials", at(ZIP_HEARD), keys("#"), Decision(Goodbye())),
    ("# on a safety reply", at(MAIN, safety=True), keys("#"), Decision(Goodbye())),
    # 4. The ZIP dialog.
    ("a ZIP typed", at(ZIP, retries=1), keys(" 94110 "), Decision(SearchTrials("94110"), retries=1)),
    ("* at the ZIP prompt is searched (and unknown)", at(ZIP), keys("*"), Decision(SearchTrials("*"))),
    ("9 after the trials texts the list", at(ZIP_HEARD), keys("9"), Decision(TextTrialList(), node=MAIN)),
    ("1 after the trials asks another ZIP", at(ZIP_HEARD), keys("1"), Decision(AskZip(), node=ZIP)),
    ("0 after the trials: main menu", at(ZIP_HEARD), keys("0"), Decision(MainMenu(), node=MAIN)),
    ("another key after the trials says them again", at(ZIP_HEARD), keys("5"), Decision(HearTrials())),
    ("* after the trials says them again", at(ZIP_HEARD), keys("*"), Decision(HearTrials())),
    # 5. * repeats and forgets the retries.
    ("* on a topic", at(TOPIC, topic="basics", retries=2), keys("*"), Decision(Repeat())),
    ("* on a safety reply", at(MAIN, safety=True, retries=1), keys("*"), Decision(Repeat())),
    # 6. The language menu.
    ("a language on the only page", at(LANG, languages=3), keys("3"), Decision(ChooseLanguage(2), node=MAIN)),
    ("9 languages fit keys 1-9", at(LANG, languages=9), keys("9"), Decision(ChooseLanguage(8), node=MAIN)),
    ("no such language", at(LANG, languages=3), keys("4"), Decision(Retry("voice_invalid"), retries=1)),
    ("0 on the language menu", at(LANG, languages=3), keys("0"), Decision(Retry("voice_invalid"), retries=1)),
    ("9 turns the page", at(LANG, languages=12, retries=1), keys("9"), Decision(LanguagePage(1))),
    ("9 on the last page goes back", at(LANG, languages=12, page=1), keys("9"), Decision(LanguagePage(0))),
    ("a language on the second page", at(LANG, languages=12, page=1), keys("2"),
     Decision(ChooseLanguage(9), node=MAIN)),
    ("past the second page's languages", at(LANG, languages=12, page=1), keys("5"),
     Decision(Retry("voice_invalid"), retries=1)),
    ("words on the language menu", at(LANG, languages=3), keys(speech="english"),
     Decision(Retry("voice_invalid"), retries=1)),
    # 7. Words said.
    ("words on the main menu", at(MAIN, retries=1), keys(speech="chest pain"),
     Decision(Heard("chest pain"), retries=1)),
    ("words on a safety reply", at(MAIN, safety=True), keys(speech="yes"), Decision(Heard("yes"))),
    ("a key wins over words", at(MAIN), keys("2", "chest pain"), Decision(Walk("2"))),
    # 8. On a safety reply.
    ("safety reply, 1 says it again", at(TOPIC, topic="basics", safety=True, retries=1), keys("1"),
     Decision(Repeat(), retries=1)),
    ("safety reply, 9 says it again", at(TOPIC, topic="basics", safety=True), keys("9"), Decision(Repeat())),
    ("safety reply, 0 goes to the main menu", at(TOPIC, topic="basics", safety=True), keys("0"),
     Decision(MainMenu(), node=MAIN, safety_over=True)),
    # 9. Keys only a call has.
    ("7 on the main menu", at(MAIN, languages=3), keys("7"), Decision(LanguageMenu(), node=LANG)),
    ("7 with one language is a wrong key", at(MAIN, languages=1), keys("7"),
     Decision(Retry("voice_invalid"), retries=1)),
    ("9 on a topic", at(TOPIC, topic="basics", retries=1), keys("9"), Decision(TextMe())),
    ("9 on a part", at(ITEM, topic="basics"), keys("9"), Decision(TextMe())),
    ("9 on the main menu is a wrong key", at(MAIN), keys("9"), Decision(Retry("voice_invalid"), retries=1)),
    ("8 on the trials topic", at(TOPIC, topic="trials", trials_here=True), keys("8"), Decision(AskZip(), node=ZIP)),
    ("8 on a trials part", at(ITEM, topic="trials", trials_here=True), keys("8"), Decision(AskZip(), node=ZIP)),
    ("8 without the trials search is a wrong key", at(TOPIC, topic="trials"), keys("8"),
     Decision(Retry("voice_invalid"), retries=1)),
    # 10. Keys that walk the menus.
    ("0 is MENU", at(ITEM, topic="basics", retries=1), keys("0"), Decision(Walk("MENU"), retries=1)),
    ("6 is MORE", at(MAIN), keys("6"), Decision(Walk("MORE"))),
    ("a topic on the first page", at(MAIN), keys("2"), Decision(Walk("2"))),
    ("a topic on the second page is numbered across pages", at(MAIN, page=1), keys("2"), Decision(Walk("7"))),
    ("past the second page's topics", at(MAIN, page=1), keys("3"), Decision(Retry("voice_invalid"), retries=1)),
    ("past the page size", at(MAIN), keys("8"), Decision(Retry("voice_invalid"), retries=1)),
    ("a part of the topic", at(TOPIC, topic="trials"), keys("3"), Decision(Walk("3"))),
    ("past the topic's parts", at(TOPIC, topic="basics"), keys("3"), Decision(Retry("voice_invalid"), retries=1)),
    ("only the first key counts", at(MAIN), keys("25"), Decision(Walk("2"))),
    # 11. Retries run out.
    ("a wrong key past the last retry", at(MAIN, retries=MAX_RETRIES), keys("8"),
     Decision(Goodbye(), retries=MAX_RETRIES + 1)),
    ("nothing pressed, nothing said", at(MAIN), keys(), Decision(Retry("voice_invalid"), retries=1)),
]


@pytest.mark.parametrize("state, heard, decision", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_the_table(state, heard, decision):
    assert decide(state, heard, TREE) == decision


def test_every_kind_of_decision_is_in_the_table():
    actions = {type(row[3].action) for row in ROWS}
    assert actions == set(engine_call.Action.__args__)


def test_a_retry_counts_up_and_ends_the_call_past_the_last():
    assert retry(at(MAIN), "voice_invalid") == Decision(Retry("voice_invalid"), retries=1)
    assert retry(at(MAIN, retries=MAX_RETRIES - 1), "voice_no_input").action == Retry("voice_no_input")
    assert retry(at(MAIN, retries=MAX_RETRIES), "voice_invalid") == Decision(Goodbye(), retries=MAX_RETRIES + 1)


def test_a_number_said_is_the_message_its_key_would_be():
    assert key_message(at(MAIN, page=1), "1", TREE) == "6"
    assert key_message(at(ITEM, topic="trials"), "2", TREE) == "2"
    assert key_message(at(MAIN), "*", TREE) is None


def test_language_pages():
    twelve = [f"l{n}" for n in range(12)]
    assert language_page(twelve[:9], 0) == (twelve[:9], False)
    assert language_page(twelve, 0) == (twelve[:8], True)
    assert language_page(twelve, 1) == (twelve[8:], True)


def test_the_call_rules_import_nothing_outside_the_engine():
    """The standard library's few, and the engine's own modules (level 1: `from .x`, never `..`)."""
    tree = ast.parse(pathlib.Path(engine_call.__file__).read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    absolute = {a.name for n in imports if isinstance(n, ast.Import) for a in n.names}
    absolute |= {n.module for n in imports if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert absolute <= {"__future__", "dataclasses", "re", "typing"}
    assert {n.level for n in imports if isinstance(n, ast.ImportFrom)} <= {0, 1}


# --- words said on a call (no red flag in them) -> the SMS messages they stand for -----------------

LEXICON = Lexicon.build({"en": {"fold_accents": True, "menu": ["MENU"], "back": ["0", "BACK"], "more": ["MORE"]},
                         "es": {"fold_accents": True, "menu": ["MENÚ"], "more": ["MÁS"]}},
                        {"en": "ENGLISH", "es": "ESPAÑOL"})
TOPIC_LABELS = [(1, "Basics"), (2, "Clinical trials"), (3, "Chemotherapy"), (1, "Lo básico"),
                (2, "Ensayos clínicos"), (3, "Quimioterapia")]
ITEM_LABELS = [(1, "What a trial is"), (2, "Finding one"), (3, "Costs")]


@pytest.mark.parametrize("where, speech, locale, messages", [
    (at(TOPIC, topic="trials"), "main menu please", "en", ["MENU"]),  # any one menu word will do
    (at(TOPIC, topic="trials"), "go back", "en", ["MENU"]),
    (at(MAIN), "more", "en", ["MORE"]),
    (at(MAIN), "más temas", "es", ["MORE"]),
    (at(MAIN), "2.", "en", ["2"]),  # a number said (as recognised: digits) is the key
    (at(MAIN, page=1), "2", "en", ["7"]),  # on the second page, as key 2 there
    (at(MAIN), "9", "en", []),  # not a choice on this menu
    (at(MAIN), "chemo", "en", ["3"]),  # a topic by a word of its name
    (at(MAIN), "quimioterapia", "es", ["3"]),
    (at(TOPIC, topic="trials"), "costs", "en", ["3"]),  # a part of this topic first
    (at(TOPIC, topic="trials"), "chemotherapy", "en", ["MENU", "3"]),  # another topic: via the menu
    (at(MAIN), "the weather today", "en", []),  # nothing understood
])
def test_words_said_become_the_messages_they_stand_for(where, speech, locale, messages):
    items = ITEM_LABELS if where.node in (TOPIC, ITEM) else []
    assert understand(where, speech, locale, TREE, LEXICON, topic_labels=TOPIC_LABELS, item_labels=items) == messages


def test_a_label_must_be_heard_by_half_and_a_tie_is_no_answer():
    labels = [(1, "Bone drugs"), (2, "Bone radiation")]
    assert best_match("bone", labels) is None  # both half heard: a tie
    assert best_match("bone drugs", labels) == 1
    assert best_match("radiation for my bones", labels) == 2
    assert best_match("drugs", [(1, "Bone drugs and radiation")]) is None  # a third of the label


def test_words_on_a_safety_reply_say_it_again_and_elsewhere_are_read():
    assert after_words(at(MAIN, safety=True, retries=1)) == Decision(Repeat(), retries=1)
    assert after_words(at(TOPIC, topic="trials", safety=True)) == Decision(Repeat())
    assert after_words(at(MAIN)) is None and after_words(at(TOPIC, topic="trials")) is None
