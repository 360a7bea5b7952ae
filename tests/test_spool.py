"""service/spool.py: texts received while the database is down wait on disk, each recorded once.

tests/resilience/test_database_outage.py drives the spool through real outages; here are the
file format's guarantees (concurrent writers and replayers, failures mid-replay, a replayer that
died) and the ways it is replayed (background thread, worker, CLI) and watched (/metrics).
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from service.models import InboundMessage, Subscriber
from service.spool import CLAIMED, Spool, replay
from tests.support.twilio import new_sid


def records(n: int, prefix: str = "r") -> list[dict]:
    return [{"sid": f"{prefix}{i}", "n": i} for i in range(n)]


def test_records_are_replayed_in_order_and_the_file_is_removed(tmp_path):
    spool = Spool(tmp_path)
    for record in records(5):
        spool.append(record)
    assert spool.pending() == 5
    seen = []
    result = spool.replay(lambda r: seen.append(r["n"]) or True)
    assert seen == [0, 1, 2, 3, 4] and (result.stored, result.already, result.left) == (5, 0, 0)
    assert spool.pending() == 0 and list(tmp_path.iterdir()) == []


def test_a_failure_mid_replay_keeps_the_file_and_a_second_replay_finishes_it(tmp_path):
    spool = Spool(tmp_path)
    for record in records(6):
        spool.append(record)
    stored: set[str] = set()

    def flaky(record):
        if record["n"] == 3 and "down" not in stored:
            stored.add("down")
            raise ConnectionError("database went away")
        if record["sid"] in stored:
            return False
        stored.add(record["sid"])
        return True

    with pytest.raises(ConnectionError):
        spool.replay(flaky)
    assert spool.pending() == 6  # nothing removed: the file went back whole
    result = spool.replay(flaky)
    assert (result.stored, result.already) == (3, 3)  # the first three were stored already
    assert spool.pending() == 0


def test_a_claimed_file_whose_replayer_died_is_taken_over(tmp_path):
    spool = Spool(tmp_path)
    for record in records(3):
        spool.append(record)
    (own,) = list(tmp_path.iterdir())
    os.rename(own, tmp_path / f"host-1.dead{CLAIMED}")  # renamed, then the process died: no lock held
    seen = []
    spool.replay(lambda r: seen.append(r["sid"]) or True)
    assert seen == ["r0", "r1", "r2"] and spool.pending() == 0


def test_writers_and_replayers_at_once_lose_and_double_nothing(tmp_path):
    """Four writer threads (each its own Spool, as separate processes would be) append while two
    replayers run: every record is handed over exactly once."""
    writers, per_writer = 4, 150
    seen: list[str] = []
    lock = threading.Lock()
    writing_done = threading.Event()

    def write(w: int) -> None:
        spool = Spool(tmp_path)
        spool._own_file = lambda: tmp_path / f"writer-{w}.jsonl"  # one file per "process"
        for record in records(per_writer, prefix=f"w{w}-"):
            spool.append(record)

    def store(record) -> bool:
        with lock:
            seen.append(record["sid"])
        return True

    def replayer() -> None:
        spool = Spool(tmp_path)
        while not writing_done.is_set() or spool.pending():
            spool.replay(store)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    readers = [threading.Thread(target=replayer) for _ in range(2)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join(30)
    writing_done.set()
    for t in readers:
        t.join(30)
    assert not any(t.is_alive() for t in threads + readers)
    counts = Counter(seen)
    assert len(counts) == writers * per_writer and set(counts.values()) == {1}


def test_lines_are_json_with_the_time_and_the_answer_given(tmp_path):
    spool = Spool(tmp_path)
    spool.append({"sid": "SM1", "body": "¿Qué es? 你好", "answered": ["Perdón"]})
    (path,) = list(tmp_path.iterdir())
    assert json.loads(path.read_text("utf-8")) == {"sid": "SM1", "body": "¿Qué es? 你好", "answered": ["Perdón"]}
    assert oct(path.stat().st_mode & 0o777) == "0o600"  # message bodies: readable by the service only


# --- the app: the webhook spools, the background thread / worker / CLI replay --------------------

PHONE = "+14155550181"


def test_the_web_process_replays_by_itself_once_the_database_is_back(app, twilio, db, broken):
    sid = new_sid("SM")
    sorry = app.extensions["line"].renderer.render_text("apology", "en")
    assert twilio.sms("2", from_=PHONE, sid=sid).messages == [sorry]
    replayer = app.extensions["spool_replayer"]
    assert replayer._thread is not None and replayer._thread.is_alive()
    broken.fixed()
    replayer.wake.set()  # instead of waiting SPOOL_RETRY_SECONDS
    replayer.join(10)
    assert not replayer._thread or not replayer._thread.is_alive()
    assert db.all(sa.select(InboundMessage.sid)) == [sid]
    assert app.extensions["spool"].pending() == 0


def test_the_worker_replays_on_each_pass(app, twilio, db, broken):
    from service.worker import Worker

    twilio.sms("STOP", from_=PHONE)
    broken.fixed()
    worker = Worker(app)
    worker.run_once = lambda: worker.stop.set() or 0  # one pass, then stop
    worker.run_forever()
    assert db.one(sa.select(Subscriber.status).where(Subscriber.phone == PHONE)) == "opted_out"


def test_cli_status_and_replay(app, twilio, runner, db, broken):
    twilio.sms("hello", from_=PHONE)
    twilio.sms("MENU", from_=PHONE)
    assert runner.invoke(args=["spool", "status"]).output.startswith("2 texts wait")
    broken.fixed()
    out = runner.invoke(args=["spool", "replay"])
    assert out.exit_code == 0 and out.output.strip() == "recorded 2, already recorded 0, still waiting 0"
    assert db.count(InboundMessage) == 2
    assert runner.invoke(args=["spool", "status"]).output.startswith("0 texts wait")


def test_metrics_show_what_waits(app, client, twilio, broken):
    twilio.sms("hello", from_=PHONE)
    body = client.get("/metrics").get_data(as_text=True)
    assert "mbc_inbound_spooled 1" in body.splitlines()
    broken.fixed()
    replay(app)
    assert "mbc_inbound_spooled 0" in client.get("/metrics").get_data(as_text=True).splitlines()


def test_twilio_advanced_opt_out_during_an_outage_is_kept_and_answered_with_nothing(app, twilio, db, broken):
    reply = twilio.sms("STOP", from_=PHONE, OptOutType="STOP")
    assert reply.messages == []
    broken.fixed()
    replay(app)
    assert db.one(sa.select(Subscriber.status).where(Subscriber.phone == PHONE)) == "opted_out"


def test_a_bad_record_is_set_aside_and_the_rest_are_recorded(tmp_path):
    """A line cut short by a crash mid-write, or a record that fails for its own reasons, must not
    hold back the opt-outs after it: it moves to a .failed file and replay goes on."""
    spool = Spool(tmp_path)
    spool.append({"sid": "a"})
    with open(spool._own_file(), "ab") as fh:
        fh.write(b'{"sid": "cut sh')  # no newline: the process died here
    spool.append({"sid": "b"})  # the next append starts a new line
    spool.append({"sid": "poison"})
    spool.append({"sid": "c"})
    seen = []

    def store(record):
        if record["sid"] == "poison":
            raise KeyError("to")
        seen.append(record["sid"])
        return True

    result = spool.replay(store, transient=lambda exc: False)
    assert seen == ["a", "b", "c"] and (result.stored, result.failed) == (3, 2)
    assert spool.pending() == 0 and spool.failed() == 2
    assert spool.replay(store).stored == 0  # set aside, not retried on every pass
