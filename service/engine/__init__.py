"""The channel-agnostic conversation engine: (state, input, now) -> (new state, replies, events).

Nothing here imports Flask, Twilio or the database. Channel adapters (service/channels/) parse
their input, call `converse`, persist the state and events, and render replies.
"""

from .conversation import NO_FACTS, Facts, Reply, State, Turn, converse
from .events import (CheckinAnswered, ClinicConfirmed, ConsentChanged, HeldTextsConfirmed, LanguageChanged, RedFlag,
                     TopicViewed)

__all__ = [
    "CheckinAnswered",
    "ClinicConfirmed",
    "Facts",
    "NO_FACTS",
    "ConsentChanged",
    "HeldTextsConfirmed",
    "LanguageChanged",
    "RedFlag",
    "Reply",
    "State",
    "TopicViewed",
    "Turn",
    "converse",
]
