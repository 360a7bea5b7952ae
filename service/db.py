"""Database engine and sessions (plain SQLAlchemy 2, no Flask-SQLAlchemy magic).

One engine per app; one session per request, closed at teardown. The schema comes from Alembic
migrations (`flask --app service db upgrade`), never from create_all outside tests.
"""

from __future__ import annotations

import select
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


WAIT_SECONDS = 10  # longest a request waits for the database before it fails over


def make_engine(url: str, statement_timeout: float | None = None) -> sa.Engine:
    """The engine for a database URL. `statement_timeout` (seconds, PostgreSQL only): the longest
    one statement may run; the web process passes WAIT_SECONDS (service/wsgi.py)."""
    if url.startswith("sqlite"):
        # hide_parameters: SQL errors must not carry phone numbers or message bodies into logs.
        # Busy timeout: 10 s unless the URL says otherwise (sqlite:///f.db?timeout=5). Twilio
        # waits 15 s for a webhook; a request stuck behind a lock must fail over to the apology
        # (and the spool) before Twilio gives up and the text is lost.
        connect_args = {} if "timeout" in sa.engine.make_url(url).query else {"timeout": WAIT_SECONDS}
        engine = sa.create_engine(url, connect_args=connect_args, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite's own transaction handling defers BEGIN; we issue BEGIN IMMEDIATE
            # ourselves so two webhooks for one number serialize instead of deadlocking.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # Durability: with WAL, NORMAL syncs at checkpoints, not at every commit. A committed
            # webhook survives the process crashing (the WAL is in the OS cache); only an OS crash
            # or power cut can lose the last few commits, and never corrupts the file. SQLite is
            # for development and one-box trials; production runs PostgreSQL, which syncs every
            # commit (synchronous_commit stays on: a STOP we answered must not be forgotten).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Straight to the driver: through exec_driver_sql this cost about 4% of a text. Its
            # errors ("database is locked" after the busy timeout) are wrapped as SQLAlchemy's
            # would be, so callers that retry on OperationalError still recognise them.
            try:
                conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, exc) from exc

        return engine
    # connect_timeout and pool_timeout: the same 15 s budget. A server that drops packets instead
    # of refusing them would otherwise hold a webhook in TCP's own timeout (minutes).
    query = sa.engine.make_url(url).query
    connect_args = {} if "connect_timeout" in query else {"connect_timeout": WAIT_SECONDS}
    engine = sa.create_engine(url, pool_size=5, max_overflow=10, pool_timeout=WAIT_SECONDS,
                              connect_args=connect_args, hide_parameters=True)
    event.listen(engine, "checkout", _drop_if_server_hung_up)
    options = str(query.get("options", ""))
    settings = {}
    if "lock_timeout" not in options:
        # The same budget for a row lock: a text from a number whose row another transaction holds
        # (a hung request, a long clinic import) fails over to the apology and the spool after
        # 10 s instead of outliving Twilio's 15 s.
        settings["lock_timeout"] = int(WAIT_SECONDS * 1000)
    if statement_timeout and "statement_timeout" not in options:
        # And for a statement that runs (a stalled disk, a bad plan) rather than waits. Only where
        # the caller asks: the worker's and the CLI's jobs (a trials sync, an import) may run longer.
        settings["statement_timeout"] = int(statement_timeout * 1000)
    if settings:

        @event.listens_for(engine, "connect")
        def _timeouts(dbapi_conn, _record):
            # Set once per pooled connection (no per-request cost); a SET rather than a startup
            # option, which poolers may refuse.
            with dbapi_conn.cursor() as cur:
                for name, ms in settings.items():
                    cur.execute(f"SET {name} = {ms}")
            dbapi_conn.commit()

    return engine


def _drop_if_server_hung_up(dbapi_conn, _record, _proxy) -> None:
    """Before a pooled PostgreSQL connection is handed out: if the server closed it while it sat
    in the pool (a restart, a failover, pg_terminate_backend, an idle timeout), replace it.

    pool_pre_ping asks the server (SELECT 1): a round trip on every checkout, about 120 µs of a
    1,640 µs text here (docs/performance-notes.md, item 11). A server that closes a connection sends its FATAL message and a FIN, so the
    socket of an idle connection turns readable; asking the kernel costs a few µs (urllib3 checks
    its pooled HTTP connections the same way). An idle connection has nothing to read, so any
    readable byte means it is not fit to reuse. What this cannot see, a peer that vanished
    without a word, a SELECT 1 could not see quickly either: it would wait on TCP's retries.

    Only this connection is replaced (DisconnectionError), not the whole pool as a failed ping
    does: after a restart every pooled connection fails this check on its own checkout, and a
    connection that merely had something unexpected to read costs one reconnect, not five.
    """
    try:
        fd = dbapi_conn.fileno()
    except Exception as exc:  # the driver knows it is closed
        raise sa.exc.DisconnectionError("pooled connection is closed") from exc
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)  # POLLHUP and POLLERR come regardless
    if poller.poll(0):
        raise sa.exc.DisconnectionError("the server closed the pooled connection")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], app.config.get("DB_STATEMENT_TIMEOUT"))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def session() -> Session:
    """The current request's session."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(_exc=None) -> None:
    sess = g.pop("db_session", None)
    if sess is not None:
        sess.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """A session in one transaction: commit on success, roll back on any error."""
    sess = current_app.extensions["db_sessionmaker"]()
    try:
        with sess.begin():
            yield sess
    finally:
        sess.close()


def insert_once(model, key: str) -> dict[str, sa.Insert]:
    """INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id, per dialect name (the clause is
    dialect-specific): a row made once whoever races to make it; no row back means it existed."""
    return {name: insert(model).on_conflict_do_nothing(index_elements=[key]).returning(model.id)
            for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}


def is_postgres(sess: Session) -> bool:
    return sess.get_bind().dialect.name == "postgresql"


def one_of(column: sa.ColumnElement, values) -> sa.ColumnElement[bool]:
    """`column IN (values)` for a fixed set of constants in a prebuilt statement on a hot path.

    `column.in_(values)` is an "expanding" parameter: SQLAlchemy rewrites the cached SQL on every
    execution to fit the list (about 30 µs a text on the SMS path, docs/performance-notes.md).
    One plain parameter per value is compiled once with the statement and cached."""
    return sa.or_(*(column == value for value in values))
