"""Sender wrappers for worker tests: run something at an exact point of a send, deterministically."""

from __future__ import annotations

from typing import Callable


class AfterSend:
    """Wraps the app's sender: after each successful `send`, calls `hook(to, url, result)` before
    the worker sees the result (a status callback arriving first, the database going away...)."""

    def __init__(self, inner, hook: Callable[[str, str, object], None]):
        self.inner = inner
        self.hook = hook

    def send(self, to: str, body: str, status_callback: str):
        result = self.inner.send(to, body, status_callback)
        self.hook(to, status_callback, result)
        return result

    def __getattr__(self, name: str):
        return getattr(self.inner, name)  # find(), ... unchanged
