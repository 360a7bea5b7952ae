"""What the worker needs from an SMS provider, whatever the provider is.

A send either returns the provider's id for the message or raises SendError saying whether the
message can have reached the provider. That distinction is what keeps retries from doubling:
"retry" is safe to repeat blindly, "unknown" must be reconciled first (docs/outbound.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

RETRY = "retry"  # never reached the provider (429, connection refused): send again later
UNKNOWN = "unknown"  # may have reached it (timeout, dropped connection, 5xx): look it up first
PERMANENT = "permanent"  # the provider refused this message for good (4xx with a code)


class SendError(Exception):
    def __init__(self, kind: str, code: str | None, detail: str = ""):
        super().__init__(f"{kind}: {code or '-'} {detail}".strip())
        self.kind, self.code, self.detail = kind, code, detail


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str  # the provider's status word: queued, accepted, sent, ...


@dataclass(frozen=True)
class Found:
    """A message the provider has, as listed by find()."""

    sid: str
    status: str
    body: str
    created_at: datetime
    error_code: str | None = None


class SmsSender(Protocol):
    def send(self, to: str, body: str, status_callback: str) -> Sent:
        """Hand one text to the provider. Raises SendError."""

    def find(self, to: str, since: datetime) -> list[Found]:
        """Messages the provider holds for `to` created at or after `since` (newest first).

        Raises SendError when the provider cannot be asked right now."""
