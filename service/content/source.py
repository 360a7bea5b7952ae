"""Load the English source content from messages/ into plain data.

Every user-facing text has a stable key. The key is the gettext msgctxt and the English text the
msgid, so a change to the English makes the old translation stale instead of silently wrong.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

MESSAGES_DIR = Path(__file__).resolve().parents[2] / "messages"

MENU_KIND = "menu"
TEXT_KIND = "text"


@dataclass(frozen=True)
class SourceText:
    key: str
    text: str
    kind: str = TEXT_KIND  # "menu" texts fit 2 SMS segments, others 3
    sources: tuple[str, ...] = ()
    origin: str = ""  # file the text came from, for reviewers


@dataclass(frozen=True)
class Item:
    id: str
    label_key: str
    text_key: str
    voice_key: str | None


@dataclass(frozen=True)
class Topic:
    id: str
    label_key: str
    voice_label_key: str | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Content:
    topics: tuple[Topic, ...]
    page_size: int
    texts: dict[str, SourceText] = field(repr=False)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)


def string_key(name: str) -> str:
    return f"string.{name}"


REVIEWED_KEY = "meta.reviewed_as_of"


def _read(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=4)
def load_content(messages_dir: Path = MESSAGES_DIR) -> Content:
    """Read messages/ once per process; the result is immutable."""
    texts: dict[str, SourceText] = {}

    def add(key: str, text: str, kind: str = TEXT_KIND, sources=(), origin: str = "") -> str:
        if key in texts:
            raise ValueError(f"duplicate content key {key}")
        texts[key] = SourceText(key, text.strip(), kind, tuple(sources), origin)
        return key

    for name, entry in _read(messages_dir / "strings.toml").items():
        add(string_key(name), entry["text"], entry.get("kind", TEXT_KIND), (), "strings.toml")

    menu = _read(messages_dir / "menu.toml")
    add(REVIEWED_KEY, menu["reviewed_as_of"], TEXT_KIND, (), "menu.toml")
    topics = []
    for topic_id in menu["topics"]:
        origin = f"topics/{topic_id}.toml"
        data = _read(messages_dir / "topics" / f"{topic_id}.toml")
        prefix = f"topic.{topic_id}"
        label_key = add(f"{prefix}.label", data["label"], MENU_KIND, (), origin)
        voice_label_key = None
        if data.get("voice_label"):
            voice_label_key = add(f"{prefix}.voice_label", data["voice_label"], TEXT_KIND, (), origin)
        items = []
        for item in data["items"]:
            ip = f"{prefix}.{item['id']}"
            sources = item.get("sources", ())
            items.append(
                Item(
                    id=item["id"],
                    label_key=add(f"{ip}.label", item["label"], MENU_KIND, (), origin),
                    text_key=add(f"{ip}.text", item["text"], TEXT_KIND, sources, origin),
                    voice_key=(
                        add(f"{ip}.voice", item["voice"], TEXT_KIND, sources, origin)
                        if item.get("voice")
                        else None
                    ),
                )
            )
        topics.append(Topic(topic_id, label_key, voice_label_key, tuple(items)))
    series = messages_dir / "series.toml"
    if series.exists():  # clinic follow-up series (service/clinics/series.py)
        for key, text, sources in series_texts(_read(series)):
            add(key, text, TEXT_KIND, sources, "series.toml")
    return Content(tuple(topics), int(menu["page_size"]), texts)


def series_texts(data: dict):
    """(key, text, sources) for every text in messages/series.toml."""
    for name, text in data.get("texts", {}).items():
        yield f"series.{name}", text, ()
    for step in data.get("common", {}).get("steps", ()):
        yield f"series.common.{step['id']}", step["text"], tuple(step.get("sources", ()))
    for category, entry in data.get("categories", {}).items():
        for step in entry["steps"]:
            yield f"series.{category}.{step['id']}", step["text"], tuple(step.get("sources", ()))
