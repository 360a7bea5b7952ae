"""The database goes away during traffic and comes back; the same app object carries on.

On PostgreSQL a TCP proxy (tests/support/tcp_proxy.py) sits between the app and the server:
"down" cuts every connection and refuses new ones, as a stopped server does; "up" accepts again.
On SQLite, which has no server to stop, "down" is another connection holding the write lock
(a backup, a stuck migration) past the app's busy timeout, which the URL sets to 0.25 s here.
Either way every statement fails with OperationalError until "up".
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
from collections import Counter
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from service import create_app
from service.engine import Reply
from service.messaging import sender_for
from service.spool import replay
from service.models import ConsentEvent, InboundMessage, Subscriber
from service.worker import Worker
from tests.conftest import PUBLIC, TOKEN, _empty_tables, require
from tests.support.outbound import (WORKER_CONFIG, fake, queue, queue_many, row_ids_seen, statuses,  # noqa: F401
                                    wait_for)
from tests.support.senders import AfterSend
from tests.support.tcp_proxy import TcpProxy
from tests.support.twilio import TwilioEmulator, new_sid
from tests.support.voice_caller import Call

ALICE, BEATRIZ, CARMEN = "+14155550101", "+14155550102", "+14155550103"
SQLITE_BUSY_TIMEOUT = 0.25
WORKER_CONFIG_BATCH = 4  # the app fixture's WORKER_BATCH


class PostgresStopped:
    what = "PostgreSQL stopped (every connection cut, new ones refused)"

    def __init__(self, database_url: str):
        server = make_url(database_url)
        self.proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
        self.proxy.start()
        self.url = server.set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)

    @property
    def is_down(self) -> bool:
        return not self.proxy.running

    def down(self) -> None:
        self.proxy.stop()

    def up(self) -> None:
        self.proxy.start()

    def close(self) -> None:
        self.proxy.stop()


class SqliteLocked:
    what = "SQLite write-locked by another connection past the busy timeout"

    def __init__(self, database_url: str):
        self.path = make_url(database_url).database
        self.url = f"{database_url}?timeout={SQLITE_BUSY_TIMEOUT}"
        self._holder: sqlite3.Connection | None = None

    @property
    def is_down(self) -> bool:
        return self._holder is not None

    def down(self) -> None:
        # check_same_thread=False: a test may take the database down from the worker's thread.
        holder = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        self._holder = holder

    def up(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()

    def close(self) -> None:
        self.up()


@pytest.fixture
def outage(database_url, is_postgres):
    db = PostgresStopped(database_url) if is_postgres else SqliteLocked(database_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def app(outage, clock, fake):  # noqa: F811 - replaces conftest's app: the database behind `outage`
    app = create_app({**WORKER_CONFIG, "DATABASE_URL": outage.url, "TWILIO_API_BASE_URL": fake.base_url,
                      "FLOOD_LIMIT": 0, "WORKER_POLL_SECONDS": 0.05, "WORKER_BATCH": WORKER_CONFIG_BATCH,
                      "LEASE_SECONDS": 2, "SEND_TIMEOUT_SECONDS": 1,
                      "SEND_WINDOW_START": "00:00", "SEND_WINDOW_END": "24:00"})
    app.extensions["clock"] = clock
    yield app
    if outage.is_down:
        outage.up()  # a failed test must not leave the next one without a database
    _empty_tables(app.extensions["db_engine"])
    app.extensions["db_engine"].dispose()


def apology(app, locale: str = "en") -> str:
    return app.extensions["line"].renderer.render_text("apology", locale)


def status_params(sid: str) -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered", "SmsStatus": "delivered",
            "AccountSid": "AC" + "1" * 32, "To": ALICE, "From": "+18005550199", "ApiVersion": "2010-04-01"}


def test_webhooks_apologise_while_down_and_every_text_is_recorded_after(app, client, twilio, outage, db):
    sorry = apology(app)
    hello = new_sid("SM")
    assert len(twilio.sms("hi", from_=ALICE, sid=hello).messages) == 2  # welcome, menu
    assert client.get("/healthz").status_code == 200

    topic, hola = new_sid("SM"), new_sid("SM")
    call = Call(twilio, ALICE)
    outage.down()
    try:
        during = twilio.sms("2", from_=ALICE, sid=topic)
        assert during.status == 200 and during.content_type.startswith("application/xml")
        assert during.messages == [sorry]
        # A new number greeting in Spanish hears the apology in Spanish.
        assert twilio.sms("hola", from_=BEATRIZ, sid=hola).messages == [apology(app, "es")]

        heard = call.start()
        assert call.responses[-1].status == 200
        root = call.responses[-1].root
        assert [el.tag for el in root] == ["Say", "Hangup"], call.responses[-1].raw
        assert heard[0].text == app.extensions["voice"].renderer.line("en", "voice_apology").text
        assert call.ended

        assert twilio.post("/twilio/status", status_params("SM" + "5" * 32)).status == 204
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
        # Both texts wait on disk; replaying while the database is down keeps them there.
        assert app.extensions["spool"].pending() == 2
        with pytest.raises(sa.exc.OperationalError):
            replay(app)
        assert app.extensions["spool"].pending() == 2
    finally:
        outage.up()

    # Back: the same app object, no restart. Twilio does not redeliver a message it had a 200
    # for; the spool records both (service/spool.py), once.
    assert client.get("/healthz").status_code == 200
    result = replay(app)
    assert (result.stored, result.already, result.left) == (2, 0, 0)
    assert app.extensions["spool"].pending() == 0 and replay(app).stored == 0
    # A repeat of that sid (Twilio's fallback URL, say) gets the answer that was given.
    assert twilio.sms("2", from_=ALICE, sid=topic).messages == [sorry]
    # The menu position was left alone: asked again, the topic comes; BEATRIZ is still new.
    assert twilio.sms("2", from_=ALICE).messages[0].startswith("Hormone therapy")
    welcome = twilio.sms("hola", from_=BEATRIZ).messages
    assert "911" in welcome[0] and "1 Cómo se elige" in welcome[-1]  # es: welcome, menu
    again = Call(twilio, ALICE, sid=call.sid)
    again.start()
    assert again.gather is not None and not again.ended  # the language or main menu, waiting for a key

    rows = Counter(db.all(sa.select(InboundMessage.sid)))
    assert rows[hello] == rows[topic] == rows[hola] == 1 and sum(rows.values()) == 5  # none lost, none doubled
    answered = db.one(sa.select(InboundMessage.response).where(InboundMessage.sid == topic))
    assert json.loads(answered) == [sorry]  # the log shows what the person was told
    subs = {s.phone: s for s in db.all(sa.select(Subscriber))}
    assert set(subs) == {ALICE, BEATRIZ} and subs[ALICE].menu_topic == "hormone"
    events = [(e.subscriber_id, e.kind) for e in db.all(sa.select(ConsentEvent))]
    assert sorted(events) == sorted([(subs[ALICE].id, "opt_in"), (subs[BEATRIZ].id, "opt_in")])


def text(app, key: str, locale: str = "en") -> str:
    return app.extensions["line"].renderer.render_text(key, locale)


def safety(app, kind: str, locale: str = "en", seen_by: str = "nobody") -> str:
    return app.extensions["line"].renderer.render(Reply("safety", key=kind, params=(("seen_by", seen_by),)), locale)


def test_stop_and_red_flags_during_an_outage_are_answered_and_kept(app, twilio, outage, db):
    """Opt-out always works and red flags always get the safety reply, database or not; the
    person's language and opt-out are remembered from this process's last answer."""
    twilio.sms("hi", from_=ALICE)
    twilio.sms("hola", from_=BEATRIZ)  # Spanish from her first text
    twilio.sms("STOP", from_=CARMEN)  # opted out before the outage
    follow_up = queue(app, ALICE, "Day 3: side effects to report")
    outage.down()
    try:
        assert twilio.sms("STOP", from_=ALICE).messages == [text(app, "stop_confirm")]
        for body in ("MENU", "I have a fever", "STOP"):  # opted out: silence, as when the database is up
            assert twilio.sms(body, from_=ALICE).messages == [], body
        assert twilio.sms("2", from_=BEATRIZ).messages == [text(app, "apology", "es")]
        assert twilio.sms("tengo fiebre", from_=BEATRIZ).messages == [safety(app, "urgent", "es"),
                                                                       text(app, "apology", "es")]
        # Right after a safety reply a "yes" is not consent, outage or not: the reply again.
        assert twilio.sms("sí", from_=BEATRIZ).messages == [safety(app, "urgent", "es"),
                                                             text(app, "apology", "es")]
        assert twilio.sms("MENU", from_=CARMEN).messages == []
    finally:
        outage.up()

    assert replay(app).stored == 8
    subs = {s.phone: s for s in db.all(sa.select(Subscriber))}
    assert subs[ALICE].status == "opted_out" and subs[BEATRIZ].status == "active"
    assert subs[BEATRIZ].locale == "es" and subs[BEATRIZ].menu_topic is None  # "2" changed no menu
    stops = db.all(sa.select(ConsentEvent).where(ConsentEvent.subscriber_id == subs[ALICE].id,
                                                  ConsentEvent.kind == "opt_out"))
    assert [(e.source, e.detail) for e in stops] == [("sms_keyword", "stop")]  # once, though STOP came twice
    assert statuses(app) == {"cancelled": 1}, follow_up  # the pending follow-up never goes out
    flags = db.all(sa.select(InboundMessage.red_flag_class).where(InboundMessage.subscriber_id == subs[BEATRIZ].id,
                                                                    InboundMessage.red_flag.is_not(None)))
    assert flags == ["urgent"]
    assert subs[BEATRIZ].safety == "urgent"  # the replay keeps the safety window too
    # After the outage the line behaves as if it had been up: ALICE is silent until START.
    assert twilio.sms("MENU", from_=ALICE).messages == []
    assert twilio.sms("START", from_=ALICE).messages[0] == text(app, "start_confirm")


def test_worker_survives_the_outage_and_sends_each_text_once(app, fake, outage):
    real = lambda: datetime.now(timezone.utc)  # noqa: E731 - leases must expire in real time
    app.extensions["clock"] = fake.clock = real
    total = 12
    queue_many(app, total, phones=4, due_at=real())
    stop = threading.Event()
    outage_started = threading.Event()

    def lose_the_database(_to, _url, _result):
        # The first call reached Twilio; the database goes away before its outcome is recorded.
        if not outage_started.is_set():
            outage_started.set()
            outage.down()

    worker = Worker(app, stop=stop, sender=AfterSend(sender_for(app), lose_the_database))
    thread = threading.Thread(target=worker.run_forever, name="worker", daemon=True)
    thread.start()
    try:
        wait_for(outage_started.is_set, 10, "the worker's first call to Twilio")
        wait_for(lambda: worker.errors >= 3, 10, "the worker to fail a few passes while the database is down")
        assert thread.is_alive()
        # Its first chunk reached Twilio (the REST calls need no database); nothing after it did.
        assert len(fake.created()) == WORKER_CONFIG_BATCH
        outage.up()
        wait_for(lambda: statuses(app) == {"sent": total}, 20, f"all {total} texts sent after the outage")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    seen = Counter(row_ids_seen(fake))
    assert len(seen) == total and set(seen.values()) == {1}, seen  # every text exactly once
    # The chunk whose outcome was lost was looked up at Twilio, not sent again.
    assert worker.stats.reconciled == WORKER_CONFIG_BATCH


@pytest.mark.postgres
def test_connections_cut_in_the_middle_of_traffic(app, outage, is_postgres, db):
    """Four numbers text nonstop while PostgreSQL stops and starts: requests in flight fail over
    to the apology, the pool's dead connections are replaced (service/db.py), and redelivering
    every message leaves each exactly once."""
    require(is_postgres, "stopping the server needs PostgreSQL (TEST_DATABASE_URL)")
    sorry = apology(app)
    phones = [f"+1415555020{i}" for i in range(4)]
    results: list[tuple[int, str, str, str, object]] = []  # (seq, phone, sid, body, reply), as answered
    lock = threading.Lock()
    done = threading.Event()
    seq = itertools.count()

    def texting(phone: str) -> None:
        emulator = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
        for body in itertools.cycle(["MENU", "2", "1", "MORE", "0"]):
            if done.is_set():
                return
            sid = new_sid("SM")
            reply = emulator.sms(body, from_=phone, sid=sid)
            with lock:
                results.append((next(seq), phone, sid, body, reply))

    def apologised(reply) -> bool:
        assert reply.status == 200, reply.raw
        return reply.messages == [sorry]

    def count(since: int, want_apology: bool) -> int:
        with lock:
            return sum(1 for r in results[since:] if apologised(r[4]) == want_apology)

    threads = [threading.Thread(target=texting, args=(p,), daemon=True) for p in phones]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: count(0, False) >= 8, 20, "answers before the outage")
        outage.down()
        with lock:
            went_down = len(results)
        wait_for(lambda: count(went_down, True) >= 8, 20, "apologies during the outage")
        outage.up()
        with lock:
            came_back = len(results)
        wait_for(lambda: count(came_back, False) >= 12, 20, "answers after the outage")
    finally:
        done.set()
        for t in threads:
            t.join(20)
    assert not any(t.is_alive() for t in threads)

    # Per number, once an answer came after the restart, no apology follows it.
    for phone in phones:
        after = [apologised(r[4]) for r in results[came_back:] if r[1] == phone]
        assert False in after, phone
        assert True not in after[after.index(False):], (phone, after)

    # Every text that got the apology waited on disk; replayed now, each is recorded once. Most
    # get the apology as their stored answer; a text whose COMMIT reached the server just as the
    # connection was cut was stored already, with the answer the person never saw. Each number
    # has at most one text in flight when the cut comes, so at most one such text per number.
    failed = [(phone, sid, body, reply) for _, phone, sid, body, reply in results if apologised(reply)]
    assert failed
    result = replay(app)
    assert result.stored + result.already == len(failed) and result.left == 0
    assert result.already <= len(phones)
    emulator = TwilioEmulator(client=app.test_client(), token=TOKEN, base_url=PUBLIC)
    repeats = [emulator.sms(body, from_=phone, sid=sid) for phone, sid, body, _ in failed]
    assert sum(1 for r in repeats if apologised(r)) == result.stored  # a repeat gets the answer on record
    for _, phone, sid, body, reply in results[:10]:
        assert emulator.sms(body, from_=phone, sid=sid).raw == reply.raw

    stored = Counter(db.all(sa.select(InboundMessage.sid)))
    assert stored == Counter(sid for _, _, sid, _, _ in results)  # each message once: none lost, none doubled
    assert db.count(Subscriber) == 4
    assert sorted(db.all(sa.select(ConsentEvent.kind))) == ["opt_in"] * 4


@pytest.mark.postgres
def test_first_requests_after_a_restart_while_idle_are_answered(app, client, twilio, outage, is_postgres):
    """PostgreSQL restarts at night while no request comes: every pooled connection is dead. The
    morning's first webhook must not get one of them (service/db.py replaces it first)."""
    require(is_postgres, "restarting the server needs PostgreSQL (TEST_DATABASE_URL)")
    sorry = apology(app)
    assert len(twilio.sms("hi", from_=ALICE).messages) == 2
    Call(twilio, ALICE).start()
    pooled = app.extensions["db_engine"].pool.checkedin()
    assert pooled >= 1
    outage.down()
    outage.up()
    assert twilio.sms("MENU", from_=ALICE).messages != [sorry]
    call = Call(twilio, ALICE)
    call.start()
    assert call.gather is not None and not call.ended
    assert client.get("/healthz").status_code == 200
    assert outage.proxy.accepted > pooled  # the dead connections were replaced, not reused
