"""The voice line: what a caller's keys and words mean, what they hear, what a call changes.

- flow.py     VoiceLine: the menus (walking the same pure engine as texts), the language menu,
              repeat, goodbye, retries, speech, the trials ZIP search; events in, an Outcome out
- steps.py    answer_call(): one request of a call in one transaction, a retried step answered again
- handoff.py  "press 9 to get this by text": the one place a call queues texts to its caller
- log.py      each topic heard, ZIP searched or red flag said, in the message log

The webhook (service/channels/voice.py) only reads Twilio's form into a CallRequest and turns the
Outcome into TwiML. A call's row itself (made, locked, purged) is service/call_sessions.py.
"""

from .flow import CallEvent, Gathered, Outcome, Silence, Started, TrialsLink, VoiceLine
from .handoff import FULL_ATTESTATION
from .steps import CallRequest, answer_call, locale_of_call

__all__ = ["CallEvent", "CallRequest", "FULL_ATTESTATION", "Gathered", "Outcome", "Silence", "Started", "TrialsLink",
           "VoiceLine", "answer_call", "locale_of_call"]
