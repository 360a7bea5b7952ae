"""What happened during a turn, for the caller to persist. Sending is a Reply, not an event."""

from __future__ import annotations

from dataclasses import dataclass


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
    term: str  # the matched red-flag term, for the portal task and metrics


@dataclass(frozen=True)
class TopicViewed:
    topic: str
    item: str | None
