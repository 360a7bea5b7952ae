"""An in-memory sender for unit tests: records every send and plays scripted failures."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from .base import Found, SendError, Sent

_ids = itertools.count(1)


@dataclass
class FakeSent:
    sid: str
    to: str
    body: str
    status_callback: str
    created_at: datetime


@dataclass
class FakeSender:
    """`fail_next` holds SendErrors raised by the next sends, in order. A SendError whose
    `reached` attribute is true records the message before raising (a lost response)."""

    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    sent: list[FakeSent] = field(default_factory=list)
    fail_next: list[SendError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, to: str, body: str, status_callback: str) -> Sent:
        with self._lock:
            error = self.fail_next.pop(0) if self.fail_next else None
            if error is None or getattr(error, "reached", False):
                record = FakeSent(f"SMfake{next(_ids):026d}", to, body, status_callback, self.clock())
                self.sent.append(record)
        if error is not None:
            raise error
        return Sent(sid=record.sid, status="queued")

    def find(self, to: str, since: datetime) -> list[Found]:
        with self._lock:
            return [Found(m.sid, "queued", m.body, m.created_at) for m in reversed(self.sent)
                    if m.to == to and m.created_at >= since]

    def bodies_to(self, to: str) -> list[str]:
        return [m.body for m in self.sent if m.to == to]
