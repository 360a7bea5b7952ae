"""A token bucket in the database, so SEND_RATE_PER_SECOND holds across every worker process
and machine that shares the database.

The bucket row is locked (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE already serializes SQLite)
for a few milliseconds per grant. Time is wall-clock seconds, not the app clock: a rate is about
real seconds, while the app clock is moved by tests to cross sending windows.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..models import SendRateBucket

BUCKET = "sms"
MIN_WAIT = 0.001  # seconds; never spin on a rounding error


class RateLimiter:
    def __init__(self, sessions: sessionmaker, rate: float, *, name: str = BUCKET,
                 now: Callable[[], float] = time.time, wait: Callable[[float], bool] | None = None):
        """`wait(seconds)` sleeps and returns True when the worker was told to stop."""
        self.sessions = sessions
        self.rate = rate
        self.capacity = max(1.0, rate)  # at most one second's worth in a burst
        self.name = name
        self.now = now
        self.wait = wait or threading.Event().wait

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, wanted: int) -> int:
        """Take between 1 and `wanted` tokens, waiting for the first one; 0 when stopped."""
        if not self.enabled:
            return wanted
        while True:
            granted, shortfall = self._take(wanted)
            if granted:
                return granted
            if self.wait(shortfall / self.rate):
                return 0

    def _take(self, wanted: int) -> tuple[int, float]:
        with self.sessions() as sess, sess.begin():
            bucket = self._locked(sess)
            now = self.now()
            # A clock that stepped back (another machine's, or NTP) never refills negatively.
            elapsed = max(0.0, now - bucket.refilled_at)
            tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            # The epsilon: 0.1 s at 10/s must make a whole token despite float rounding.
            granted = min(wanted, math.floor(tokens + 1e-9))
            bucket.tokens = max(0.0, tokens - granted)
            bucket.refilled_at = max(now, bucket.refilled_at)
            return granted, (0.0 if granted else max(1.0 - tokens, MIN_WAIT * self.rate))

    def _locked(self, sess: Session) -> SendRateBucket:
        query = sa.select(SendRateBucket).where(SendRateBucket.name == self.name).with_for_update()
        bucket = sess.scalars(query).one_or_none()
        if bucket is None:
            try:
                with sess.begin_nested():
                    # Starts empty: a fleet of workers starting together does not burst.
                    sess.add(SendRateBucket(name=self.name, tokens=0.0, refilled_at=self.now()))
            except IntegrityError:
                pass  # another worker created it first
            bucket = sess.scalars(query).one()
        return bucket
