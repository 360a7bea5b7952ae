"""Fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL), the app, a
controllable clock and `twilio`, which signs and posts webhooks as Twilio does."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from service import create_app, migrate
from service.db import Base
from tests.support.clinics import Api, new_clinic, signed_in
from tests.support.twilio import TwilioEmulator

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://line.example.org"
IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI: CI must never pass by skipping PostgreSQL or browser tests."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """CI runs the suite twice, on SQLite then on PostgreSQL (.ci/run). Tests marked `postgres`
    test PostgreSQL-only behaviour, so the SQLite pass deselects them instead of skipping: CI
    still fails on any skip, and the PostgreSQL pass runs them (where `require` fails if the
    database is not PostgreSQL)."""
    if not IN_CI or os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    dropped = [item for item in items if item.get_closest_marker("postgres") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh database migrated to head, dropped at the end of the run."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    server = make_url(base)
    name = f"mbc_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        sa.create_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


class Clock:
    def __init__(self):
        self.current = datetime(2026, 11, 2, 17, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.current += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(autouse=True)
def _own_spool(tmp_path, monkeypatch):
    """Each test's apps keep texts received while the database is down in the test's own
    directory (service/spool.py), and replay them only when a test says so."""
    monkeypatch.setenv("INBOUND_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("SPOOL_RETRY_SECONDS", "3600")


@pytest.fixture
def app(database_url, clock):
    app = create_app({
        "APP_ENV": "test",
        "TESTING": True,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "SECRET_KEY": "test-secret",
    })
    app.extensions["clock"] = clock
    yield app
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


@pytest.fixture
def broken(monkeypatch):
    """The SMS webhook's database work fails (as in an outage: tests/resilience has real ones)
    until `broken.fixed()`; the webhook answers its fallback and spools the text."""
    import service.channels.sms as sms

    real = sms.answer_sms

    def fail(*args, **kwargs):
        raise sa.exc.OperationalError("BEGIN", {}, Exception("could not connect to server"))

    class Broken:
        def down(self):
            monkeypatch.setattr(sms, "answer_sms", fail)

        def fixed(self):
            monkeypatch.setattr(sms, "answer_sms", real)

    broken = Broken()
    broken.down()
    return broken


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def twilio(client):
    return TwilioEmulator(client=client, token=TOKEN, base_url=PUBLIC)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Reader:
    """Reads in short transactions: a test never holds a lock the webhook under test needs."""

    def __init__(self, sessionmaker):
        self._sessionmaker = sessionmaker

    def all(self, stmt) -> list:
        with self._sessionmaker() as sess, sess.begin():
            return list(sess.scalars(stmt))

    def one(self, stmt):
        rows = self.all(stmt)
        assert len(rows) == 1, rows
        return rows[0]

    def scalar(self, stmt):
        with self._sessionmaker() as sess, sess.begin():
            return sess.scalar(stmt)

    def count(self, model) -> int:
        return self.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def db(app):
    return Reader(app.extensions["db_sessionmaker"])


@pytest.fixture
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


# Clinics (tests/support/clinics.py), for the clinics', the API's and the portal's tests alike.

@pytest.fixture
def make_clinic(app):
    """make_clinic("North") -> ClinicAccess with a clinic-admin account and an API token."""
    return lambda name, role="clinic_admin", tz="America/New_York": new_clinic(app, name, role, tz)


@pytest.fixture
def portal_for(app):
    """portal_for(access) -> a portal client signed in as that clinic's staff account."""
    return lambda access: signed_in(app, access)


@pytest.fixture
def api_for(app):
    """api_for(access) -> an /api/v1 client with that clinic's token."""
    return lambda access: Api(app.test_client(), access.token)
