"""Turn engine Replies into words, per channel, from the catalog.

SMS menus are numbered lines; items end with a short navigation footer. Voice wording (used by
the voice channel) prefers each text's `voice` variant and says "press" where SMS says "reply".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..engine import Reply
from .catalog import Catalog
from .review import month_year
from .safety import CLASSES, SAFETY_NOTES, safety_strings

# Replies after which a reader of a locale not yet reviewed is told it is a machine translation.
NOTED_REPLIES = frozenset({"lang_set", "help"})


def safety_text(catalog: Catalog, locale: str, kind: str, seen_by: str) -> str:
    """The safety reply for a red-flag class, with who will see the message, as one text."""
    return " ".join(catalog.string(locale, name) for name in safety_strings(locale, kind, seen_by))


class SmsRenderer:
    def __init__(self, catalog: Catalog, enabled_locales: list[str], contact: str,
                 more_texts: tuple[Callable[[Catalog, str], Iterable[tuple[str, str, str]]], ...] = ()):
        """`more_texts`: the other layers' texts for checks and reports, each a function of the
        catalog and a locale yielding (label, kind, text): trials and clinic series texts,
        handed in by the app factory (content imports neither)."""
        self.catalog = catalog
        self.more_texts = more_texts
        self.content = catalog.content
        self.enabled_locales = [loc for loc in enabled_locales if catalog.has(loc)]
        self.contact = contact
        self.reviews = None  # service.reviews.ReviewState (create_app); None: nothing approved

    def reviewed_line(self, locale: str) -> str:
        """"Info reviewed <month>" only from recorded approvals of every text; else "Facts as of"."""
        cat = self.catalog
        day = self.reviews.reviewed_on(locale) if self.reviews is not None else None
        if day is not None:
            return cat.string(locale, "reviewed", date=month_year(day, locale))
        return cat.string(locale, "facts_as_of", date=cat.reviewed_as_of(locale))

    def machine(self, locale: str) -> bool:
        if self.reviews is not None:
            return self.reviews.machine(locale)
        return locale != "en"

    def offered_locales(self) -> list[str]:
        if self.reviews is None:
            return self.enabled_locales
        return self.reviews.offered_locales(self.enabled_locales)

    def render_all(self, reply: Reply, locale: str) -> list[str]:
        """The reply, then the machine-translation note where one is due (its own text: HELP and
        the language confirmation keep their segment budgets)."""
        texts = [self.render(reply, locale)]
        if reply.kind == "text" and reply.key in NOTED_REPLIES and self.machine(locale):
            texts.append(self.catalog.string(locale, "machine_note"))
        return texts

    def render(self, reply: Reply, locale: str) -> str:
        cat = self.catalog
        if reply.kind == "text":
            params = dict(reply.params)
            if reply.key == "help":
                params.setdefault("contact", self.contact)
            text = cat.string(locale, reply.key, **params)
            if reply.key == "welcome":  # reviewed (from recorded approvals) or "facts as of"
                text += "\n" + self.reviewed_line(locale)
            return text
        if reply.kind == "safety":
            return safety_text(cat, locale, reply.key, dict(reply.params)["seen_by"])
        if reply.kind == "clinic":
            return cat.get(locale, reply.key, **dict(reply.params))
        if reply.kind == "main_menu":
            return self.main_menu(locale, reply.page)
        if reply.kind == "topic_menu":
            return self.topic_menu(locale, reply.topic)
        if reply.kind == "item":
            return self.item(locale, reply.topic, reply.item)
        if reply.kind == "trials":  # normally looked up by service.trials.line; without it, explain
            return cat.string(locale, "trials_how")
        if reply.kind == "lang_menu":
            names = [f"{n} {name}" for n, name in
                     enumerate(cat.own_names(self.offered_locales()).values(), start=1)]
            return "\n".join([cat.string(locale, "lang_menu"), *names])
        raise ValueError(f"unknown reply kind {reply.kind}")

    def render_text(self, key: str, locale: str, **params: str) -> str:
        return self.render(Reply("text", key=key, params=tuple(sorted(params.items()))), locale)

    def main_menu(self, locale: str, page: int) -> str:
        cat, size = self.catalog, self.content.page_size
        topics = self.content.topics
        first = page * size
        lines = [cat.string(locale, "menu_header")]
        for number, topic in enumerate(topics[first:first + size], start=first + 1):
            lines.append(f"{number} {cat.get(locale, topic.label_key)}")
        last_page = first + size >= len(topics)
        lines.append(cat.string(locale, "menu_footer" if last_page else "menu_more"))
        return "\n".join(lines)

    def topic_menu(self, locale: str, topic_id: str) -> str:
        cat = self.catalog
        topic = self.content.topic(topic_id)
        lines = [cat.string(locale, "topic_header", topic=cat.get(locale, topic.label_key))]
        for number, item in enumerate(topic.items, start=1):
            lines.append(f"{number} {cat.get(locale, item.label_key)}")
        lines.append(cat.string(locale, "topic_footer"))
        return "\n".join(lines)

    def item(self, locale: str, topic_id: str, index: int) -> str:
        cat = self.catalog
        topic = self.content.topic(topic_id)
        body = cat.get(locale, topic.items[index].text_key)
        last = index + 1 >= len(topic.items)
        return f"{body}\n{cat.string(locale, 'item_last_footer' if last else 'item_footer')}"

    def tour_texts(self, locale: str):
        """A full menu tour: every main-menu page, topic menu and item once (label, kind, text)."""
        for page in range(-(-len(self.content.topics) // self.content.page_size)):
            yield f"main menu page {page + 1}", "menu", self.main_menu(locale, page)
        for topic in self.content.topics:
            yield f"{topic.id} menu", "menu", self.topic_menu(locale, topic.id)
            for index, item in enumerate(topic.items):
                yield f"{topic.id}.{item.id}", "text", self.item(locale, topic.id, index)

    def all_texts(self, locale: str):
        """Every distinct SMS the line can send in a locale: (label, kind, text). For checks."""
        yield from self.tour_texts(locale)
        for name in ("welcome", "hint", "help", "stop_confirm", "start_confirm", "apology", "lang_set",
                     "machine_note", "locale_off_note"):
            yield name, "text", self.render(Reply("text", key=name), locale)
        for kind in CLASSES:
            for seen_by in SAFETY_NOTES:
                yield f"safety {kind} ({seen_by})", "text", safety_text(self.catalog, locale, kind, seen_by)
        for key in self.content.texts:  # "ask a term" definitions (messages/ask.toml)
            if key.startswith("string.term_"):
                name = key.removeprefix("string.")
                yield name, "text", self.render(Reply("text", key=name), locale)
        yield "language menu", "menu", self.render(Reply("lang_menu"), locale)
        for source in self.more_texts:
            yield from source(self.catalog, locale)
