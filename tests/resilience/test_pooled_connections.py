"""Pooled PostgreSQL connections (service/db.py): one the server ended while it sat in the pool is
replaced before a webhook gets it, and a healthy one is reused, not reopened per request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

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
