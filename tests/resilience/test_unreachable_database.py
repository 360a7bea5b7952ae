"""Bounded waits (service/db.py, WAIT_SECONDS): a PostgreSQL server that accepts TCP but never
answers (a hung host, packets black-holed after the handshake), or a number's row held locked by
another transaction, or a statement that runs too long, or SQLite's write lock held past the busy
timeout. The webhook must fail over to its apology and spool the text within Twilio's 15 s instead
of waiting on the network, the lock or the statement (connect_timeout, lock_timeout,
statement_timeout, the busy timeout)."""

from __future__ import annotations

import socket
import threading

import pytest
import sqlalchemy as sa

from service import create_app
from service.db import WAIT_SECONDS, make_engine
from tests.conftest import PUBLIC, TOKEN, _empty_tables, require
from tests.support.twilio import TwilioEmulator


def line_app(database_url: str, clock, **config):
    """The app as conftest's `app` builds it, on `database_url`, with `config` on top."""
    app = create_app({"APP_ENV": "test", "TESTING": True, "PUBLIC_BASE_URL": PUBLIC, "TWILIO_AUTH_TOKEN": TOKEN,
                      "SECRET_KEY": "test-secret", "DATABASE_URL": database_url, **config})
    app.extensions["clock"] = clock
    return app


def bodies_of(engine: sa.Engine, phone: str) -> list[str]:
    """The bodies stored for a number's texts, oldest first."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT m.body FROM inbound_messages m JOIN subscribers s ON s.id = m.subscriber_id "
            "WHERE s.phone = :phone ORDER BY m.id"), {"phone": phone}).scalars().all()


@pytest.fixture
def black_hole():
    """A listening socket that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_connects_are_bounded_by_default(black_hole, monkeypatch):
    """No connect_timeout in the URL: WAIT_SECONDS applies (shortened here so the test is quick)."""
    import service.db

    assert WAIT_SECONDS < 15  # Twilio's webhook timeout
    monkeypatch.setattr(service.db, "WAIT_SECONDS", 1)
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{black_hole}/x")
    with pytest.raises(sa.exc.OperationalError, match="timeout"):
        engine.connect()
    engine.dispose()


def test_a_hung_database_host_gets_the_apology_not_a_twilio_timeout(black_hole, clock):
    app = line_app(f"postgresql+psycopg://postgres@127.0.0.1:{black_hole}/x?connect_timeout=1", clock)
    twilio = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
    reply = twilio.sms("STOP", from_="+14155550191")
    assert reply.status == 200
    assert reply.messages == [app.extensions["line"].renderer.render_text("stop_confirm", "en")]
    assert app.extensions["spool"].pending() == 1  # kept for when the database answers again
    app.extensions["db_engine"].dispose()


def test_a_sqlite_writer_waiting_past_the_busy_timeout_gets_sqlalchemys_operational_error(tmp_path):
    """BEGIN IMMEDIATE goes straight to the driver (service/db.py); its "database is locked" must
    still arrive as sa.exc.OperationalError, which the spool's replay treats as "try later"."""
    import sqlite3

    from service.spool import _database_unavailable

    path = tmp_path / "locked.sqlite3"
    engine = make_engine(f"sqlite:///{path}?timeout=0.05")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked") as failed:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert _database_unavailable(failed.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with engine.begin() as conn:  # the lock gone, the same engine writes again
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert conn.exec_driver_sql("SELECT x FROM t").scalars().all() == [2]
    engine.dispose()


@pytest.mark.postgres
def test_a_text_whose_row_another_transaction_holds_fails_over_within_the_budget(
        database_url, is_postgres, clock, monkeypatch):
    """Another transaction holds the number's row (a hung request, a long import): the webhook's
    SELECT ... FOR UPDATE gives up after WAIT_SECONDS (lock_timeout), answers the apology, spools
    the text, and the replay records it once the lock is gone."""
    require(is_postgres, "row locks held by another transaction need PostgreSQL (TEST_DATABASE_URL)")
    import service.db
    from service.spool import replay

    monkeypatch.setattr(service.db, "WAIT_SECONDS", 1)
    app = line_app(database_url, clock)
    twilio = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
    phone = "+14155550192"
    holder = sa.create_engine(database_url)  # a plain engine: "the other transaction"
    try:
        assert twilio.sms("hi", from_=phone).status == 200  # the number's row exists
        with holder.connect() as conn:
            conn.execute(sa.text("SELECT id FROM subscribers WHERE phone = :phone FOR UPDATE"), {"phone": phone})
            answered = []
            # In a thread, so a wait without bound fails this test instead of hanging it.
            post = threading.Thread(target=lambda: answered.append(twilio.sms("2", from_=phone)), daemon=True)
            post.start()
            post.join(WAIT_SECONDS + 5)
            still_waiting = post.is_alive()
            conn.rollback()  # the lock goes; a webhook still waiting would now go on
        post.join(30)
        assert not still_waiting, "the webhook waited on the row lock past its budget"
        reply = answered[0]
        assert reply.status == 200
        assert reply.messages == [app.extensions["line"].renderer.render_text("apology", "en")]
        assert app.extensions["spool"].pending() == 1

        result = replay(app)
        assert (result.stored, app.extensions["spool"].pending()) == (1, 0)
        assert bodies_of(app.extensions["db_engine"], phone) == ["hi", "2"]
    finally:
        holder.dispose()
        _empty_tables(app.extensions["db_engine"])
        app.extensions["db_engine"].dispose()


@pytest.mark.postgres
def test_a_text_stuck_in_a_slow_statement_fails_over_within_the_budget(database_url, is_postgres, clock):
    """A statement that runs rather than waits (a stalled disk, a bad plan; here a trigger that
    sleeps): the web process's statement_timeout ends it, the webhook answers the apology and
    spools the text, and the replay records it once statements are quick again."""
    require(is_postgres, "statement_timeout needs PostgreSQL (TEST_DATABASE_URL)")
    from service.spool import replay

    app = line_app(database_url, clock, DB_STATEMENT_TIMEOUT=1)
    twilio = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
    engine = app.extensions["db_engine"]
    phone = "+14155550193"

    def make_inserts_slow(slow: bool) -> None:
        with engine.begin() as conn:
            if slow:  # 3 s: past the 1 s bound here, and quick enough that a failing test ends
                conn.exec_driver_sql("CREATE FUNCTION mbc_test_slow() RETURNS trigger LANGUAGE plpgsql AS "
                                     "$$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$")
                conn.exec_driver_sql("CREATE TRIGGER mbc_test_slow BEFORE INSERT ON inbound_messages "
                                     "FOR EACH ROW EXECUTE FUNCTION mbc_test_slow()")
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS mbc_test_slow ON inbound_messages")
                conn.exec_driver_sql("DROP FUNCTION IF EXISTS mbc_test_slow()")

    try:
        assert len(twilio.sms("hi", from_=phone).messages) == 2
        make_inserts_slow(True)
        reply = twilio.sms("2", from_=phone)
        assert reply.status == 200
        assert reply.messages == [app.extensions["line"].renderer.render_text("apology", "en")]
        assert app.extensions["spool"].pending() == 1

        make_inserts_slow(False)
        result = replay(app)
        assert (result.stored, app.extensions["spool"].pending()) == (1, 0)
        assert bodies_of(engine, phone) == ["hi", "2"]
    finally:
        make_inserts_slow(False)  # the database is shared by the whole run
        _empty_tables(engine)
        engine.dispose()


@pytest.mark.postgres
def test_only_the_web_process_bounds_statements(database_url, is_postgres, monkeypatch):
    """gunicorn's app (service/wsgi.py) bounds each statement; the app the worker and the CLI
    build does not (a trials sync or an import may run longer). Both bound lock waits."""
    require(is_postgres, "statement_timeout needs PostgreSQL (TEST_DATABASE_URL)")
    import importlib
    import sys

    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delitem(sys.modules, "service.wsgi", raising=False)
    web = importlib.import_module("service.wsgi").app
    monkeypatch.delitem(sys.modules, "service.wsgi")
    other = create_app()
    for app, bound in ((web, f"{WAIT_SECONDS}s"), (other, "0")):
        engine = app.extensions["db_engine"]
        try:
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == bound
                assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == f"{WAIT_SECONDS}s"
        finally:
            engine.dispose()
