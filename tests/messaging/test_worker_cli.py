"""`flask --app service worker`: --drain sends what is due and exits; without it the worker polls
until SIGTERM, then finishes the text in hand and gives the rest of its batch back."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from service.models import OutboundAttempt
from tests.support.outbound import (LA, NYC, app, fake, queue, queue_many, row_ids_seen, start_worker,  # noqa: F401
                                    statuses, wait_for, worker_config, worker_env)


def test_drain_command(app, fake, runner):
    queue(app, LA, "one")
    queue(app, NYC, "two")
    result = runner.invoke(args=["worker", "--drain"])
    assert result.exit_code == 0, result.output
    assert "claimed 2, sent 2" in result.output
    assert statuses(app) == {"sent": 2} and len(fake.created()) == 2
    again = runner.invoke(args=["worker", "--drain"])
    assert "claimed 0" in again.output and len(fake.created()) == 2


@pytest.mark.slow
def test_runs_until_sigterm_then_stops_cleanly(app, fake, database_url):
    fake.clock = lambda: datetime.now(timezone.utc)
    fake.slow_seconds = 0.05
    env = worker_env(database_url, fake, WORKER_POLL_SECONDS=0.1, WORKER_BATCH=10)
    proc = start_worker(env)  # forever
    try:
        # It is already polling an empty queue; texts queued now are picked up by the next poll.
        queue_many(app, 60, phones=6, due_at=datetime.now(timezone.utc))
        wait_for(lambda: len(fake.created()) >= 15, 30, "the worker to start sending")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "worker stopped" in err and "worker: claimed" in out

    # Stopped between texts: nothing is left in doubt or leased.
    with app.extensions["db_sessionmaker"]() as sess:
        pending = sess.scalar(sa.select(sa.func.count()).select_from(OutboundAttempt)
                              .where(OutboundAttempt.outcome.in_(("pending", "unknown"))))
    assert pending == 0
    assert set(statuses(app)) <= {"sent", "queued"} and statuses(app).get("queued", 0) > 0

    rest = start_worker(env, "--drain")
    out, err = rest.communicate(timeout=60)
    assert rest.returncode == 0, err
    assert fake.lookups == []  # nothing needed reconciling
    assert statuses(app) == {"sent": 60}
    assert set(Counter(row_ids_seen(fake)).values()) == {1}
