"""The one clock. Tests and the simulator replace `now` instead of sleeping or patching time."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
