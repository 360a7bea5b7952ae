"""Turn engine Replies into words, per channel, from the catalog.

SMS menus are numbered lines; items end with a short navigation footer. Voice wording (used by
the voice channel) prefers each text's `voice` variant and says "press" where SMS says "reply".
"""

from __future__ import annotations

from ..engine import Reply
from .catalog import Catalog


class SmsRenderer:
    def __init__(self, catalog: Catalog, enabled_locales: list[str], contact: str):
        self.catalog = catalog
        self.content = catalog.content
        self.enabled_locales = [loc for loc in enabled_locales if catalog.has(loc)]
        self.contact = contact

    def render(self, reply: Reply, locale: str) -> str:
        cat = self.catalog
        if reply.kind == "text":
            params = dict(reply.params)
            if reply.key == "help":
                params.setdefault("contact", self.contact)
            text = cat.string(locale, reply.key, **params)
            if reply.key == "welcome":  # content shows its "reviewed as of" date up front
                text += "\n" + cat.string(locale, "reviewed", date=cat.reviewed_as_of(locale))
            return text
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
                     enumerate(cat.own_names(self.enabled_locales).values(), start=1)]
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
        for name in ("welcome", "hint", "help", "stop_confirm", "start_confirm", "safety",
                     "apology", "lang_set"):
            yield name, "text", self.render(Reply("text", key=name), locale)
        for key in self.content.texts:  # "ask a term" definitions (messages/ask.toml)
            if key.startswith("string.term_"):
                name = key.removeprefix("string.")
                yield name, "text", self.render(Reply("text", key=name), locale)
        yield "language menu", "menu", self.render(Reply("lang_menu"), locale)
        from ..trials.compose import Composer  # the trials texts that need no study data

        composer = Composer(self.catalog)
        for label, texts in (("trials how", composer.no_zip(locale)),
                             ("trials unknown ZIP", composer.unknown_zip(locale, "00000"))):
            for number, text in enumerate(texts, start=1):
                yield f"{label} {number}", "text", text
        from ..clinics.texts import series_check_texts  # clinic follow-up texts, longest parameters

        yield from series_check_texts(self.catalog, locale)
