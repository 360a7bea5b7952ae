"""Every Twilio failure at once, across one batch to several numbers: 429s, 500/503s, a slow
answer that times out, connections dropped before and after Twilio accepted the message.
Each text reaches Twilio exactly once, none is dropped, and no retry comes before its backoff
(tests/messaging/test_worker_errors.py tests each failure on its own)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from tests.fake_twilio import drop, server_error, slow, too_many
from tests.support.outbound import app, attempts, drain, fake, message, queue, row_ids_seen, statuses  # noqa: F401

PHONES = [f"+1415555{i:04d}" for i in range(6)]
TEXTS = 30
FAILURES = [too_many()] * 4 + [server_error(500)] * 2 + [server_error(503)] + [drop(created=True)] * 2 + \
           [drop(created=False)] * 2 + [slow(0.8)]  # 0.8 s > SEND_TIMEOUT_SECONDS below: a timeout


@pytest.fixture
def worker_config():
    # Fewer failures in the script than attempts allowed: whatever order they land in, no text
    # can use up its attempts, so "failed" here would mean a text was given up wrongly.
    return {"SEND_TIMEOUT_SECONDS": 0.4, "SEND_MAX_ATTEMPTS": len(FAILURES) + 1, "WORKER_BATCH": 8}


def test_a_storm_of_failures_loses_and_doubles_nothing(app, fake, clock):
    rows = [queue(app, PHONES[i % len(PHONES)], f"storm {i}") for i in range(TEXTS)]
    script = FAILURES + [slow(0)] * (TEXTS - len(FAILURES))  # slow(0): an ordinary answer
    random.Random(7).shuffle(script)
    fake.script_next(*script)

    for _ in range(20):  # bounded: backoffs are 30 s doubling; 10 minutes per pass outlasts them
        drain(app)
        if statuses(app) == {"sent": TEXTS}:
            break
        clock.advance(minutes=10)
    assert statuses(app) == {"sent": TEXTS}

    seen = Counter(row_ids_seen(fake))
    assert set(seen) == set(rows) and set(seen.values()) == {1}, seen
    assert len(fake.requests) == TEXTS + len(FAILURES) - 3  # drop-after-accept and timeout: found, not re-sent
    by_sid = {m["sid"]: m for m in fake.created()}
    retried = 0
    for row_id in rows:
        row, tries = message(app, row_id), attempts(app, row_id)
        assert by_sid[row.twilio_sid]["body"] == row.body
        assert [a.outcome for a in tries][-1] in {"accepted", "found"}
        for earlier, later in zip(tries, tries[1:]):
            assert later.started_at - earlier.started_at >= timedelta(seconds=30)  # backoff, not a hot loop
            retried += 1
    assert retried == len(FAILURES) - 3
