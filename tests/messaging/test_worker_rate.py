"""SEND_RATE_PER_SECOND: a token bucket in the database that every worker process shares."""

from __future__ import annotations

import pytest

from service.messaging.ratelimit import RateLimiter
from tests.support.outbound import app, fake, queue_many, start_worker, worker, worker_env  # noqa: F401


class FakeTime:
    """Seconds that only move when someone waits: the rate limiter's clock in unit tests."""

    def __init__(self):
        self.now = 1_000_000.0
        self.waited = 0.0

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        assert seconds > 0
        self.now += seconds
        self.waited += seconds
        return False  # not stopping


def test_bucket_grants_at_the_rate(app):
    t = FakeTime()
    limiter = RateLimiter(app.extensions["db_sessionmaker"], 10, now=t, wait=t.wait)
    granted = 0
    while granted < 50:
        granted += limiter.acquire(50 - granted)
    # Starts empty, refills 10 per second: 50 tokens take 5 seconds, not less.
    assert t.now - 1_000_000.0 == pytest.approx(5.0, abs=0.11)


def test_two_limiters_on_one_database_share_the_rate(app):
    """Two workers' limiters (same table) together get no more than the rate."""
    t = FakeTime()
    sessions = app.extensions["db_sessionmaker"]
    a = RateLimiter(sessions, 10, now=t, wait=t.wait)
    b = RateLimiter(sessions, 10, now=t, wait=t.wait)
    got = {"a": 0, "b": 0}
    while sum(got.values()) < 40:
        got["a"] += a.acquire(3)
        got["b"] += b.acquire(3)
    assert got["a"] > 0 and got["b"] > 0
    assert t.now - 1_000_000.0 >= 3.9  # 40 tokens at 10/s from empty


def test_burst_is_capped_at_one_second_of_tokens(app):
    t = FakeTime()
    limiter = RateLimiter(app.extensions["db_sessionmaker"], 5, now=t, wait=t.wait)
    limiter.acquire(1)
    t.now += 3600  # idle for an hour
    assert limiter.acquire(100) == 5


def test_zero_means_no_limit(app):
    limiter = RateLimiter(app.extensions["db_sessionmaker"], 0)
    assert not limiter.enabled and limiter.acquire(500) == 500


@pytest.fixture
def worker_config():
    return {"SEND_RATE_PER_SECOND": 10, "WORKER_BATCH": 50, "SEND_WINDOW_START": "00:00", "SEND_WINDOW_END": "24:00"}


def test_worker_sends_no_faster_than_the_rate(app, fake):
    queue_many(app, 30, phones=5)
    t = FakeTime()
    w = worker(app)
    w.limiter = RateLimiter(app.extensions["db_sessionmaker"], 10, now=t, wait=t.wait)
    with app.app_context():
        assert w.drain().sent == 30
    assert len(fake.created()) == 30
    assert t.now - 1_000_000.0 == pytest.approx(3.0, abs=0.11)


@pytest.mark.slow
def test_rate_holds_across_worker_processes(app, fake, database_url):
    """Two real `flask worker --drain` processes at 20/s: Twilio sees at most the bucket allows."""
    rate, total = 20, 60
    queue_many(app, total, phones=10)
    env = worker_env(database_url, fake, SEND_RATE_PER_SECOND=rate, WORKER_BATCH=10)
    procs = [start_worker(env, "--drain") for _ in range(2)]
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    times = sorted(r["at"] for r in fake.requests)
    assert len(times) == total and len(fake.created()) == total
    # Token bucket bound (capacity = one second's worth): any n consecutive arrivals span at
    # least (n - capacity) / rate seconds; 2 extra tokens of slack for network jitter.
    capacity = rate
    for i in range(total):
        for j in range(i + capacity + 2, total):
            assert times[j] - times[i] >= (j - i + 1 - capacity - 2) / rate, (i, j)
    assert times[-1] - times[0] >= (total - capacity - 2) / rate


def test_rate_limited_batches_are_small_and_keep_their_lease(app, fake, clock, monkeypatch):
    """Claimed rows waiting for tokens keep their lease (renewed), so no other worker takes them;
    and a rate-limited worker claims only about a quarter lease's worth at a time."""
    from datetime import timedelta

    from service.messaging.claim import claim

    app.config.update(SEND_RATE_PER_SECOND=2, LEASE_SECONDS=8)
    queue_many(app, 20, phones=4)
    t = FakeTime()
    stolen = []

    def wait(seconds):
        t.wait(seconds)
        clock.advance(seconds=seconds)  # the app clock moves with the limiter's
        with app.extensions["db_sessionmaker"]() as sess, sess.begin():
            stolen.extend(claim(sess, clock(), 100, timedelta(seconds=8)).ids)  # a second worker
        return False

    w = worker(app)
    assert w._batch_size() == 4  # 2/s x 8 s / 4
    monkeypatch.setattr(w, "_batch_size", lambda: 20)  # one big batch: 10 s of sending > the lease
    w.limiter = RateLimiter(app.extensions["db_sessionmaker"], 2, now=t, wait=wait)
    with app.app_context():
        assert w.run_once() == 20
    assert stolen == [] and w.stats.sent == 20 and len(fake.created()) == 20
    assert t.now - 1_000_000.0 >= 9.9  # it really did outlast the first lease
