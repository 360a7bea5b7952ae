"""OUTBOUND_DAILY_CAP_PER_NUMBER (service/messaging/caps.py): at most that many texts to one
number per local day; the rest wait for the next local day's sending window, never dropped and
never sent twice. TwiML replies (STOP, HELP, safety) are not outbound texts and are not capped."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from service.models import OutboundAttempt, OutboundMessage
from tests.support.outbound import (LA, NYC, app, drain, fake, message, queue, row_ids_seen,  # noqa: F401
                                    statuses, worker_config)

CAP = 10
# The test clock starts at 2026-11-02 17:00 UTC: 09:00 in Los Angeles (PST), the window's start.
TOMORROW_9AM_LA = datetime(2026, 11, 3, 17, 0, tzinfo=timezone.utc)


def queue_n(app, phone: str, n: int, prefix: str, **kw) -> list[int]:
    return [queue(app, phone, f"{prefix} {i}", key=f"{prefix}:{phone}:{i}", **kw) for i in range(n)]


def test_the_default_cap_is_ten(app):
    assert app.config["OUTBOUND_DAILY_CAP_PER_NUMBER"] == CAP


def test_over_the_cap_waits_for_the_next_local_day_and_is_sent_once(app, fake, clock):
    day1 = queue_n(app, LA, CAP + 5, "day1")
    drain(app)
    assert len(fake.created(LA)) == CAP
    waiting = [message(app, i) for i in day1[CAP:]]
    assert {m.status for m in waiting} == {"queued"} and {m.due_at for m in waiting} == {TOMORROW_9AM_LA}
    assert all(m.attempts == 0 for m in waiting)  # deferred, not tried
    clock.advance(hours=10)  # 19:00 in LA, still today: nothing more
    drain(app)
    assert len(fake.created(LA)) == CAP
    clock.current = TOMORROW_9AM_LA
    day2 = queue_n(app, LA, 8, "day2")
    drain(app)
    # Day two: the five from yesterday first (they were due first), then five new ones.
    assert len(fake.created(LA)) == 2 * CAP
    assert all(message(app, i).status == "sent" for i in day1)
    assert [message(app, i).status for i in day2] == ["sent"] * 5 + ["queued"] * 3
    clock.current = TOMORROW_9AM_LA + timedelta(days=1)
    drain(app)
    assert statuses(app) == {"sent": len(day1) + len(day2)}
    assert set(Counter(row_ids_seen(fake)).values()) == {1}  # not one text twice


def test_each_number_has_its_own_cap(app, fake):
    queue_n(app, LA, CAP + 1, "la")
    queue_n(app, NYC, CAP + 1, "ny")
    drain(app)
    assert len(fake.created(LA)) == CAP and len(fake.created(NYC)) == CAP
    assert statuses(app) == {"sent": 2 * CAP, "queued": 2}


def test_texts_a_caller_asked_for_wait_for_the_window_not_midnight(app, fake):
    queue_n(app, LA, CAP, "series")
    handoff = queue(app, LA, "the text you asked for", key="handoff", source="voice_handoff")
    drain(app)
    row = message(app, handoff)
    assert (row.status, row.due_at) == ("queued", TOMORROW_9AM_LA)


def test_texts_another_worker_is_sending_count(app, fake, clock):
    """Rows leased by another worker with an attempt under way count: two workers cannot both
    send the last text allowed today."""
    others = queue_n(app, LA, CAP, "elsewhere")
    now = clock()
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id.in_(others))
                     .values(status="sending", lease_token="other-worker", lease_until=now + timedelta(minutes=5),
                             attempts=1))
        sess.execute(sa.insert(OutboundAttempt), [
            {"message_id": i, "number": 1, "outcome": "pending", "started_at": now} for i in others])
    mine = queue(app, LA, "one more", key="one-more")
    drain(app)
    assert fake.created(LA) == [] and message(app, mine).status == "queued"


def test_attempts_that_never_reached_twilio_do_not_count(app, fake, clock):
    rejected = queue_n(app, LA, CAP, "rejected")
    now = clock()
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.id.in_(rejected)).values(status="failed", attempts=1))
        sess.execute(sa.insert(OutboundAttempt), [
            {"message_id": i, "number": 1, "outcome": "rejected", "started_at": now} for i in rejected])
    queue(app, LA, "fine", key="fine")
    drain(app)
    assert len(fake.created(LA)) == 1


def test_replies_are_not_capped(app, fake, twilio, db):
    queue_n(app, LA, CAP + 2, "series")
    drain(app)
    assert len(fake.created(LA)) == CAP
    assert "911" in twilio.sms("I have a fever", from_=LA).text
    stop = twilio.sms("STOP", from_=LA)
    assert len(stop.messages) == 1 and "START" in stop.text
    assert statuses(app) == {"sent": CAP, "cancelled": 2}  # STOP also cancels the deferred ones


@pytest.mark.parametrize("worker_config", [{"OUTBOUND_DAILY_CAP_PER_NUMBER": 0}])
def test_zero_turns_the_cap_off(app, fake, worker_config):
    queue_n(app, LA, CAP + 2, "many")
    drain(app)
    assert len(fake.created(LA)) == CAP + 2


@pytest.mark.postgres
@pytest.mark.parametrize("worker_config", [{"WORKER_BATCH": 2}])
def test_two_workers_at_once_stay_within_the_cap(app, fake, is_postgres, worker_config):
    """Both workers claim texts to the same number at the same time (SKIP LOCKED gives them
    different rows); the subscriber lock makes the second count the first one's attempts."""
    import threading

    from tests.conftest import require
    from tests.support.outbound import worker

    require(is_postgres, "concurrent claims need PostgreSQL (TEST_DATABASE_URL)")
    fake.slow_seconds = 0.02  # each send takes a moment: the workers overlap
    queue_n(app, LA, 3 * CAP, "busy")
    start = threading.Barrier(2)

    def run():
        with app.app_context():
            w = worker(app)
            start.wait(timeout=10)
            w.drain()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert len(fake.created(LA)) == CAP
    assert statuses(app) == {"sent": CAP, "queued": 2 * CAP}
