"""What happened during a turn, for the caller to persist. Sending is a Reply, not an event."""

from __future__ import annotations

from dataclasses import dataclass

from .redflags import Flag


@dataclass(frozen=True)
class ConsentChanged:
    kind: str  # "opt_in" | "opt_out"
    keyword: str  # what the person sent, normalized (or the OptOutType)
    source: str  # "sms_keyword" | "twilio_advanced_opt_out" | ...


@dataclass(frozen=True)
class LanguageChanged:
    locale: str


@dataclass(frozen=True)
class RedFlag:
    """A message reported an emergency, a crisis or an urgent problem (engine/redflags.py)."""

    kind: str  # "emergency" | "crisis" | "urgent"
    term: str  # the red-flag term that matched, for metrics
    words: str  # the person's own words that matched, for the clinic's task

    @classmethod
    def of(cls, flag: Flag) -> "RedFlag":
        return cls(flag.kind, flag.term, flag.words)


@dataclass(frozen=True)
class ClinicConfirmed:
    """YES to the clinic enrollment whose confirmation the person received."""

    word: str


@dataclass(frozen=True)
class CheckinAnswered:
    """An answer (1, 2 or 3) to a clinic's open check-in question."""

    number: int


@dataclass(frozen=True)
class HeldTextsConfirmed:
    """YES from a number a call held texts for (the caller ID was not attested): send them."""


@dataclass(frozen=True)
class TopicViewed:
    topic: str
    item: str | None
