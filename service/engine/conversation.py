"""One turn of an SMS (or voice) conversation.

`converse(state, text, now, tree, lexicon, facts)` is pure: the same arguments always give the
same Turn. The rules, in order (the first that applies decides):

1. Opted out: only an opt-in keyword gets a reply (the opt-in confirmation). A red flag is still
   noted (a clinic that enrolled the person gets an urgent task) but nothing is sent: carriers
   block texts to a number that opted out.
2. Opt-out (STOP in any language) always wins: compliance.
3. Within SAFETY_WINDOW of a safety reply, a "yes" in any language (or an opt-in keyword) is
   never consent, a clinic confirmation or a menu choice: it gets the same safety reply again.
4. A red flag gets the safety reply for its class (emergency, crisis, urgent) at once, in any
   menu state and as a first message, before any welcome.
5. A clinic's pending confirmation takes YES; an open clinic check-in takes 1, 2 or 3. A YES also
   releases texts a call held for the number (Facts.texts_held).
6. A first message records first-contact consent and gets the welcome (and the language it was
   written in, when it is a greeting or keyword of one, or a question about a term or topic in it:
   "que es HER2").
7. HELP, an opt-in keyword, LANG and a language's name, TRIALS.
8. A first message, or one after a long silence, that names a term or topic gets the term's
   one-text definition or the topic's menu after the welcome ("what is her2?", "TNBC", "chemo");
   any other gets the main menu (a digit sent hours later is not guessed at).
9. Menus and paging; then a term or topic word; then the short hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from . import keywords as kw
from . import trials as trials_args
from .events import (CheckinAnswered, ClinicConfirmed, ConsentChanged, HeldTextsConfirmed, LanguageChanged, RedFlag,
                     TopicViewed)
from .menu import MenuTree

NEW = "new"
ACTIVE = "active"
OPTED_OUT = "opted_out"

MAIN = "main"
TOPIC = "topic"
ITEM = "item"
LANG_MENU = "lang"
TRIALS = "trials"  # after a TRIALS reply: MORE pages the trials list

DEFAULT_EXPIRY = timedelta(minutes=30)
# After a safety reply, a "yes" for this long is an answer to it, never consent (rule 3).
SAFETY_WINDOW = timedelta(minutes=30)
# A clinic check-in's answers and the reply each gets (messages/series.toml).
CHECKIN_REPLIES = {1: "series.checkin_fine", 2: "series.checkin_side", 3: "series.checkin_call"}


@dataclass(frozen=True)
class State:
    """Everything the engine knows about one person. Stored by the caller between turns."""

    locale: str = "en"
    status: str = NEW
    node: str = MAIN
    page: int = 0
    topic: str | None = None
    item: int | None = None  # index into the topic's items
    last_seen: datetime | None = None
    # The last TRIALS search, so TRIALS MORE can page on (stored by the caller, see service/trials/line.py).
    trials_zip: str | None = None
    trials_subtype: str | None = None
    trials_page: int = 0
    # The class of the last safety reply and when it went out (rule 3).
    safety: str | None = None
    safety_at: datetime | None = None


@dataclass(frozen=True)
class Facts:
    """What the caller read from storage that the rules need; the engine reads nothing itself."""

    clinic_pending_locale: str | None = None  # a clinic's confirmation was sent and awaits YES
    checkin_clinic: str | None = None  # a clinic's check-in went out and awaits 1-3 (its name)
    clinic_sees: bool = False  # a clinic that confirmed this person gets a task for a red flag
    texts_held: bool = False  # a call asked for texts to this number, held until it says YES


NO_FACTS = Facts()


@dataclass(frozen=True)
class Reply:
    """Something to say. Wording is chosen by the renderer from the catalog, per channel."""

    kind: str  # "text" | "safety" | "clinic" | "main_menu" | "topic_menu" | "item" | "lang_menu" | "trials"
    # "text": the string name in messages/strings.toml; "safety": the red-flag class;
    # "clinic": the catalog key of a clinic text (messages/series.toml)
    key: str | None = None
    topic: str | None = None
    item: int | None = None
    page: int = 0
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Turn:
    state: State
    replies: tuple[Reply, ...] = ()
    events: tuple = field(default=())
    # False when the message meant nothing where the person was (the reply is only a hint): a
    # voice caller then hears "not a valid choice" and the call does not move.
    understood: bool = True


def text(key: str, **params: str) -> Reply:
    return Reply("text", key=key, params=tuple(sorted(params.items())))


def main_menu(page: int = 0) -> Reply:
    return Reply("main_menu", page=page)


def safety(kind: str, clinic_sees: bool) -> Reply:
    """The safety reply for a red-flag class; it says whether a clinic will see the message."""
    return Reply("safety", key=kind, params=(("seen_by", "clinic" if clinic_sees else "nobody"),))


def converse(
    state: State,
    message: str,
    now: datetime,
    tree: MenuTree,
    lexicon: kw.Lexicon,
    *,
    expiry: timedelta = DEFAULT_EXPIRY,
    facts: Facts = NO_FACTS,
) -> Turn:
    """Answer one inbound message (the rules in order: see the module docstring)."""
    seen = replace(state, last_seen=now)
    detected = None
    if state.status == NEW:
        # A first message that is a greeting or keyword in one language starts in that language.
        detected = (lexicon.keyword_locale(message) or lexicon.language_named(message)
                    or lexicon.question_locale(message))
        if detected and detected != state.locale:
            seen = replace(seen, locale=detected)
        else:
            detected = None
    kind = lexicon.classify(message, seen.locale)
    flag = lexicon.red_flag(message)

    if state.status == OPTED_OUT:  # rule 1
        if kind == kw.OPT_IN:
            back = replace(seen, status=ACTIVE, node=MAIN, page=0, topic=None, item=None)
            return Turn(back, (text("start_confirm"), main_menu()),
                        (ConsentChanged("opt_in", kw.normalize(message), "sms_keyword"),))
        return Turn(seen, (), (RedFlag.of(flag),) if flag else ())

    if kind == kw.OPT_OUT:  # rule 2
        out = replace(seen, status=OPTED_OUT, node=MAIN, page=0, topic=None, item=None)
        return Turn(out, (text("stop_confirm"),),
                    (ConsentChanged("opt_out", kw.normalize(message), "sms_keyword"),))

    if (flag is None and state.safety and state.safety_at is not None and state.status != NEW
            and now - state.safety_at <= SAFETY_WINDOW and lexicon.affirms(message)):  # rule 3
        return Turn(seen, (safety(state.safety, facts.clinic_sees),))

    events: list = []
    replies: list[Reply] = []
    if flag is not None:  # rule 4
        events.append(RedFlag.of(flag))
        replies.append(safety(flag.kind, facts.clinic_sees))
        seen = replace(seen, safety=flag.kind, safety_at=now)

    if flag is None and state.status != OPTED_OUT:  # rule 5
        if facts.texts_held and kind == kw.OPT_IN:
            # The number is the caller's: what the call asked for goes out (the rest of the turn
            # is as for any YES: the welcome for a first text, a clinic's confirmation).
            events.append(HeldTextsConfirmed())
        if facts.clinic_pending_locale and kw.OPT_IN in (kind, lexicon.classify(message, facts.clinic_pending_locale)):
            confirmed = replace(seen, status=ACTIVE, locale=facts.clinic_pending_locale,
                                node=MAIN, page=0, topic=None, item=None)
            return Turn(confirmed, (Reply("clinic", key="series.welcome"),),
                        (*events, ClinicConfirmed(kw.normalize(message)[:80])))
        number = kw.choice_number(message)
        if facts.checkin_clinic and number in CHECKIN_REPLIES:
            reply = Reply("clinic", key=CHECKIN_REPLIES[number], params=(("clinic", facts.checkin_clinic),))
            return Turn(seen, (reply,), (CheckinAnswered(number),))

    if state.status == NEW:  # rule 6
        # Texting the line is the person's request for replies: record it as consent.
        events.append(ConsentChanged("opt_in", kw.normalize(message)[:40], "sms_first_contact"))
        seen = replace(seen, status=ACTIVE)
        if kind != kw.HELP:  # HELP already carries the not-medical-advice line
            replies.append(text("welcome"))
        if detected:
            events.append(LanguageChanged(detected))
            replies.append(text("lang_set"))  # says which language, and how to change it

    if flag is not None:
        return Turn(seen, tuple(replies), tuple(events))

    if kind == kw.HELP:  # rule 7
        return Turn(seen, (*replies, text("help")), tuple(events))

    if kind == kw.OPT_IN and state.status != NEW:
        events.append(ConsentChanged("opt_in", kw.normalize(message), "sms_keyword"))
        fresh = replace(seen, node=MAIN, page=0, topic=None, item=None)
        return Turn(fresh, (text("start_confirm"), main_menu()), tuple(events))

    if kind == kw.LANG:
        return Turn(replace(seen, node=LANG_MENU), (*replies, Reply("lang_menu")), tuple(events))

    chosen = lexicon.language_named(message) if not detected else None
    if chosen is None and state.node == LANG_MENU:
        number = kw.choice_number(message)
        codes = list(lexicon.names)
        if number is not None and 1 <= number <= len(codes):
            chosen = codes[number - 1]
    if chosen:
        events.append(LanguageChanged(chosen))
        switched = replace(seen, locale=chosen, node=MAIN, page=0, topic=None, item=None)
        # The welcome (if any) is rendered in the new language: it comes after the switch.
        return Turn(switched, (*replies, text("lang_set"), main_menu()), tuple(events))

    args = lexicon.trials_args(message, seen.locale)
    if args is not None:
        return _trials(seen, args, lexicon, replies, events)

    expired = state.last_seen is not None and now - state.last_seen > expiry
    if state.status == NEW or kind == kw.MENU or expired:  # rule 8
        # A returning person starts at the menu: a digit sent hours later is not guessed at. A
        # term or topic word is not a guess: it is answered, after the welcome for a first text.
        fresh = replace(seen, node=MAIN, page=0, topic=None, item=None)
        asked = _ask(fresh, message, tree, lexicon.ask, tuple(events)) if kind != kw.MENU else None
        if asked is not None:
            return replace(asked, replies=(*replies, *asked.replies))
        return Turn(fresh, (*replies, main_menu()), tuple(events))

    return _navigate(seen, message, kind, tree, events, lexicon.ask)  # rule 9


def _navigate(state: State, message: str, kind: str | None, tree: MenuTree, events: list,
              ask: kw.AskWords | None = None) -> Turn:
    evs = tuple(events)
    if kind == kw.BACK:
        if state.node == ITEM:
            return _show_topic(state, state.topic, evs)
        page = tree.page_of(state.topic) if state.node == TOPIC and state.topic else 0
        return Turn(replace(state, node=MAIN, page=page, topic=None, item=None), (main_menu(page),), evs)

    if kind == kw.MORE:
        if state.node == TRIALS and state.trials_zip:
            return _trials_page(state, state.trials_page + 1, [], events)
        if state.node == ITEM and state.topic is not None and state.item is not None:
            nxt = state.item + 1
            if nxt < len(tree.items(state.topic)):
                return _show_item(state, state.topic, nxt, evs)
            return _show_topic(state, state.topic, evs)
        if state.node == TOPIC and state.topic is not None:
            return _show_item(state, state.topic, 0, evs)
        page = (state.page + 1) % tree.page_count if state.node == MAIN else 0
        return Turn(replace(state, node=MAIN, page=page, topic=None, item=None), (main_menu(page),), evs)

    number = kw.choice_number(message)
    if number is not None:
        if state.node in (TOPIC, ITEM) and state.topic is not None:
            if 1 <= number <= len(tree.items(state.topic)):
                return _show_item(state, state.topic, number - 1, evs)
        elif state.node in (MAIN, TRIALS):
            topic = tree.topic_at(number)
            if topic is not None:
                return _show_topic(state, topic, evs)

    asked = _ask(state, message, tree, ask, evs)
    if asked is not None:
        return asked
    return Turn(state, (text("hint"),), evs, understood=False)


def _ask(state: State, message: str, tree: MenuTree, ask: kw.AskWords | None, events: tuple) -> Turn | None:
    """A term's one-text definition ("what is her2?"), or the topic a word names ("chemo")."""
    found = ask.find(message) if ask is not None else None
    if found is None:
        return None
    kind, name = found
    if kind == "term":
        return Turn(state, (text(name),), events)
    return _show_topic(state, name, events) if name in tree.topic_ids() else None


def _show_topic(state: State, topic: str, events: tuple) -> Turn:
    new = replace(state, node=TOPIC, topic=topic, item=None)
    return Turn(new, (Reply("topic_menu", topic=topic),), (*events, TopicViewed(topic, None)))


def _show_item(state: State, topic: str, index: int, events: tuple) -> Turn:
    new = replace(state, node=ITEM, topic=topic, item=index)
    return Turn(new, (Reply("item", topic=topic, item=index),), (*events, TopicViewed(topic, str(index))))


def _trials(state: State, args: tuple[str, ...], lexicon: kw.Lexicon, replies: list, events: list) -> Turn:
    """TRIALS <ZIP> [subtype] starts a search; TRIALS MORE pages on; TRIALS alone explains trials.

    The reply only names the search: the caller looks the sites up (the engine has no database).
    """
    if args and lexicon.classify(" ".join(args), state.locale) == kw.MORE:
        if state.trials_zip:
            return _trials_page(state, state.trials_page + 1, replies, events)
        command = trials_args.TrialsCommand()
    else:
        command = trials_args.parse(args)
    if command.zip is None:  # the explanation; where the person was in the menu stays as it was
        new = state
        reply = Reply("trials", params=(("page", "0"), ("subtype", command.subtype or ""), ("zip", "")))
        return Turn(new, (*replies, reply), (*events, TopicViewed("trials", None)))
    new = replace(state, trials_zip=command.zip, trials_subtype=command.subtype, trials_page=0)
    return _trials_page(new, 0, replies, events)


def _trials_page(state: State, page: int, replies: list, events) -> Turn:
    new = replace(state, node=TRIALS, trials_page=page)
    reply = Reply("trials", params=(("page", str(page)), ("subtype", state.trials_subtype or ""),
                                    ("zip", state.trials_zip or "")))
    return Turn(new, (*replies, reply), (*tuple(events), TopicViewed("trials", "search")))
