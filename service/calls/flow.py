"""One call to the voice line: keypad or speech in, what to say out, state kept per CallSid.

What a key press, words or silence mean is the engine's to decide (service/engine/call.py, a pure
table like the SMS rules): the call's place and facts go in, a Decision comes out (the language
menu and its pages, repeat (*), goodbye (#), the safety reply's keys, "press 9 to get this by
text", retries, the trials ZIP dialog). This module only carries the Decision out: storage, the
spoken wording, texts queued by service/calls/handoff.py (for topics and trial lists alike). Keys
that pick from the menus become the messages an SMS would carry ("2", "MORE", "MENU") and walk
the same pure engine (service.engine.converse); so do words said, after the red-flag check.

The voice webhook (service/channels/voice.py) reads each request into an event (Started
and TrialsLink below; Gathered and Silence, the engine's); service/calls/steps.py takes it in the request's one
transaction, and VoiceLine.take() answers it with an Outcome. Nothing here knows about HTTP or TwiML.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..content.voice import MAX_TEXTS_PER_CALL, VOICES, RecordedPrompts, Utterance, VoiceRenderer
from ..clinics import inbound as clinic_inbound
from ..conversation import Line
from ..engine import Facts, RedFlag, State, TopicViewed, converse
from ..engine import call as keys
from ..engine.call import ENDED, ITEM, LANG, MAIN, TOPIC, ZIP, ZIP_HEARD, CallState, Decision, Gathered, Silence
from ..models import CallSession, Subscriber
from ..outbound import TRIALS_HANDOFF, VOICE_HANDOFF
from ..reviews import take_notice
from ..subscribers import lock_subscriber
from ..trials.geo import zip_place
from ..trials.search import rounded_miles
from .handoff import UNVERIFIED_NOTE, clinic_patient, hand_off
from .log import record_step

log = logging.getLogger(__name__)

# Where a call is (LANG, MAIN, TOPIC, ITEM, ZIP, ZIP_HEARD, ENDED) and what its keys mean:
# service/engine/call.py.
ZIP_DIGITS, ZIP_TIMEOUT = 5, 10  # <Gather numDigits timeout> while typing a ZIP code
OPTIONS_TIMEOUT = 8  # after the trials: 9, 1 or 0
TRIALS_TOPIC = "trials"


@dataclass(frozen=True)
class Noted:
    """What a step puts in the message log (service/calls/log.py)."""

    topic: str | None = None  # a topic's list or one of its parts was heard
    red_flag: RedFlag | None = None  # a red flag was said
    said: str | None = None  # what the caller did, when not one key or words ("digits 94110")


@dataclass(frozen=True)
class Outcome:
    """What to do with the caller now: say lines, then wait for keys or hang up."""

    lines: tuple[Utterance, ...]
    then: str = "gather"  # gather | hangup
    speech: str | None = None  # <Gather language> when speech input is on
    hints: tuple[str, ...] = ()
    noted: Noted | None = None
    before: tuple[Utterance, ...] = ()  # said before the <Gather> (a key does not cut them short)
    digits: int = 1  # <Gather numDigits>
    timeout: int | None = None  # <Gather timeout>; None: the line's usual


# --- what a request of the call brings ---------------------------------------------------------

@dataclass(frozen=True)
class Started:
    """The call starts (or comes back to the main menu from TwiML cached earlier)."""


@dataclass(frozen=True)
class TrialsLink:
    """A request to the trials search's former URLs (see VoiceLine.trials_link)."""

    locale: str | None
    zip_code: str | None = None
    again: bool = False
    digits: str | None = None


CallEvent = Started | Gathered | Silence | TrialsLink


class VoiceLine:
    """What calls need, built once per app (the SMS Line plus voice wording and recordings)."""

    def __init__(self, line: Line, renderer: VoiceRenderer, prompts: RecordedPrompts, trials_search: bool):
        self.line = line
        self.renderer = renderer
        self.prompts = prompts
        self.trials_search = trials_search
        self.voiced = offered_locales(renderer, prompts, line.renderer.enabled_locales)

    @property
    def offered(self) -> list[str]:
        """Languages offered on calls now: voiced, and not held back for review (service/reviews.py)."""
        reviews = self.line.reviews
        return self.voiced if reviews is None else reviews.offered_locales(self.voiced)

    # --- webhook entry points ---------------------------------------------------------------

    # Each takes the call's row as service/call_sessions.py lock_call() returned it (locked first,
    # by service/calls/steps.py, to answer a retried request from it), and whether this request
    # created it.

    def take(self, sess: Session, call: CallSession, created: bool, event: CallEvent, now: datetime,
             step: int) -> Outcome:
        """The answer to one request of the call: `event` is what it brought; `step` its number."""
        if isinstance(event, Gathered):
            return self.gathered(sess, call, created, event.digits, event.speech, now, step)
        if isinstance(event, Silence):
            return self.silence(sess, call, created, now)
        if isinstance(event, TrialsLink):
            return self.trials_link(sess, call, event.locale, event.zip_code, event.again, event.digits, now, step)
        return self.start(sess, call, created)

    def start(self, sess: Session, call: CallSession, created: bool) -> Outcome:
        return self._begin(sess, call, created)

    def _begin(self, sess: Session, call: CallSession, created: bool) -> Outcome:
        if not created and call.locale in self.offered and call.node != LANG:
            # Back from another part of the call (the trials ZIP search): no second welcome.
            self._move(call, MAIN)
            return self._gather(call, self._node_lines(call))
        if created:
            locale = self._stored_locale(sess, call.phone)
            notes = self._held_back_note(sess, call, call.last_seen_at) if locale is None else []
            if notes:
                locale = "en"  # their language waits for review: English, told once in theirs
            if locale is None and len(self.offered) == 1:
                locale = self.offered[0]
            if locale is not None:
                call.locale = locale
                self._move(call, MAIN)
                return self._gather(call, [*notes, *self.renderer.welcome(locale), *self._node_lines(call)])
        self._move(call, LANG)
        return self._gather(call, self._node_lines(call))

    def gathered(self, sess: Session, call: CallSession, created: bool, digits: str, speech: str,
                 now: datetime, step: int = 0) -> Outcome:
        return self._input(sess, call, created, Gathered(digits, speech), now, step)

    def silence(self, sess: Session, call: CallSession, created: bool, now: datetime) -> Outcome:
        return self._input(sess, call, created, Silence(), now, 0)

    def trials_link(self, sess: Session, call: CallSession, locale: str | None, zip_code: str | None,
                    again: bool, digits: str | None, now: datetime, step: int) -> Outcome:
        """A request to the trials search's former URLs (/twilio/voice/trials/zip and /result, which
        Twilio may still have in TwiML it fetched before the search joined the call): the call is
        put where that URL was, and goes on as one call. `digits` None: the ZIP prompt (`again`:
        its second time); else what was typed at the ZIP prompt, or after hearing `zip_code`'s
        trials."""
        if locale in self.offered:
            call.locale = locale
        elif call.locale not in self.offered:
            call.locale = self._stored_locale(sess, call.phone) or "en"
        call.last_seen_at = now
        if digits is None:
            return self._ask_zip(call, again=again)
        place = zip_place(zip_code) if zip_code is not None else None
        if place is not None:
            self._move(call, ZIP_HEARD)
            call.trials_zip = place.zip
        else:
            self._move(call, ZIP)
        return self._input(sess, call, False, Gathered(digits=digits), now, step)

    def _input(self, sess: Session, call: CallSession, created: bool, heard: Gathered | Silence, now: datetime,
               step: int) -> Outcome:
        """Ask the engine what the keys, words or silence mean (service/engine/call.py), and do it."""
        decision = keys.decide(self._state(call, created), heard, self.line.tree)
        if isinstance(decision.action, keys.Begin):
            return self._begin(sess, call, created)  # input for a call we never greeted
        call.last_seen_at = now
        outcome = self._carry_out(sess, call, decision, now)
        if outcome.noted is not None:
            # Only what the caller pressed or said is logged: the key, or the words when no key.
            digits, speech = (heard.digits.strip(), heard.speech) if isinstance(heard, Gathered) else ("", "")
            key = digits[:1]
            said = outcome.noted.said or (f"digit {key}" if key else speech.strip())
            record_step(sess, call_sid=call.call_sid, step=step, phone=call.phone, locale=call.locale or "en",
                        said=said, now=now, topic=outcome.noted.topic, red_flag=outcome.noted.red_flag,
                        answer=(line.text for line in (*outcome.before, *outcome.lines)),
                        note="" if call.caller_verified else UNVERIFIED_NOTE)
        return outcome

    def _state(self, call: CallSession, created: bool = False) -> CallState:
        """What the engine's call rules need to know of the call."""
        return CallState(node=call.node, page=call.page or 0, topic=call.topic, retries=call.retries or 0,
                         safety=bool(call.safety), new=created, trials_here=self._trials_here(call),
                         languages=len(self.offered))

    def _carry_out(self, sess: Session, call: CallSession, decision: Decision, now: datetime) -> Outcome:
        """Do what the engine decided: move, count retries, then the action (one handler per kind)."""
        if decision.node is not None:
            self._move(call, decision.node)
        call.retries = decision.retries
        if decision.safety_over:
            call.safety = None
        return _ACTIONS[type(decision.action)](self, sess, call, decision.action, now)

    # --- carrying out the engine's decisions (the handlers of _ACTIONS) ----------------------------

    def _on_goodbye(self, sess: Session, call: CallSession, action: keys.Goodbye, now: datetime) -> Outcome:
        return self._goodbye(call)

    def _on_here(self, sess: Session, call: CallSession, action: keys.Action, now: datetime) -> Outcome:
        """Repeat, or arriving at a menu: everything for where the caller is."""
        return self._gather(call, self._node_lines(call))

    def _on_retry(self, sess: Session, call: CallSession, action: keys.Retry, now: datetime) -> Outcome:
        locale = call.locale if call.node != LANG else "en"
        return self._gather(call, [self.renderer.line(locale, action.reason), *self._prompt_lines(call)])

    def _on_language_page(self, sess: Session, call: CallSession, action: keys.LanguagePage,
                          now: datetime) -> Outcome:
        call.page = action.page
        return self._gather(call, self._node_lines(call))

    def _on_choose_language(self, sess: Session, call: CallSession, action: keys.ChooseLanguage,
                            now: datetime) -> Outcome:
        call.locale = self.offered[action.index]
        if call.phone:
            # The caller's choice is their stored language from now on, for calls and texts; but
            # not a clinic's patient's (a caller ID can be spoofed; the clinic set it with them).
            sub = lock_subscriber(sess, call.phone)
            if not clinic_patient(sess, sub.id):
                sub.locale = call.locale
        return self._gather(call, [*self.renderer.welcome(call.locale), *self._node_lines(call)])

    def _on_heard(self, sess: Session, call: CallSession, action: keys.Heard, now: datetime) -> Outcome:
        return self._heard(sess, call, action.speech, now)

    def _on_text_me(self, sess: Session, call: CallSession, action: keys.TextMe, now: datetime) -> Outcome:
        return self._gather(call, [*self._text_me(sess, call, now), *self._prompt_lines(call)])

    def _on_ask_zip(self, sess: Session, call: CallSession, action: keys.AskZip, now: datetime) -> Outcome:
        return self._ask_zip(call, again=action.again)

    def _on_no_zip(self, sess: Session, call: CallSession, action: keys.NoZip, now: datetime) -> Outcome:
        nothing = self._trials_line(call, "trials_voice_no_input")
        if not action.explain:
            return self._gather(call, self._prompt_lines(call), before=[nothing])
        explain = self._trials_line(call, "trials_voice_explain")
        return self._gather(call, self._node_lines(call), before=[nothing, explain])

    def _on_search_trials(self, sess: Session, call: CallSession, action: keys.SearchTrials,
                          now: datetime) -> Outcome:
        # A ZIP search is the caller asking about trials: logged like TRIALS <zip> by text, with
        # the digits typed, even a ZIP we do not know.
        digits = action.digits
        noted = Noted(topic=TRIALS_TOPIC, said=f"digits {digits[:10]}") if digits else None
        place = zip_place(digits)
        if place is None:
            outcome = self._ask_zip(call, again=True)
            return replace(outcome, before=(self._trials_line(call, "trials_voice_unknown_zip"),), noted=noted)
        self._move(call, ZIP_HEARD)
        call.trials_zip = place.zip
        return replace(self._zip_heard(sess, call, now), noted=noted)

    def _on_hear_trials(self, sess: Session, call: CallSession, action: keys.HearTrials, now: datetime) -> Outcome:
        return self._zip_heard(sess, call, now)

    def _on_text_trial_list(self, sess: Session, call: CallSession, action: keys.TextTrialList,
                            now: datetime) -> Outcome:
        zip_code, locale = call.trials_zip, call.locale
        said = hand_off(sess, self.line, call, what=zip_code, source=TRIALS_HANDOFF, topic=TRIALS_TOPIC,
                        locale=locale, now=now,
                        texts=lambda: self.line.trials.search_texts(sess, locale, zip_code, now))
        return self._gather(call, self._node_lines(call),
                            before=[self.renderer.line(locale, said, count=MAX_TEXTS_PER_CALL)])

    def _on_walk(self, sess: Session, call: CallSession, action: keys.Walk, now: datetime) -> Outcome:
        return self._walk(sess, call, [action.message], now)

    def apology(self, locale: str | None) -> Outcome:
        speakable = locale in VOICES or (locale in self.offered)
        return Outcome((self.renderer.line(locale if speakable else "en", "voice_apology"),), then="hangup")

    # --- the menus ----------------------------------------------------------------------------

    def _walk(self, sess: Session, call: CallSession, messages: list[str], now: datetime) -> Outcome:
        """Run the engine over SMS-style messages; anything it does not take is a wrong key.

        A topic the engine says was viewed is noted for the message log, as a text would be.
        """
        if not messages:
            return self._retry(sess, call, "voice_invalid", now)
        state, viewed = state_of(call), None
        for message in messages:
            turn = converse(state, message, now, self.line.tree, self.line.lexicon, expiry=self.line.expiry)
            if not turn.understood:
                return self._retry(sess, call, "voice_invalid", now)
            state = turn.state
            viewed = next((e.topic for e in turn.events if isinstance(e, TopicViewed)), viewed)
        call.node, call.page, call.topic, call.item = state.node, state.page, state.topic, state.item
        call.retries = 0
        outcome = self._gather(call, self._node_lines(call))
        return replace(outcome, noted=Noted(topic=viewed)) if viewed else outcome

    def _heard(self, sess: Session, call: CallSession, speech: str, now: datetime) -> Outcome:
        """Speech goes to the engine first, as a text would: a red flag said aloud gets the
        safety reply of its class, and then only the offer to hear it again (no menu)."""
        sees = self._clinic_sees(sess, call)
        turn = converse(state_of(call), speech, now, self.line.tree, self.line.lexicon, expiry=self.line.expiry,
                        facts=Facts(clinic_sees=sees))
        flag = next((e for e in turn.events if isinstance(e, RedFlag)), None)
        safety = next((r for r in turn.replies if r.kind == "safety"), None)
        if flag is not None and safety is not None:
            call.retries = 0
            call.safety = f"{safety.key}:{dict(safety.params)['seen_by']}"
            return replace(self._gather(call, self._node_lines(call)), noted=Noted(red_flag=flag))
        again = keys.after_words(self._state(call))
        if again is not None:
            return self._carry_out(sess, call, again, now)
        return self._walk(sess, call, self._understand(call, speech), now)

    def _clinic_sees(self, sess: Session, call: CallSession) -> bool:
        if not call.phone:
            return False
        row = sess.execute(_STORED_ROW, {"phone": call.phone}).first()
        return row is not None and clinic_inbound.clinic_sees(sess, row.id, row.status)

    def _understand(self, call: CallSession, speech: str) -> list[str]:
        """Spoken words -> engine messages (engine/call.py `understand`), with this call's labels."""
        items = self._item_labels(call.locale, call.topic) if call.node in (TOPIC, ITEM) else []
        return keys.understand(self._state(call), speech, call.locale, self.line.tree, self.line.lexicon,
                               topic_labels=self._topic_labels(call.locale), item_labels=items)

    def _retry(self, sess: Session, call: CallSession, reason: str, now: datetime) -> Outcome:
        """What the menus did not take: the engine counts it (a retry, or goodbye past the last)."""
        return self._carry_out(sess, call, keys.retry(self._state(call), reason), now)

    def _goodbye(self, call: CallSession) -> Outcome:
        locale = call.locale if call.locale and call.node != LANG else "en"
        call.node = ENDED
        return Outcome((self.renderer.line(locale, "voice_goodbye"),), then="hangup")

    def _move(self, call: CallSession, node: str) -> None:
        call.node, call.page, call.topic, call.item, call.retries = node, 0, None, None, 0

    def _node_lines(self, call: CallSession) -> list[Utterance]:
        """Everything for where the caller is: said on arrival and again for *."""
        if call.safety:
            kind, seen_by = call.safety.split(":")
            return self.renderer.safety(call.locale, kind, seen_by)
        if call.node == ITEM:
            return [self.renderer.item_text(call.locale, call.topic, call.item), *self._prompt_lines(call)]
        return self._prompt_lines(call)

    def _prompt_lines(self, call: CallSession) -> list[Utterance]:
        """The choices where the caller is: said again after silence or a wrong key."""
        r, locale = self.renderer, call.locale
        if call.safety:
            return [r.line(locale, "voice_safety_repeat")]
        if call.node == LANG:
            return r.language_menu(self.offered, call.page)
        if call.node == ZIP:
            return [self._trials_line(call, "trials_voice_zip")]
        if call.node == ZIP_HEARD:
            return [self._trials_line(call, "trials_voice_options")]
        if call.node == TOPIC:
            return r.topic_menu(locale, call.topic, trials_search=self._trials_here(call))
        if call.node == ITEM:
            return r.item_options(locale, call.topic, call.item, trials_search=self._trials_here(call))
        return r.main_menu(locale, call.page, languages=len(self.offered) > 1,
                           speech=self._speech(call) is not None)

    def _gather(self, call: CallSession, lines: list[Utterance], before: list[Utterance] = ()) -> Outcome:
        if call.node == ZIP:
            return Outcome(tuple(lines), before=tuple(before), digits=ZIP_DIGITS, timeout=ZIP_TIMEOUT)
        if call.node == ZIP_HEARD:
            return Outcome(tuple(lines), before=tuple(before), timeout=OPTIONS_TIMEOUT)
        speech = self._speech(call)
        hints: tuple[str, ...] = ()
        if speech:
            labels = self._topic_labels(call.locale, english=False)
            if call.node in (TOPIC, ITEM):
                labels = self._item_labels(call.locale, call.topic, english=False) + labels
            hints = tuple(dict.fromkeys(label for _, label in labels))
        return Outcome(tuple(lines), speech=speech, hints=hints, before=tuple(before))

    def _speech(self, call: CallSession) -> str | None:
        if call.node in (LANG, ZIP, ZIP_HEARD) or call.locale not in VOICES:
            return None  # the language menu mixes languages, a ZIP code is typed: keypad only
        return VOICES[call.locale].speech

    def _trials_here(self, call: CallSession) -> bool:
        return self.trials_search and call.topic == TRIALS_TOPIC

    def _topic_labels(self, locale: str, english: bool = True) -> list[tuple[int, str]]:
        cat, labels = self.renderer.catalog, []
        for number, topic in enumerate(self.renderer.content.topics, start=1):
            for loc in (locale, "en") if english else (locale,):
                labels.append((number, cat.get(loc, topic.label_key)))
                labels.append((number, self.renderer.topic_label(loc, topic.id)))
        return labels

    def _item_labels(self, locale: str, topic_id: str, english: bool = True) -> list[tuple[int, str]]:
        cat, labels = self.renderer.catalog, []
        for number, item in enumerate(self.renderer.content.topic(topic_id).items, start=1):
            for loc in (locale, "en") if english else (locale,):
                labels.append((number, cat.get(loc, item.label_key)))
        return labels

    def _held_back_note(self, sess: Session, call: CallSession, now: datetime) -> list[Utterance]:
        """The one-time note, in the caller's stored language, that it is not offered until reviewed."""
        reviews = self.line.reviews
        if reviews is None or reviews.policy == "label" or not call.phone:
            return []
        row = sess.execute(_STORED_ROW, {"phone": call.phone}).first()
        if row is None or row.locale not in self.voiced or reviews.offered(row.locale):
            return []
        if not take_notice(sess, row.id, row.locale, now):
            return []
        return [self.renderer.line(row.locale, "voice_locale_off_note")]

    def _stored_locale(self, sess: Session, phone: str | None) -> str | None:
        if not phone:
            return None
        with sess.no_autoflush:  # the call's own pending changes are flushed once, at commit
            stored = sess.scalar(_STORED_LOCALE, {"phone": phone})
        return stored if stored in self.offered else None

    # --- press 9: get this by text ------------------------------------------------------------

    def _text_me(self, sess: Session, call: CallSession, now: datetime) -> list[Utterance]:
        """Queue the SMS wording of where the caller is, to the caller, in the call's language."""
        sms, locale = self.line.renderer, call.locale
        item = call.item if call.node == ITEM else None

        def texts() -> list[str]:
            return [sms.item(locale, call.topic, item) if item is not None else sms.topic_menu(locale, call.topic)]

        said = hand_off(sess, self.line, call, what=f"{call.topic}:{'menu' if item is None else item}",
                        source=VOICE_HANDOFF, topic=call.topic, locale=locale, texts=texts, now=now,
                        menu=(call.node, call.topic, item))  # a reply by text picks up here ("MORE", a number)
        return [self.renderer.line(locale, said, count=MAX_TEXTS_PER_CALL)]

    # --- the trials search by ZIP code ----------------------------------------------------------

    def _ask_zip(self, call: CallSession, again: bool = False) -> Outcome:
        self._move(call, ZIP)
        call.retries = 1 if again else 0  # the second time, silence explains trials and goes on (engine rule 2)
        return self._gather(call, self._prompt_lines(call))

    def _zip_heard(self, sess: Session, call: CallSession, now: datetime) -> Outcome:
        """How many recruiting sites are near the ZIP, the nearest, then 9, 1 or 0."""
        nearby = self.line.trials.nearby(sess, zip_place(call.trials_zip), now)
        say = functools.partial(self._trials_line, call)
        spoken_zip = " ".join(nearby.place.zip)  # "9 4 1 1 0", not "ninety-four thousand..."
        lines = []
        if nearby.nearest is not None:
            lines.append(say("trials_voice_count", radius=nearby.radius, zip=spoken_zip, count=nearby.count))
            miles = rounded_miles(nearby.nearest.miles)  # as the texts round it; 0 is "less than a mile"
            lines.append(say("trials_voice_nearest" if miles else "trials_voice_nearest_close",
                             facility=nearby.nearest.facility or nearby.nearest.city, city=nearby.nearest.city,
                             miles=miles))
        else:
            # Never synced: "none found" would be untrue.
            lines.append(say("trials_unavailable") if nearby.age is None
                         else say("trials_voice_none", radius=nearby.radius, zip=spoken_zip))
            lines.append(say("trials_voice_explain"))
        if nearby.age is not None and nearby.age > 7:
            lines.append(say("trials_age", days=nearby.age))
        return self._gather(call, self._prompt_lines(call), before=lines)

    def _trials_line(self, call: CallSession, name: str, **params) -> Utterance:
        """The trials search is said with a text-to-speech voice: a language without one (no
        recordings of these sentences) hears it in English."""
        return self.renderer.line(call.locale if call.locale in VOICES else "en", name, **params)


# One handler per kind of decision (service/engine/call.py): VoiceLine._carry_out calls it.
_ACTIONS = {
    keys.Goodbye: VoiceLine._on_goodbye,
    keys.Repeat: VoiceLine._on_here,
    keys.MainMenu: VoiceLine._on_here,
    keys.LanguageMenu: VoiceLine._on_here,
    keys.Retry: VoiceLine._on_retry,
    keys.LanguagePage: VoiceLine._on_language_page,
    keys.ChooseLanguage: VoiceLine._on_choose_language,
    keys.Heard: VoiceLine._on_heard,
    keys.TextMe: VoiceLine._on_text_me,
    keys.AskZip: VoiceLine._on_ask_zip,
    keys.NoZip: VoiceLine._on_no_zip,
    keys.SearchTrials: VoiceLine._on_search_trials,
    keys.HearTrials: VoiceLine._on_hear_trials,
    keys.TextTrialList: VoiceLine._on_text_trial_list,
    keys.Walk: VoiceLine._on_walk,
}


def state_of(call: CallSession) -> State:
    """The engine state of a call. Calls are always "active": consent is about texts, not calls."""
    return State(locale=call.locale or "en", status="active", node=call.node, page=call.page or 0,
                 topic=call.topic, item=call.item, last_seen=None)


_STORED_LOCALE = sa.select(Subscriber.locale).where(Subscriber.phone == sa.bindparam("phone"))  # built once
_STORED_ROW = (sa.select(Subscriber.id, Subscriber.locale, Subscriber.status)
               .where(Subscriber.phone == sa.bindparam("phone")))


def offered_locales(renderer: VoiceRenderer, prompts: RecordedPrompts, enabled: list[str]) -> list[str]:
    """Languages offered on calls: a Twilio voice, or a complete set of recordings.

    A locale whose voice prompts are not translated is left out: English words in a Mandarin voice
    help nobody. Without recordings, Haitian Creole is offered by text only.
    """
    catalog = renderer.catalog
    ready = [loc for loc in enabled if catalog.translated(loc, "string.voice_welcome")]
    offered = [loc for loc in ready if loc in VOICES]
    for loc in ready:
        if loc in VOICES or not prompts.folder(loc).is_dir():
            continue
        candidates = [x for x in ready if x in offered or x == loc]
        missing = prompts.missing(renderer.all_utterances(loc, candidates))
        if missing:
            log.warning("voice: %s has %d of its recorded prompts missing; offered by text only", loc, len(missing))
        else:
            offered.append(loc)
    return [loc for loc in enabled if loc in offered]
