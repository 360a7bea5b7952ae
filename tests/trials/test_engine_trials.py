"""The pure engine's side of TRIALS: parsing, state and the Reply it names (no database)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from service.content.catalog import load_catalog
from service.content.lexicon import load_lexicon
from service.content.locales import KNOWN_LOCALES
from service.engine import Reply, State, TopicViewed, converse
from service.engine.menu import MenuTree
from service.engine.trials import parse

NOW = datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def line():
    catalog = load_catalog(("en", "es"))
    return MenuTree.from_content(catalog.content), load_lexicon(["en", "es"])


def turn(line, text, state=None):
    tree, lexicon = line
    state = state or State(status="active", last_seen=NOW)
    return converse(state, text, NOW, tree, lexicon)


def trials_reply(t) -> dict:
    [reply] = [r for r in t.replies if r.kind == "trials"]
    return dict(reply.params)


@pytest.mark.parametrize(("args", "zip_code", "subtype"), [
    (("94110",), "94110", None),
    (("94110", "hr+"), "94110", "HR+"),
    (("her2+", "94110"), "94110", "HER2+"),
    (("94110-1234", "triple", "negative"), "94110-1234", "TNBC"),
    (("tnbc",), None, "TNBC"),
    (("94110", "her2", "low"), "94110", "HER2-low"),  # never HER2+
    (("her2-low", "94110"), "94110", "HER2-low"),
    (("9411",), "9411", None),
    (("near", "me"), None, None),
    ((), None, None),
])
def test_parse(args, zip_code, subtype):
    command = parse(args)
    assert (command.zip, command.subtype) == (zip_code, subtype)


def test_trials_zip_names_the_search_and_keeps_it(line):
    t = turn(line, "TRIALS 94110 HER2+")
    assert t.replies == (Reply("trials", params=(("page", "0"), ("subtype", "HER2+"), ("zip", "94110"))),)
    assert (t.state.node, t.state.trials_zip, t.state.trials_subtype, t.state.trials_page) == (
        "trials", "94110", "HER2+", 0)
    assert TopicViewed("trials", "search") in t.events


def test_trials_more_and_more_page_on(line):
    first = turn(line, "TRIALS 94110").state
    second = turn(line, "trials more!", first)
    assert trials_reply(second) == {"page": "1", "subtype": "", "zip": "94110"}
    third = turn(line, "MORE", second.state)
    assert trials_reply(third)["page"] == "2"


def test_trials_without_zip_asks_for_one_and_leaves_the_menu_alone(line):
    state = State(status="active", last_seen=NOW, node="topic", topic="hormone")
    t = turn(line, "TRIALS", state)
    assert trials_reply(t) == {"page": "0", "subtype": "", "zip": ""}
    assert (t.state.node, t.state.topic) == ("topic", "hormone")


def test_trials_more_without_a_search_asks_for_a_zip(line):
    assert trials_reply(turn(line, "TRIALS MORE"))["zip"] == ""


def test_spanish_words_work_for_spanish_speakers_only(line):
    es = State(status="active", locale="es", last_seen=NOW)
    assert trials_reply(turn(line, "ensayos 94110", es))["zip"] == "94110"
    more = turn(line, "ESTUDIOS SIGUIENTE", turn(line, "ESTUDIOS 94110", es).state)
    assert trials_reply(more)["page"] == "1"
    assert not [r for r in turn(line, "ESTUDIOS 94110").replies if r.kind == "trials"]  # English speaker
    assert trials_reply(turn(line, "TRIALS 94110", es))["zip"] == "94110"  # English works for everyone


def test_a_word_that_only_starts_like_trials_is_not_a_command(line):
    assert not [r for r in turn(line, "trialsx 94110").replies if r.kind == "trials"]
    assert not [r for r in turn(line, "my trials 94110").replies if r.kind == "trials"]


def test_stop_and_red_flags_still_win(line):
    assert turn(line, "STOP").state.status == "opted_out"
    t = turn(line, "TRIALS fever 94110")
    assert [(r.kind, r.key) for r in t.replies] == [("safety", "urgent")]


def test_a_zip_glued_to_the_command_word_still_searches():
    catalog = load_catalog(("en", "zh-Hans"))
    tree, lexicon = MenuTree.from_content(catalog.content), load_lexicon(["en", "zh-Hans"])
    zh = State(status="active", locale="zh-Hans", last_seen=NOW)
    t = converse(zh, "试验94110", NOW, tree, lexicon)
    assert trials_reply(t)["zip"] == "94110"
    assert trials_reply(converse(State(status="active", last_seen=NOW), "TRIALS94110 TNBC", NOW, tree, lexicon)) == {
        "page": "0", "subtype": "TNBC", "zip": "94110"}


@pytest.fixture(scope="module")
def every_locale():
    catalog = load_catalog(tuple(KNOWN_LOCALES))
    return catalog, MenuTree.from_content(catalog.content), load_lexicon(list(KNOWN_LOCALES))


@pytest.mark.parametrize("locale", list(KNOWN_LOCALES))
def test_the_how_to_names_her2_low_in_words_the_search_takes(every_locale, locale):
    catalog, tree, lexicon = every_locale
    text = catalog.string(locale, "trials_how")
    [words] = re.findall(r"HER2[\s-]*(?:low|bajo|faible|baixo)", text)  # as the translation writes it
    state = State(status="active", locale=locale, last_seen=NOW)
    assert trials_reply(converse(state, f"TRIALS 94110 {words}", NOW, tree, lexicon)) == {
        "page": "0", "subtype": "HER2-low", "zip": "94110"}
