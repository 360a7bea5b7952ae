"""What the voice line says, in which voice, per locale.

VOICES is the one table of Twilio `<Say>` voice and language, and `<Gather>` speech language, per
locale (reference/twilio.md section 7). A locale with no Twilio voice (Haitian Creole) can still be
offered on calls with recorded prompts (RecordedPrompts): one audio file per distinct sentence.

The renderer returns Utterances (catalog key, text, locale), never TwiML: the channel decides
between `<Say>` and `<Play>`. Spoken wording prefers each content item's `voice` variant, says
"press" where SMS says "reply", and names every keypad key it accepts.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

# The keypad is the engine's (service/engine/call.py decides what each key means): one definition.
from ..engine.call import (KEY_LANG, KEY_MENU, KEY_MORE_LANGS, KEY_NEXT, KEY_TEXT, KEY_TRIALS, LANGS_PER_PAGE,
                           language_page)
from .catalog import Catalog
from .review import month_year
from .safety import CLASSES, SAFETY_NOTES, safety_strings
from .source import string_key

MAX_TEXTS_PER_CALL = 3  # "press 9" hand-offs per call: enough to keep, too few to flood a phone


@dataclass(frozen=True)
class Voice:
    language: str  # <Say language>
    voice: str  # <Say voice>
    speech: str | None  # <Gather language> for speech input; None: keypad only


VOICES: dict[str, Voice] = {
    "en": Voice("en-US", "Polly.Joanna", "en-US"),
    "es": Voice("es-US", "Polly.Lupe", "es-US"),
    "zh-Hans": Voice("cmn-CN", "Polly.Zhiyu", "cmn-Hans-CN"),
    "zh-Hant": Voice("yue-CN", "Polly.Hiujin-Neural", "yue-Hant-HK"),
    "vi": Voice("vi-VN", "Google.vi-VN-Standard-A", "vi-VN"),
    "ko": Voice("ko-KR", "Polly.Seoyeon", "ko-KR"),
    "tl": Voice("fil-PH", "Google.fil-PH-Standard-A", "fil-PH"),
    "ru": Voice("ru-RU", "Polly.Tatyana", "ru-RU"),
    # Speech recognition has only regional Arabic (ar-EG, ar-SA, ...); one region would misjudge
    # callers of the others, so Arabic callers use the keypad.
    "ar": Voice("arb", "Polly.Zeina", None),
    "pt-BR": Voice("pt-BR", "Polly.Camila", "pt-BR"),
    "fr": Voice("fr-FR", "Polly.Lea", "fr-FR"),
    # ht: no Twilio voice and no speech language: recorded prompts only.
}


@dataclass(frozen=True)
class Utterance:
    key: str  # catalog key it came from (names the recording in RecordedPrompts)
    text: str
    locale: str


class RecordedPrompts:
    """Recorded audio for locales without a Twilio voice.

    Convention: <root>/<locale dir>/<name>-<hash>.mp3 (root default service/static/voice, served
    at /static/voice/...), where name is the catalog key with dots as dashes and hash the first 8
    hex digits of SHA-1 of the exact sentence. A changed translation therefore needs a new
    recording instead of playing stale words. `flask --app service voice script ht` lists them.
    """

    def __init__(self, root: Path, url_base: str):
        self.root = Path(root)
        self.url_base = url_base.rstrip("/")

    @staticmethod
    def file_name(utterance: Utterance) -> str:
        digest = hashlib.sha1(utterance.text.encode("utf-8")).hexdigest()[:8]
        return f"{re.sub(r'[^A-Za-z0-9_]+', '-', utterance.key)}-{digest}.mp3"

    def folder(self, locale: str) -> Path:
        return self.root / locale.replace("-", "_")

    def has(self, utterance: Utterance) -> bool:
        return (self.folder(utterance.locale) / self.file_name(utterance)).is_file()

    def url(self, utterance: Utterance) -> str:
        return f"{self.url_base}/{utterance.locale.replace('-', '_')}/{self.file_name(utterance)}"

    def missing(self, utterances) -> list[Utterance]:
        seen, missing = set(), []
        for u in utterances:
            if u.text not in seen and not self.has(u):
                missing.append(u)
            seen.add(u.text)
        return missing


class VoiceRenderer:
    """Spoken wording for the call menus, from the same catalog as SMS."""

    def __init__(self, catalog: Catalog, reviews=None):
        self.catalog = catalog
        self.content = catalog.content
        self.reviews = reviews  # service.reviews.ReviewState; None: nothing approved

    def line(self, locale: str, name: str, **params) -> Utterance:
        key = string_key(name)
        # Formatted here, not by Catalog.get: its own argument is named "key", like our {key}.
        text = self.catalog.get(locale, key)
        return Utterance(key, text.format(**{k: str(v) for k, v in params.items()}) if params else text, locale)

    def _spoken(self, locale: str, voice_key: str | None, text_key: str) -> Utterance:
        # An untranslated voice variant would be English in a foreign voice: the translated SMS
        # wording is better than that.
        if voice_key and self.catalog.translated(locale, voice_key):
            return Utterance(voice_key, self.catalog.get(locale, voice_key), locale)
        return Utterance(text_key, self.catalog.get(locale, text_key), locale)

    def topic_label(self, locale: str, topic_id: str) -> str:
        topic = self.content.topic(topic_id)
        return self._spoken(locale, topic.voice_label_key, topic.label_key).text

    def safety(self, locale: str, kind: str, seen_by: str) -> list[Utterance]:
        """The safety reply, said as it is texted, then how to hear it again (no menu)."""
        return [*(self.line(locale, name) for name in safety_strings(locale, kind, seen_by)),
                self.line(locale, "voice_safety_repeat")]

    def welcome(self, locale: str) -> list[Utterance]:
        """Welcome, "reviewed in <month>" from recorded approvals (else "facts as of"), the
        machine-translation note while the locale is not reviewed, the keys."""
        day = self.reviews.reviewed_on(locale) if self.reviews is not None else None
        if day is not None:
            dated = self.line(locale, "voice_reviewed", date=month_year(day, locale))
        else:
            dated = self.line(locale, "voice_facts_as_of", date=self.catalog.reviewed_as_of(locale))
        machine = self.reviews.machine(locale) if self.reviews is not None else locale != "en"
        note = [self.line(locale, "voice_machine_note")] if machine else []
        return [self.line(locale, "voice_welcome"), dated, *note, self.line(locale, "voice_keys")]

    def main_menu(self, locale: str, page: int, *, languages: bool, speech: bool) -> list[Utterance]:
        size, topics = self.content.page_size, self.content.topics
        lines = [self.line(locale, "voice_menu_option", topic=self.topic_label(locale, t.id), key=n)
                 for n, t in enumerate(topics[page * size:(page + 1) * size], start=1)]
        if len(topics) > size:
            lines.append(self.line(locale, "voice_menu_more", key=KEY_NEXT))
        if languages:
            lines.append(self.line(locale, "voice_menu_lang", key=KEY_LANG))
        if speech:
            lines.append(self.line(locale, "voice_speech_hint"))
        return lines

    def topic_menu(self, locale: str, topic_id: str, *, trials_search: bool) -> list[Utterance]:
        topic = self.content.topic(topic_id)
        lines = [self._spoken(locale, topic.voice_label_key, topic.label_key)]  # the topic's name
        for n, item in enumerate(topic.items, start=1):
            lines.append(self.line(locale, "voice_item_option", label=self.catalog.get(locale, item.label_key), key=n))
        if trials_search:
            lines.append(self.line(locale, "voice_trials_zip", key=KEY_TRIALS))
        return [*lines, *self._footer(locale)]

    def item_text(self, locale: str, topic_id: str, index: int) -> Utterance:
        item = self.content.topic(topic_id).items[index]
        return self._spoken(locale, item.voice_key, item.text_key)

    def item_options(self, locale: str, topic_id: str, index: int, *, trials_search: bool) -> list[Utterance]:
        last = index + 1 >= len(self.content.topic(topic_id).items)
        lines = [self.line(locale, "voice_item_list" if last else "voice_item_next", key=KEY_NEXT)]
        if trials_search:
            lines.append(self.line(locale, "voice_trials_zip", key=KEY_TRIALS))
        return [*lines, *self._footer(locale)]

    def _footer(self, locale: str) -> list[Utterance]:
        return [self.line(locale, "voice_text_option", key=KEY_TEXT),
                self.line(locale, "voice_main_option", key=KEY_MENU)]

    def language_menu(self, locales: list[str], page: int) -> list[Utterance]:
        """Each option in its own language (and so, by the channel, in its own voice)."""
        shown, more = language_page(locales, page)
        lines = [self.line("en", "voice_lang_prompt")] if page == 0 else []
        lines += [self.line(loc, "voice_lang_option", key=n) for n, loc in enumerate(shown, start=1)]
        following = locales[(page + 1) * LANGS_PER_PAGE:(page + 2) * LANGS_PER_PAGE] if more else []
        # The languages of the next page are named now, each in its own voice, all on key 9: an
        # Arabic speaker must not need English to reach the Arabic option.
        lines += [self.line(loc, "voice_lang_option", key=KEY_MORE_LANGS) for loc in following]
        if more and not following:  # the last page: 9 goes back to the first languages
            lines.append(self.line("en", "voice_lang_more", key=KEY_MORE_LANGS))
        return lines

    def all_utterances(self, locale: str, offered: list[str]):
        """Every sentence a call in this locale can say (for the recorded-prompt script)."""
        yield from self.welcome(locale)
        for page in range(-(-len(self.content.topics) // self.content.page_size)):
            yield from self.main_menu(locale, page, languages=len(offered) > 1, speech=False)
        for topic in self.content.topics:
            trials = topic.id == "trials"
            yield from self.topic_menu(locale, topic.id, trials_search=trials)
            for index in range(len(topic.items)):
                yield self.item_text(locale, topic.id, index)
                yield from self.item_options(locale, topic.id, index, trials_search=trials)
        if locale in offered:
            for page in range(-(-len(offered) // LANGS_PER_PAGE)):
                yield from (u for u in self.language_menu(offered, page) if u.locale == locale)
        for name in ("voice_texted", "voice_opted_out", "voice_no_text", "voice_no_input",
                     "voice_invalid", "voice_goodbye", "voice_apology", "voice_safety_repeat",
                     "voice_locale_off_note"):
            yield self.line(locale, name)
        for kind in CLASSES:
            for seen_by in SAFETY_NOTES:
                yield from self.safety(locale, kind, seen_by)
        yield self.line(locale, "voice_text_limit", count=MAX_TEXTS_PER_CALL)
