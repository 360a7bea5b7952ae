"""The shape of the menu tree, as the engine needs it: topic ids, their item ids, page size.

Built from the content in messages/ (service.content.source) by the caller; the engine only
navigates, it never sees wording.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MenuTree:
    topics: tuple[tuple[str, tuple[str, ...]], ...]  # (topic id, item ids)
    page_size: int = 5

    @classmethod
    def from_content(cls, content) -> "MenuTree":
        return cls(
            tuple((t.id, tuple(i.id for i in t.items)) for t in content.topics),
            content.page_size,
        )

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self.topics) // self.page_size))

    def topic_ids(self) -> list[str]:
        return [t for t, _ in self.topics]

    def items(self, topic: str) -> tuple[str, ...]:
        for t, items in self.topics:
            if t == topic:
                return items
        raise KeyError(topic)

    def topic_at(self, number: int) -> str | None:
        """Menu numbers start at 1 and run across pages."""
        if 1 <= number <= len(self.topics):
            return self.topics[number - 1][0]
        return None

    def page_of(self, topic: str) -> int:
        return self.topic_ids().index(topic) // self.page_size
