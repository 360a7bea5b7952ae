"""What a key press, or silence, means on a call.

`decide(state, heard, tree)` is pure, like `converse` (service/engine/conversation.py): the same
arguments always give the same Decision. service/calls/flow.py reads the call into a CallState,
asks here, and only carries the Decision out (storage, wording, texts queued by
service/calls/handoff.py). Speech goes on to `converse` (Heard); a key that picks from a menu walks
it as the SMS message it stands for (Walk: "2", "MORE", "MENU").

The rules, in order (the first that applies decides). Keys are the first one typed.

1. A call not greeted yet (its first request), or input for a call that ended: Begin. Silence
   begins only a call not greeted yet.
2. Silence while typing a ZIP code: NoZip, and the prompt again; the second time in a row, NoZip
   with the explanation of trials, and the main menu. Silence after hearing a ZIP's trials: the
   main menu. Any other silence: a retry (rule 11).
3. # ends the call (Goodbye), wherever the caller is.
4. The ZIP dialog. Typing a ZIP code: what was typed is searched (SearchTrials; an unknown ZIP is
   asked for again by the caller of this module). After hearing a ZIP's trials: 9 texts the list
   (TextTrialList) and goes to the main menu, 1 asks for another ZIP (AskZip), 0 the main menu,
   any other key says the trials again (HearTrials).
5. * says again everything for where the caller is (Repeat), and forgets the retries.
6. The language menu: 9 turns the page when there are more languages than keys
   (LanguagePage, back to the first page after the last), a key naming a language on the page
   chooses it (ChooseLanguage, then the main menu), anything else is a retry.
7. Words said, no key: Heard (the engine's `converse` first: a red flag said aloud gets the safety
   reply). Other words on a safety reply say it again, as any key but 0 does (rule 8,
   `after_words`); elsewhere `understand` below turns them into the SMS messages they stand for.
8. On a safety reply: 0 leaves it for the main menu; any other key says it again (a "yes" is never
   an answer to it), and does not forget the retries.
9. Main menu, 7: the language menu, when more than one language is offered. Topic or part: 9
   sends this by text (TextMe), 8 on the clinical-trials topic asks for a ZIP code (AskZip) when
   the trials search is on.
10. A key that picks from the menu walks it as its SMS message (Walk): 0 is MENU, 6 is MORE, a
    digit the topic on the main menu's page or the part of the topic. Anything else is a retry.
11. A retry (a wrong key, or silence) counts up; past MAX_RETRIES the call ends (Goodbye).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from . import keywords as kw
from .conversation import ITEM, LANG_MENU, MAIN, TOPIC
from .menu import MenuTree

# The keypad, the same on every menu (docs/voice.md). Digits 1..page_size pick from a list.
KEY_NEXT = "6"  # main menu: more topics; topic or part: the next part
KEY_LANG = "7"  # main menu: choose another language
KEY_TRIALS = "8"  # clinical trials topic: search trials by ZIP code
KEY_TEXT = "9"  # topic or part: get this by text; after a ZIP's trials: text the list
KEY_MENU = "0"  # the main menu
KEY_REPEAT = "*"
KEY_END = "#"
KEY_ANOTHER_ZIP = "1"  # after a ZIP's trials: another ZIP code
LANGS_PER_PAGE = 8  # the language menu: 1..8, then 9 = more languages
KEY_MORE_LANGS = "9"
MAX_RETRIES = 2  # re-prompts after silence or a wrong key; the next one ends the call

# Where a call is: the engine's menu states (the same names as an SMS conversation's), then the
# places only a call has.
LANG = LANG_MENU
ENDED = "ended"
ZIP, ZIP_HEARD = "zip", "zip_heard"  # the trials search: typing a ZIP code; its trials heard


# --- what the caller did -----------------------------------------------------------------------

@dataclass(frozen=True)
class Gathered:
    """What a <Gather> heard: keys, or the words said when no key was pressed."""

    digits: str = ""
    speech: str = ""


@dataclass(frozen=True)
class Silence:
    """A <Gather> heard nothing."""


@dataclass(frozen=True)
class CallState:
    """Where the call is, and the facts the rules need (read by the caller; nothing is looked up)."""

    node: str
    page: int = 0
    topic: str | None = None
    retries: int = 0
    safety: bool = False  # a safety reply was said and not left yet
    new: bool = False  # this request started the call: it was never greeted
    trials_here: bool = False  # the trials search is on and the caller is on its topic
    languages: int = 1  # languages offered on calls


# --- what should happen --------------------------------------------------------------------------

@dataclass(frozen=True)
class Begin:
    """Greet the call (or take it back to its menu): the caller knows what it stored."""


@dataclass(frozen=True)
class Goodbye:
    """Say goodbye and hang up."""


@dataclass(frozen=True)
class Repeat:
    """Say again everything for where the caller is."""


@dataclass(frozen=True)
class Retry:
    """Say why (`reason`, a voice string: "voice_invalid", "voice_no_input"), then the choices."""

    reason: str


@dataclass(frozen=True)
class MainMenu:
    """The main menu (the Decision moved the call there)."""


@dataclass(frozen=True)
class LanguageMenu:
    """The language menu (the Decision moved the call there)."""


@dataclass(frozen=True)
class LanguagePage:
    page: int


@dataclass(frozen=True)
class ChooseLanguage:
    index: int  # into the languages offered, in their order


@dataclass(frozen=True)
class Heard:
    speech: str


@dataclass(frozen=True)
class TextMe:
    """Queue by text the wording of the topic or part the caller is on."""


@dataclass(frozen=True)
class AskZip:
    again: bool = False  # the second time: silence then explains trials and goes on


@dataclass(frozen=True)
class NoZip:
    """Nothing was typed for a ZIP code: say so; `explain`: and explain trials (the main menu)."""

    explain: bool = False


@dataclass(frozen=True)
class SearchTrials:
    digits: str  # as typed, a ZIP code or not


@dataclass(frozen=True)
class HearTrials:
    """Say the trials near the ZIP code again."""


@dataclass(frozen=True)
class TextTrialList:
    """Queue by text the trials list for the ZIP code (the Decision moved the call to the main menu)."""


@dataclass(frozen=True)
class Walk:
    message: str  # the SMS message the key stands for, for `converse`


Action = (Begin | Goodbye | Repeat | Retry | MainMenu | LanguageMenu | LanguagePage | ChooseLanguage | Heard | TextMe
          | AskZip | NoZip | SearchTrials | HearTrials | TextTrialList | Walk)


@dataclass(frozen=True)
class Decision:
    """What to do. The call first moves to `node` (afresh: first page, no topic or part) unless it
    is None, its retries become `retries`, a safety reply is left when `safety_over`; then the
    action is carried out. Heard, Walk and SearchTrials keep the retries: carrying them out
    decides (a menu reached forgets them; not understood is a `retry`)."""

    action: Action
    node: str | None = None
    retries: int = 0
    safety_over: bool = False


def decide(state: CallState, heard: Gathered | Silence, tree: MenuTree) -> Decision:
    """What `heard` means where the call is (the rules in the module's docstring)."""
    node, kept = state.node, state.retries
    if isinstance(heard, Silence):
        if state.new:
            return Decision(Begin())  # 1
        if node == ZIP:  # 2
            if kept + 1 < 2:
                return Decision(NoZip(), retries=kept + 1)
            return Decision(NoZip(explain=True), node=MAIN)
        if node == ZIP_HEARD:
            return Decision(MainMenu(), node=MAIN)
        return retry(state, "voice_no_input")
    if state.new or node == ENDED:
        return Decision(Begin())  # 1
    digits = heard.digits.strip()
    key = digits[:1]
    if key == KEY_END:
        return Decision(Goodbye(), retries=kept)  # 3
    if node == ZIP:  # 4
        return Decision(SearchTrials(digits), retries=kept)
    if node == ZIP_HEARD:
        if key == KEY_TEXT:
            return Decision(TextTrialList(), node=MAIN)
        if key == KEY_ANOTHER_ZIP:
            return Decision(AskZip(), node=ZIP)
        if key == KEY_MENU:
            return Decision(MainMenu(), node=MAIN)
        return Decision(HearTrials(), retries=kept)
    if key == KEY_REPEAT:
        return Decision(Repeat())  # 5
    if node == LANG:  # 6
        return _language_key(state, key)
    if not key and heard.speech.strip():
        return Decision(Heard(heard.speech), retries=kept)  # 7
    if state.safety:  # 8
        if key == KEY_MENU:
            return Decision(MainMenu(), node=MAIN, safety_over=True)
        return Decision(Repeat(), retries=kept)
    if node == MAIN and key == KEY_LANG and state.languages > 1:  # 9
        return Decision(LanguageMenu(), node=LANG)
    if node in (TOPIC, ITEM) and key == KEY_TEXT:
        return Decision(TextMe())
    if node in (TOPIC, ITEM) and key == KEY_TRIALS and state.trials_here:
        return Decision(AskZip(), node=ZIP)
    message = key_message(state, key, tree)  # 10
    return Decision(Walk(message), retries=kept) if message else retry(state, "voice_invalid")


def after_words(state: CallState) -> Decision | None:
    """Words said with no red flag in them (`converse` read them first): on a safety reply they
    say it again and keep the retries (a "yes" is never an answer to it: rule 8); None elsewhere,
    where `understand` reads them for a menu choice."""
    return Decision(Repeat(), retries=state.retries) if state.safety else None


def retry(state: CallState, reason: str) -> Decision:
    """A wrong key or silence (rule 11): `reason` and the choices again, or past MAX_RETRIES goodbye."""
    retries = state.retries + 1
    return Decision(Goodbye() if retries > MAX_RETRIES else Retry(reason), retries=retries)


def key_message(state: CallState, key: str, tree: MenuTree) -> str | None:
    """The SMS message a key (or a number said) stands for where the call is; None: not a choice."""
    if key == KEY_MENU:
        return "MENU"
    if key == KEY_NEXT:
        return "MORE"
    if not key.isdigit():
        return None
    number = int(key)
    if state.node == MAIN:
        size = tree.page_size
        if 1 <= number <= size:
            absolute = state.page * size + number  # the engine numbers topics across pages
            return str(absolute) if absolute <= len(tree.topics) else None
        return None
    return str(number) if 1 <= number <= len(tree.items(state.topic)) else None


def _language_key(state: CallState, key: str) -> Decision:
    count = state.languages
    first, shown, more = _language_slice(count, state.page)
    if key == KEY_MORE_LANGS and more:
        pages = -(-count // LANGS_PER_PAGE)
        return Decision(LanguagePage((state.page + 1) % pages))
    if not key.isdigit() or not 1 <= int(key) <= shown:
        return retry(state, "voice_invalid")
    return Decision(ChooseLanguage(first + int(key) - 1), node=MAIN)


def _language_slice(count: int, page: int) -> tuple[int, int, bool]:
    """The first index and number of languages on a page of the language menu, and whether more follow."""
    if count <= 9:
        return 0, count, False
    first = page * LANGS_PER_PAGE
    return first, max(0, min(LANGS_PER_PAGE, count - first)), first + LANGS_PER_PAGE < count or page > 0


def language_page(locales: Sequence[str], page: int) -> tuple[list[str], bool]:
    """The languages on one page of the language menu, and whether more follow.

    Up to 9 languages fit keys 1-9; beyond that, 8 per page and 9 = more languages.
    """
    first, shown, more = _language_slice(len(locales), page)
    return list(locales[first:first + shown]), more


# --- understanding speech ----------------------------------------------------------------------

def understand(state: CallState, speech: str, locale: str, tree: MenuTree, lexicon: kw.Lexicon, *,
               topic_labels: Sequence[tuple[int, str]], item_labels: Sequence[tuple[int, str]] = ()) -> list[str]:
    """Spoken words (no red flag in them: `converse` saw them first) -> the SMS messages they stand
    for: a menu word ("main menu", "go back": any one word will do, as people say where they would
    text MENU), a number said, or a part of this topic or a topic by its name (the labels the
    caller heard, in their language and in English). [] when nothing is understood."""
    kinds = {lexicon.classify(word, locale) for word in [speech, *speech.split()]}
    kind = next((k for k in (kw.MENU, kw.BACK, kw.MORE) if k in kinds), None)
    if kind in (kw.MENU, kw.BACK):
        return ["MENU"]
    if kind == kw.MORE:
        return ["MORE"]
    number = kw.choice_number(speech)
    if number is not None and number <= 9:
        message = key_message(state, str(number), tree)
        return [message] if message else []
    if state.node in (TOPIC, ITEM):
        part = best_match(speech, item_labels)
        if part is not None:
            return [str(part)]
    topic = best_match(speech, topic_labels)
    if topic is None:
        return []
    return [str(topic)] if state.node == MAIN else ["MENU", str(topic)]


_SPLIT = re.compile(r"[\s\-/,.:;]+")


def _words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(kw.fold_accents(kw.normalize(text))) if w]


def _same_word(a: str, b: str) -> bool:
    # "chemo" ~ "chemotherapy", "hormones" ~ "hormone": a shared start of 4+ letters.
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def best_match(speech: str, labels: Sequence[tuple[int, str]]) -> int | None:
    """The number whose label best matches what was said; None when nothing or a tie matches.

    A label said whole (or inside the speech, for scripts without spaces) scores 1; otherwise
    the share of its words that were said. At least half of a label must be heard.
    """
    said_words = _words(speech)
    said = " ".join(said_words)
    scores: dict[int, float] = {}
    for number, label in labels:
        words = [w for w in _words(label) if len(w) >= 3 or not w.isascii()]
        phrase = " ".join(_words(label))
        if not phrase:
            continue
        if phrase in said or (not said.isascii() and said in phrase and len(said) >= 2):
            score = 1.0
        elif words:
            score = sum(1 for w in words if any(_same_word(w, s) for s in said_words)) / len(words)
        else:
            score = 0.0
        scores[number] = max(scores.get(number, 0.0), score)
    if not scores:
        return None
    top = max(scores.values())
    winners = [n for n, s in scores.items() if s == top]
    return winners[0] if top >= 0.5 and len(winners) == 1 else None

