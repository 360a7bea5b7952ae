"""A worker that dies between the REST call and its commit does not cause a second send: the
attempt was committed first, and whoever reclaims the row looks the message up at Twilio."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from service.models import OutboundAttempt, OutboundMessage
from tests.support.outbound import (LA, NYC, app, attempts, drain, fake, message, queue, queue_many,  # noqa: F401
                                    row_ids_seen, start_worker, statuses, wait_for, worker_env)


class Died(BaseException):
    """Stands in for the process dying: nothing after it runs, no cleanup is attempted."""


def test_died_after_twilio_accepted_is_reconciled_not_resent(app, fake, clock, monkeypatch):
    from service import worker as worker_mod

    ids = [queue(app, LA if i % 2 else NYC, f"text {i}") for i in range(5)]

    def die(self, token, chunk):
        raise Died

    monkeypatch.setattr(worker_mod.Worker, "_record", die)
    with pytest.raises(Died):
        drain(app)
    monkeypatch.undo()
    assert len(fake.created()) == 5
    assert statuses(app) == {"sending": 5}
    assert {a.outcome for i in ids for a in attempts(app, i)} == {"pending"}

    assert drain(app).claimed == 0  # the lease still holds
    clock.advance(seconds=31)  # LEASE_SECONDS is 30
    stats = drain(app)
    assert (stats.reconciled, stats.sent) == (5, 0)
    assert len(fake.created()) == 5
    by_body = {m["body"]: m["sid"] for m in fake.created()}
    for i in ids:
        row = message(app, i)
        assert row.status == "sent" and row.twilio_sid == by_body[row.body]
        assert [a.outcome for a in attempts(app, i)] == ["found"]


def test_died_before_the_call_is_sent_after_the_lease(app, fake, clock, monkeypatch):
    from service import worker as worker_mod

    row_id = queue(app, LA, "never left")

    def die(self, job):
        raise Died

    monkeypatch.setattr(worker_mod.Worker, "_call", die)
    with pytest.raises(Died):
        drain(app)
    monkeypatch.undo()
    assert [a.outcome for a in attempts(app, row_id)] == ["pending"] and fake.requests == []
    clock.advance(seconds=31)
    assert drain(app).sent == 1
    assert [a.outcome for a in attempts(app, row_id)] == ["lost", "accepted"]
    assert len(fake.created()) == 1


@pytest.fixture
def worker_config():
    return {"LEASE_SECONDS": 2, "SEND_TIMEOUT_SECONDS": 1}


def _leases_expired(app) -> bool:
    now = datetime.now(timezone.utc)
    with app.extensions["db_sessionmaker"]() as sess:
        live = sess.scalar(sa.select(sa.func.count()).select_from(OutboundMessage)
                           .where(OutboundMessage.status == "sending", OutboundMessage.lease_until >= now))
    return live == 0


@pytest.mark.slow
def test_sigkill_mid_batch_then_the_rest_is_sent_exactly_once(app, fake, database_url):
    total = 40
    queue_many(app, total, phones=8, due_at=datetime.now(timezone.utc))
    fake.clock = lambda: datetime.now(timezone.utc)  # the worker processes run on real time
    fake.slow_seconds = 0.2  # each create is stored at once, answered 0.2 s later
    env = worker_env(database_url, fake, LEASE_SECONDS=2, SEND_TIMEOUT_SECONDS=1, WORKER_BATCH=10)
    victim = start_worker(env, "--drain")
    try:
        wait_for(lambda: len(fake.created()) >= 5, 30, "the first worker to reach Twilio")
        victim.send_signal(signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.communicate(timeout=10)
    assert victim.returncode == -signal.SIGKILL
    fake.slow_seconds = 0
    reached = {m["sid"] for m in fake.created()}
    with app.extensions["db_sessionmaker"]() as sess:
        pending = sess.scalar(sa.select(sa.func.count()).select_from(OutboundAttempt)
                              .where(OutboundAttempt.outcome == "pending"))
    assert pending >= 5  # its chunk was in flight: none of those results were committed
    assert statuses(app).get("sent", 0) < total

    wait_for(lambda: _leases_expired(app), 15, "the dead worker's leases to expire")
    rescuer = start_worker(env, "--drain")
    out, err = rescuer.communicate(timeout=60)
    assert rescuer.returncode == 0, err

    seen = Counter(row_ids_seen(fake))
    with app.extensions["db_sessionmaker"]() as sess:
        all_ids = set(sess.scalars(sa.select(OutboundMessage.id)))
        found = set(sess.scalars(sa.select(OutboundAttempt.twilio_sid).where(OutboundAttempt.outcome == "found")))
    assert set(seen) == all_ids and set(seen.values()) == {1}, seen  # every text once, none skipped
    assert statuses(app) == {"sent": total}
    assert found and found <= reached  # the in-flight ones were found at Twilio, not re-sent


def test_fake_sender_models_a_lost_answer_too(app, clock):
    """The in-memory FakeSender (SMS_BACKEND=fake) supports the same reconcile path."""
    from service.messaging import UNKNOWN, SendError
    from service.messaging.fake import FakeSender

    sender = FakeSender(clock=clock)
    lost = SendError(UNKNOWN, "timeout")
    lost.reached = True  # stored, then the answer is lost
    sender.fail_next.append(lost)
    app.extensions["sms_sender"] = sender
    row_id = queue(app, LA, "fake backend")
    drain(app)
    assert [a.outcome for a in attempts(app, row_id)] == ["unknown"]
    clock.current = message(app, row_id).due_at
    assert drain(app).reconciled == 1
    assert sender.bodies_to(LA) == ["fake backend"] and message(app, row_id).twilio_sid == sender.sent[0].sid
