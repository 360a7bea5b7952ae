"""Outbound worker benchmarks on PostgreSQL: throughput against the local fake Twilio (rate limit
off and at 30/s, one to four `flask worker --drain` processes), and how long one claim takes with
10,000 versus 1,000,000 rows in the queue.

`python -m bench.worker` prints the Markdown section; `make bench` puts it in docs/performance.md.
Needs PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the local server.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import create_app, migrate  # noqa: E402
from service.messaging.claim import claim  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402
from tests.support.outbound import WORKER_CONFIG, queue_many, start_worker, worker_env  # noqa: E402
from tests.support.twilio import ACCOUNT_SID  # noqa: E402

TOKEN = WORKER_CONFIG["TWILIO_AUTH_TOKEN"]
SERVER = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or \
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class FreshDatabase:
    def __init__(self):
        self.server = make_url(SERVER)
        self.name = f"mbc_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(self.server, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> str:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        migrate.upgrade(self.url)
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def throughput(url: str, fake: FakeTwilio, *, workers: int, rate: float, count: int) -> dict:
    app = create_app({**WORKER_CONFIG, "DATABASE_URL": url, "TWILIO_API_BASE_URL": fake.base_url})
    try:
        with app.extensions["db_engine"].begin() as conn:
            for table in ("outbound_attempts", "outbound_messages", "send_rate_buckets", "subscribers"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        queue_many(app, count, phones=500, due_at=datetime.now(timezone.utc), prefix=f"w{workers}r{rate}")
    finally:
        app.extensions["db_engine"].dispose()
    before = len(fake.requests)
    env = worker_env(url, fake, SEND_RATE_PER_SECOND=rate, WORKER_BATCH=100)
    started = time.monotonic()
    procs = [start_worker(env, "--drain") for _ in range(workers)]
    rss: dict[int, list[int]] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=peak_rss, args=(procs, stop, rss), daemon=True)
    sampler.start()
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        if proc.returncode:
            raise RuntimeError(err[-2000:])
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    times = sorted(r["at"] for r in fake.requests[before:])
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {"workers": workers, "rate": rate, "count": len(times), "wall": wall,
            "per_s": (len(times) - 1) / span if span else float("nan"),
            "peak_mb": max((max(kb) for kb in rss.values() if kb), default=0) / 1024}


def peak_rss(procs, stop: threading.Event, samples: dict) -> None:
    """Sample each process's RSS (KB) every 50 ms until stop; keep (texts sent so far, KB) pairs."""
    from bench.webhook import rss_kb

    while not stop.is_set():
        for proc in procs:
            try:
                samples.setdefault(proc.pid, []).append(rss_kb(proc.pid))
            except (FileNotFoundError, ProcessLookupError):
                pass
        stop.wait(0.05)


def worker_memory(url: str, fake: FakeTwilio, count: int) -> dict:
    """One `worker --drain` process sending `count` texts: its RSS after the first tenth and at the end."""
    app = create_app({**WORKER_CONFIG, "DATABASE_URL": url, "TWILIO_API_BASE_URL": fake.base_url})
    try:
        with app.extensions["db_engine"].begin() as conn:
            for table in ("outbound_attempts", "outbound_messages", "send_rate_buckets", "subscribers"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        queue_many(app, count, phones=500, due_at=datetime.now(timezone.utc), prefix="mem")
    finally:
        app.extensions["db_engine"].dispose()
    from bench.webhook import rss_kb

    before = len(fake.requests)
    # The daily cap (10 a number) would defer most of them to tomorrow: off here.
    proc = start_worker(worker_env(url, fake, SEND_RATE_PER_SECOND=0, WORKER_BATCH=100,
                                   OUTBOUND_DAILY_CAP_PER_NUMBER=0), "--drain")
    points: list[tuple[int, int]] = []  # (texts sent, RSS KB)
    while proc.poll() is None:
        try:
            points.append((len(fake.requests) - before, rss_kb(proc.pid)))
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.1)  # a sampling interval, not synchronisation
    _out, err = proc.communicate(timeout=600)
    if proc.returncode:
        raise RuntimeError(err[-2000:])
    early = next((kb for sent, kb in points if sent >= count // 10), points[0][1])
    return {"count": len(fake.requests) - before, "early_mb": early / 1024, "last_mb": points[-1][1] / 1024,
            "peak_mb": max(kb for _, kb in points) / 1024}


def claim_timing(url: str, rows: int, queued_share: float, repeats: int = 30, batch: int = 100) -> float:
    """Median ms of one claim of `batch` rows (rolled back, so every claim sees the same queue)."""
    engine = sa.create_engine(url)
    now = datetime.now(timezone.utc)
    queued = int(rows * queued_share)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM outbound_attempts; DELETE FROM outbound_messages; DELETE FROM subscribers"))
        sub = conn.execute(sa.text("INSERT INTO subscribers (phone, locale, status, menu_node, menu_page, created_at, "
                                   "updated_at) VALUES ('+14155550100', 'en', 'active', 'main', 0, now(), now()) "
                                   "RETURNING id")).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO outbound_messages (dedupe_key, subscriber_id, phone, locale, body, source, status, due_at, "
            "attempts, created_at, updated_at) "
            "SELECT 'b' || g, :sub, '+14155550100', 'en', 'bench text ' || g, 'bench', "
            "CASE WHEN g <= :queued THEN 'queued' ELSE 'sent' END, "
            ":now - (g || ' seconds')::interval, 0, :now, :now FROM generate_series(1, :rows) g"),
            {"sub": sub, "queued": queued, "rows": rows, "now": now})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE outbound_messages"))
    from sqlalchemy.orm import Session

    samples = []
    for _ in range(repeats):
        with Session(engine) as sess:
            sess.begin()
            t = time.perf_counter()
            leased = claim(sess, now, batch, timedelta(seconds=60))
            samples.append((time.perf_counter() - t) * 1000)
            assert len(leased.ids) == min(batch, queued)
            sess.rollback()
    engine.dispose()
    return statistics.median(samples)


def section() -> list[str]:
    lines = ["## Outbound worker (PostgreSQL)", ""]
    with FreshDatabase() as url, FakeTwilio(ACCOUNT_SID, TOKEN) as fake:
        rows = []
        for rate, count in ((0, 4000), (30, 450)):
            for workers in (1, 2, 4):
                result = throughput(url, fake, workers=workers, rate=rate, count=count)
                print(f"worker bench: {result}", flush=True)
                rows.append(result)
        lines += [
            "Method: N due texts over 500 numbers; W `flask --app service worker --drain` processes send them through",
            "the real `twilio` library to the local fake Twilio (a threaded HTTP server in the benchmark process);",
            "messages/s is measured between the first and last request the fake received (wall includes process",
            "start-up). Workers, fake and PostgreSQL share the machine's cores.",
            "",
            "| rate limit | workers | texts | messages/s | wall s | peak RSS per worker MB |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            limit = "off" if r["rate"] == 0 else f"{r['rate']:.0f}/s"
            lines.append(f"| {limit} | {r['workers']} | {r['count']} | {r['per_s']:.0f} | {r['wall']:.1f} "
                         f"| {r['peak_mb']:.1f} |")
        count = int(os.environ.get("BENCH_WORKER_MEMORY_TEXTS", "20000"))
        mem = worker_memory(url, fake, count)
        print(f"worker memory: {mem}", flush=True)
        lines += ["", f"Memory of one worker process sending {mem['count']:,} texts (rate limit off; RSS sampled every "
                  "100 ms; target at most 120 MB and no growth):", "",
                  "| after the first tenth MB | at the end MB | peak MB |", "|---|---|---|",
                  f"| {mem['early_mb']:.1f} | {mem['last_mb']:.1f} | {mem['peak_mb']:.1f} |"]
        lines += ["", "One claim of 100 rows (`SELECT … FOR UPDATE SKIP LOCKED` + `UPDATE`, median of 30, rolled back):", "",
                  "| rows in the queue | of which queued | claim ms |", "|---|---|---|"]
        for total, share in ((10_000, 1.0), (1_000_000, 1.0), (10_000, 0.01), (1_000_000, 0.01)):
            ms = claim_timing(url, total, share)
            print(f"claim bench: {total} rows, {share:.0%} queued: {ms:.2f} ms", flush=True)
            lines.append(f"| {total:,} | {int(total * share):,} | {ms:.2f} |")
    return lines


if __name__ == "__main__":
    print("\n".join(section()))
