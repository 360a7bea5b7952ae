"""The channel-agnostic conversation engine: (state, input, now) -> (new state, replies, events).

Nothing here imports Flask, Twilio or the database. Channel adapters (service/channels/) parse
their input, call `converse`, persist the state and events, and render replies.
"""

from .conversation import Reply, State, Turn, converse
from .events import ConsentChanged, LanguageChanged, RedFlag, TopicViewed

__all__ = [
    "ConsentChanged",
    "LanguageChanged",
    "RedFlag",
    "Reply",
    "State",
    "TopicViewed",
    "Turn",
    "converse",
]
