"""The safety net in the engine, with the real keywords of every locale (issue 13): a red flag
gets its class's reply at once in any state; for 30 minutes after, a "yes" in any language is
never consent, a clinic confirmation or a menu choice; STOP still wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from service.content.catalog import load_catalog
from service.content.lexicon import keyword_tables, load_lexicon
from service.content.locales import KNOWN_LOCALES, locale_dir
from service.content.redflag_quality import load_corpora
from service.content.render import safety_text
from service.engine import CheckinAnswered, ClinicConfirmed, ConsentChanged, Facts, RedFlag, State, converse
from service.engine.conversation import SAFETY_WINDOW
from service.engine.menu import MenuTree

T0 = datetime(2026, 12, 7, 3, tzinfo=timezone.utc)
LOCALES = list(KNOWN_LOCALES)
LEXICON = load_lexicon(LOCALES)
TREE = MenuTree.from_content(load_catalog(tuple(LOCALES)).content)
CORPORA = load_corpora()
TABLES = keyword_tables(LOCALES)


def turn(state, text, now=T0, facts=Facts()):
    return converse(state, text, now, TREE, LEXICON, facts=facts)


def first_of(locale: str, kind: str) -> str:
    return CORPORA[locale_dir(locale)][kind][0]


def yes_words(locale: str) -> list[str]:
    table = TABLES[locale]
    return [*table.get("affirm", ()), *table.get("opt_in", ())]


def after_safety(locale: str, kind: str, facts=Facts()) -> State:
    start = State(locale=locale, status="active", last_seen=T0 - timedelta(minutes=1))
    t = turn(start, first_of(locale, kind), facts=facts)
    assert [(r.kind, r.key) for r in t.replies] == [("safety", kind)], (locale, kind, t.replies)
    assert t.state.safety == kind and t.state.safety_at == T0
    return t.state


def test_every_locale_has_yes_words():
    assert all(TABLES[loc].get("affirm") for loc in LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["emergency", "crisis", "urgent"])
def test_yes_after_a_safety_reply_is_the_safety_reply_again_in_every_locale(locale, kind):
    state = after_safety(locale, kind)
    for word in yes_words(locale):
        t = turn(state, word, now=T0 + timedelta(minutes=5))
        assert [(r.kind, r.key) for r in t.replies] == [("safety", kind)], (word, t.replies)
        assert t.events == () and t.state.status == "active", word  # no consent, no menu
    # English and Spanish yes words work whatever the person's language
    for word in ("yes", "YES!", "ok", "sí", "Si", "是", "có", "oo", "wi", "oui", "sim", "да", "نعم", "ya"):
        t = turn(state, word, now=T0 + timedelta(minutes=29))
        assert [(r.kind, r.key) for r in t.replies] == [("safety", kind)], word


def test_after_the_window_yes_is_an_opt_in_keyword_again():
    state = after_safety("en", "crisis")
    t = turn(state, "YES", now=T0 + SAFETY_WINDOW + timedelta(seconds=1))
    assert [r.key for r in t.replies] == ["start_confirm", None]
    assert t.events == (ConsentChanged("opt_in", "yes", "sms_keyword"),)


def test_stop_right_after_a_safety_reply_opts_out():
    state = after_safety("es", "emergency")
    t = turn(state, "PARAR", now=T0 + timedelta(minutes=1))
    assert t.state.status == "opted_out" and [r.key for r in t.replies] == ["stop_confirm"]


def test_a_clinic_yes_right_after_a_safety_reply_confirms_nothing():
    pending = Facts(clinic_pending_locale="en", clinic_sees=False)
    state = after_safety("en", "emergency", facts=pending)
    t = turn(state, "YES", now=T0 + timedelta(minutes=2), facts=pending)
    assert [(r.kind, r.key) for r in t.replies] == [("safety", "emergency")]
    assert not any(isinstance(e, ClinicConfirmed) for e in t.events)
    later = turn(replace(state, last_seen=T0), "YES", now=T0 + SAFETY_WINDOW + timedelta(minutes=1), facts=pending)
    assert later.events == (ClinicConfirmed("yes"),)


@pytest.mark.parametrize("where", [
    dict(status="new"), dict(node="main"), dict(node="topic", topic="chemo"), dict(node="item", topic="chemo", item=1),
    dict(node="lang"), dict(node="trials", trials_zip="94110"),
])
def test_a_red_flag_wins_in_every_state(where):
    state = State(status=where.pop("status", "active"), last_seen=T0, **where)
    t = turn(state, "chest pains and cant breath")
    assert (t.replies[0].kind, t.replies[0].key) == ("safety", "emergency")
    assert isinstance(next(e for e in t.events if isinstance(e, RedFlag)), RedFlag)
    if state.status == "active":
        assert len(t.replies) == 1 and (t.state.node, t.state.topic) == (state.node, state.topic)  # position kept
    else:
        assert [r.key for r in t.replies[1:]] == ["welcome"]  # the help first, then the disclaimer


def test_a_red_flag_during_an_open_check_in_is_not_an_answer():
    facts = Facts(checkin_clinic="North", clinic_sees=True)
    t = turn(State(status="active", last_seen=T0), "3 i want to die", facts=facts)
    assert [(r.kind, r.key, dict(r.params)["seen_by"]) for r in t.replies] == [("safety", "crisis", "clinic")]
    assert not any(isinstance(e, CheckinAnswered) for e in t.events)


def test_an_opted_out_number_gets_no_reply_but_the_red_flag_is_an_event():
    t = turn(State(status="opted_out", last_seen=T0), "no puedo respirar")
    assert t.replies == () and [type(e) for e in t.events] == [RedFlag] and t.events[0].kind == "emergency"


@pytest.mark.parametrize("locale", LOCALES)
def test_safety_replies_ask_nothing_and_name_the_right_number(locale):
    catalog = load_catalog(tuple(LOCALES))
    for kind, number in (("emergency", "911"), ("crisis", "988"), ("urgent", "911")):
        for seen_by in ("clinic", "nobody"):
            text = safety_text(catalog, locale, kind, seen_by)
            assert not any(q in text for q in "?？؟¿"), (locale, kind, text)
            assert number in text and "911" in text
    # 988 takes texts in English and Spanish only
    crisis = safety_text(catalog, locale, "crisis", "nobody")
    assert (catalog.string(locale, "safety_crisis") in crisis) == (locale in ("en", "es"))
