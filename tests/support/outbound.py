"""Fixtures and helpers for the outbound worker tests: the fake Twilio REST API on a free port,
an app that sends through it with the real `twilio` library, and queue helpers.

Test modules import the fixtures they use (`from tests.support.outbound import app, fake`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from service import create_app
from service.models import OutboundAttempt, OutboundMessage, Subscriber
from service.subscribers import SubscriberSnapshot
from tests.conftest import PUBLIC, TOKEN, _empty_tables
from tests.fake_twilio import FakeTwilio
from tests.support.twilio import ACCOUNT_SID

ROOT = Path(__file__).resolve().parents[2]
FROM = "+18005550199"
LA = "+14155550100"  # America/Los_Angeles
NYC = "+12125550100"  # America/New_York

WORKER_CONFIG = {
    "APP_ENV": "test",
    "TESTING": True,
    "PUBLIC_BASE_URL": PUBLIC,
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": TOKEN,
    "TWILIO_FROM_NUMBER": FROM,
    "SECRET_KEY": "test-secret",
    "SMS_BACKEND": "twilio",
    "SEND_TIMEOUT_SECONDS": 1,
    "LEASE_SECONDS": 30,
    "SEND_RETRY_SECONDS": 30,
    "SEND_MAX_ATTEMPTS": 4,
    "WORKER_BATCH": 20,
}


@pytest.fixture
def fake(clock):
    """The fake Twilio REST API; its message timestamps follow the test clock."""
    with FakeTwilio(ACCOUNT_SID, TOKEN, clock=clock) as server:
        yield server


@pytest.fixture
def worker_config():
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
def app(database_url, clock, fake, worker_config):
    """Replaces conftest's `app`: the same, plus sending through the fake Twilio."""
    app = create_app({**WORKER_CONFIG, "DATABASE_URL": database_url,
                      "TWILIO_API_BASE_URL": fake.base_url, **worker_config})
    app.extensions["clock"] = clock
    yield app
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


def worker(app, **kw):
    from service.worker import Worker

    return Worker(app, **kw)


def drain(app, **kw):
    with app.app_context():
        return worker(app, **kw).drain()


def subscriber(app, phone: str, status: str = "active", locale: str = "en") -> int:
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == phone)).one_or_none()
        if sub is None:
            sub = Subscriber(phone=phone, locale=locale, status=status)
            sess.add(sub)
            sess.flush()
        return sub.id


def queue(app, phone: str, body: str, key: str | None = None, *, due_at: datetime | None = None,
          source: str = "enrollment", send_timezone: str | None = None) -> int:
    """Queue one text for `phone` (its subscriber is created, active) and return the row id."""
    from service.outbound import enqueue

    subscriber(app, phone)
    now = app.extensions["clock"]()
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == phone)).one()
        row = enqueue(sess, SubscriberSnapshot.of(sub), body, dedupe_key=key or f"test:{body}", source=source,
                      now=now, due_at=due_at)
        assert row is not None
        row.send_timezone = send_timezone
        sess.flush()
        return row.id


def queue_many(app, count: int, *, phones: int = 50, due_at: datetime | None = None, prefix: str = "bulk") -> None:
    """`count` due texts spread over `phones` numbers, bodies and keys "<prefix> <i>", in bulk."""
    now = app.extensions["clock"]()
    due = due_at or now
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.execute(sa.insert(Subscriber), [
            {"phone": f"+1415555{i:04d}", "locale": "en", "status": "active", "menu_node": "main", "menu_page": 0,
             "created_at": now, "updated_at": now} for i in range(phones)])
        ids = dict(sess.execute(sa.select(Subscriber.phone, Subscriber.id)).all())
        sess.execute(sa.insert(OutboundMessage), [
            {"dedupe_key": f"{prefix}:{i}", "subscriber_id": ids[f"+1415555{i % phones:04d}"],
             "phone": f"+1415555{i % phones:04d}", "locale": "en", "body": f"{prefix} {i}", "source": "test",
             "status": "queued", "due_at": due, "attempts": 0, "created_at": now, "updated_at": now}
            for i in range(count)])


def message(app, row_id: int) -> OutboundMessage:
    with app.extensions["db_sessionmaker"]() as sess:
        return sess.get(OutboundMessage, row_id)


def attempts(app, row_id: int) -> list[OutboundAttempt]:
    with app.extensions["db_sessionmaker"]() as sess:
        return list(sess.scalars(sa.select(OutboundAttempt).where(OutboundAttempt.message_id == row_id)
                                 .order_by(OutboundAttempt.number)))


def statuses(app) -> dict[str, int]:
    with app.extensions["db_sessionmaker"]() as sess:
        return dict(sess.execute(sa.select(OutboundMessage.status, sa.func.count())
                                 .group_by(OutboundMessage.status)).all())


def callback_params(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def row_ids_seen(fake: FakeTwilio) -> list[int]:
    """The outbound row id of every message the fake accepted (from its StatusCallback URL)."""
    return [int(callback_params(m["_status_callback"])["o"]) for m in fake.created()]


# --- worker processes -------------------------------------------------------------------------


def worker_env(database_url: str, fake: FakeTwilio, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SEND_", "WORKER_", "LEASE_"))}
    env.update({
        "APP_ENV": "test", "DATABASE_URL": database_url, "SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": fake.base_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM, "PUBLIC_BASE_URL": PUBLIC, "SECRET_KEY": "test-secret",
        # Real time in a subprocess: no daytime window, or a run at night would defer everything.
        "SEND_WINDOW_START": "00:00", "SEND_WINDOW_END": "24:00", "PYTHONPATH": str(ROOT),
        "LOG_FORMAT": "text",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "service", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout: float, what: str, interval: float = 0.02):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def ago(clock, **delta) -> datetime:
    return clock() - timedelta(**delta)
