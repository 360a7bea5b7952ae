"""Pooled PostgreSQL connections (service/db.py): one the server ended while it sat in the pool is
replaced before a webhook gets it, and a healthy one is reused, not reopened per request."""

from __future__ import annotations

import select

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from service.db import make_engine
from tests.conftest import require

ALICE = "+14155550101"


@pytest.mark.postgres
def test_server_ended_connections_are_replaced_and_healthy_ones_kept(app, twilio, database_url, is_postgres):
    require(is_postgres, "ending server connections needs PostgreSQL (TEST_DATABASE_URL)")
    sorry = app.extensions["line"].renderer.render_text("apology", "en")
    opened: list[int] = []  # the server process behind each connection the app opens
    event.listen(app.extensions["db_engine"], "connect",
                 lambda dbapi_conn, _record: opened.append(dbapi_conn.info.backend_pid))

    assert len(twilio.sms("hi", from_=ALICE).messages) == 2
    assert opened
    before = len(opened)
    for body in ["1", "MORE", "0", "2", "MORE", "0", "3", "MENU"]:
        reply = twilio.sms(body, from_=ALICE)
        assert reply.messages and reply.messages != [sorry], body
    assert len(opened) == before  # a pool in steady use opens nothing more

    # The server ends every one of them (what a restart, failover or idle timeout does), and
    # pg_terminate_backend's timeout waits until each process has exited.
    killer = sa.create_engine(database_url, poolclass=NullPool)
    try:
        with killer.connect() as conn:
            ended = [conn.scalar(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
                     for pid in opened]
    finally:
        killer.dispose()
    assert ended == [True] * before

    reply = twilio.sms("MENU", from_=ALICE)
    assert reply.messages and reply.messages != [sorry]  # answered on a new connection
    assert len(opened) == before + 1
    assert len(twilio.sms("1", from_=ALICE).messages) == 1
    assert len(opened) == before + 1


@pytest.mark.postgres
def test_a_connection_with_something_unread_is_replaced_alone(database_url, is_postgres):
    """Any byte waiting on an idle pooled connection gets it replaced; the rest of the pool stays.
    A NOTIFY to a connection that LISTENs is such a byte, sent by a healthy server."""
    require(is_postgres, "LISTEN/NOTIFY needs PostgreSQL (TEST_DATABASE_URL)")
    engine = make_engine(database_url)
    opened: list[int] = []
    event.listen(engine, "connect", lambda dbapi_conn, _record: opened.append(dbapi_conn.info.backend_pid))
    try:
        held = [engine.connect() for _ in range(3)]  # three pooled connections
        listener = held[0].connection.dbapi_connection
        held[0].exec_driver_sql("LISTEN mbc_pool_test")
        held[0].commit()
        for conn in held:
            conn.close()
        assert len(opened) == 3

        notifier = sa.create_engine(database_url, poolclass=NullPool)
        try:
            with notifier.begin() as other:
                other.exec_driver_sql("NOTIFY mbc_pool_test")
        finally:
            notifier.dispose()
        # Wait for the notification to reach the listener's socket (the server sends it when
        # its backend next looks), not for a fixed time.
        ready, _, _ = select.select([listener.fileno()], [], [], 5)
        assert ready

        again = [engine.connect() for _ in range(3)]
        try:
            assert [c.exec_driver_sql("SELECT 1").scalar() for c in again] == [1, 1, 1]
        finally:
            for conn in again:
                conn.close()
        assert len(opened) == 4  # the listener was replaced; the two others were kept
    finally:
        engine.dispose()
