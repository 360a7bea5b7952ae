"""Development sender: prints what would be sent, masked, and sends nothing.

It reports each text as delivered (the terminal is its phone), so in `make run` the portal shows
delivery as it would with Twilio's status callbacks."""

from __future__ import annotations

import itertools
import sys
from datetime import datetime

from ..content.segments import count
from ..phones import mask
from .base import Found, Sent

_ids = itertools.count(1)


class ConsoleSender:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, to: str, body: str, status_callback: str) -> Sent:
        sid = f"SMconsole{next(_ids):023d}"
        # Masked like the logs: a terminal scrollback is a log too. `flask simulate` shows texts.
        print(f"[sms console] to {mask(to)}: {count(body).segments} segment(s), {len(body)} chars, "
              f"sid {sid}", file=self.stream, flush=True)
        return Sent(sid=sid, status="delivered")

    def find(self, to: str, since: datetime) -> list[Found]:
        return []  # nothing ever reached a provider
