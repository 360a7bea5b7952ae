"""The follow-up series as data (messages/series.toml): which texts, on which day, per category.

Only the shape lives here (ids, day offsets, which step is the check-in). The words are catalog
keys (series.<category>.<step>), translated like every other text.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..content.source import MESSAGES_DIR

SERIES_FILE = MESSAGES_DIR / "series.toml"


@dataclass(frozen=True)
class Step:
    name: str  # "<category>.<id>" or "common.<id>": unique within one enrollment
    key: str  # catalog key of its text
    day: int  # days after the treatment start date
    topic: str  # category (or "trials"/"checkin") for the queue row and the dashboard
    checkin: bool = False


@dataclass(frozen=True)
class Series:
    categories: dict[str, tuple[Step, ...]]
    common: tuple[Step, ...]
    expire_days: int
    checkin_open_days: int

    def plan(self, categories: list[str]) -> list[Step]:
        """Every step for these categories, in send order. Each further category is shifted a
        day so that two texts never arrive on the same day."""
        steps = []
        for shift, category in enumerate(categories):
            for step in self.categories[category]:
                steps.append(Step(step.name, step.key, step.day + shift, step.topic, step.checkin))
        steps.extend(self.common)
        return sorted(steps, key=lambda s: (s.day, s.checkin))

    def weeks(self, categories: list[str]) -> int:
        last = max(step.day for step in self.plan(categories))
        return max(1, math.ceil(last / 7))


def _step(prefix: str, raw: dict, topic: str) -> Step:
    checkin = raw.get("kind") == "checkin"
    return Step(f"{prefix}.{raw['id']}", f"series.{prefix}.{raw['id']}", int(raw["day"]),
                "checkin" if checkin else topic, checkin)


@lru_cache(maxsize=2)
def load_series(path: Path = SERIES_FILE) -> Series:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    categories = {
        name: tuple(_step(name, raw, name) for raw in entry["steps"])
        for name, entry in data["categories"].items()
    }
    common = tuple(_step("common", raw, raw["id"]) for raw in data.get("common", {}).get("steps", ()))
    if sum(step.checkin for step in common) != 1:
        raise ValueError("series.toml needs exactly one common check-in step")
    return Series(categories, common, int(data["expire_days"]), int(data["checkin_open_days"]))
