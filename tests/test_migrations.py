"""Migrations on PostgreSQL give up on a lock instead of queueing every query behind them
(migrations/env.py: SET LOCAL lock_timeout, half of service/db.py's WAIT_SECONDS)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from service import migrate
from tests.conftest import require


@pytest.fixture
def empty_postgres_database(is_postgres):
    """A database of its own (the session's is at head already), dropped afterwards."""
    require(is_postgres, "lock waits during a migration need PostgreSQL (TEST_DATABASE_URL)")
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"mbc_migrate_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_upgrade_that_cannot_get_its_lock_fails_and_changes_nothing(empty_postgres_database, monkeypatch):
    import service.db

    url = empty_postgres_database
    scripts = ScriptDirectory.from_config(migrate.alembic_config(url))
    head = scripts.get_revision(scripts.get_current_head())
    migrate.upgrade(url, head.down_revision)
    monkeypatch.setattr(service.db, "WAIT_SECONDS", 1)  # the migration waits 0.5 s at most

    holder = sa.create_engine(url)
    try:
        with holder.connect() as conn:
            # A long transaction reading the version table: the upgrade's last step (recording
            # the new version) needs a lock this one holds.
            conn.execute(sa.text("LOCK TABLE alembic_version IN SHARE MODE"))
            outcome: list[BaseException | None] = []

            def upgrade():
                try:
                    migrate.upgrade(url)
                    outcome.append(None)
                except BaseException as exc:  # noqa: BLE001 - the test inspects it
                    outcome.append(exc)

            # In a thread, so an upgrade waiting without bound fails this test instead of hanging it.
            thread = threading.Thread(target=upgrade, daemon=True)
            thread.start()
            thread.join(15)
            still_waiting = thread.is_alive()
            conn.rollback()
        thread.join(30)
        assert not still_waiting, "the upgrade waited for its lock without bound"
        assert isinstance(outcome[0], sa.exc.OperationalError) and "lock timeout" in str(outcome[0])
        assert version(url) == head.down_revision  # rolled back whole: DDL is transactional here

        migrate.upgrade(url)  # the lock gone, the retried release goes through
        assert version(url) == head.revision
    finally:
        holder.dispose()
