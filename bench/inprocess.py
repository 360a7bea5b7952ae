"""In-process cost of one webhook: µs per request and SQL statements per request, no HTTP server.

The Flask app is called as a WSGI callable with pre-built, pre-signed environs (what gunicorn
hands it), so the figures are the app's own cost: no sockets, no test-client bookkeeping. The
bare route (bench/bare.py) is measured the same way, so the difference is what the line adds.

    python -m bench.inprocess                 # SQLite and PostgreSQL, SMS and voice
    python -m bench.inprocess --profile sms   # pyinstrument tree of the SMS path (SQLite)
    python -m bench.inprocess --db postgresql --profile voice

PostgreSQL: BENCH_POSTGRES_URL, else the local server; skipped when it is not reachable.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.webhook import TOKEN, sms_requests, voice_requests  # noqa: E402

BASE_URL = "https://line.example.org"
# Steady state: the warm-up sends every sender's (and caller's) first message, so the measured
# requests are returning numbers, as on a line in use (a new number costs one more INSERT).
SENDERS, WARM = 200, 400


def environs(requests: list[tuple[str, dict, str]]) -> list[tuple[dict, bytes]]:
    out = []
    for path, params, sig in requests:
        body = urlencode(params).encode()
        env = EnvironBuilder(path=path, method="POST", base_url=BASE_URL, data=body,
                             content_type="application/x-www-form-urlencoded",
                             headers={"X-Twilio-Signature": sig}).get_environ()
        out.append((env, body))
    return out


def call(app, env: dict, body: bytes) -> bytes:
    status = []
    environ = dict(env)
    environ["wsgi.input"] = io.BytesIO(body)
    chunks = app(environ, lambda s, h, exc=None: status.append(s))
    data = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"{env['PATH_INFO']}: {status} {data[:300]!r}")
    return data


def make_app(url: str):
    from service import create_app

    return create_app({"APP_ENV": "test", "DATABASE_URL": url, "PUBLIC_BASE_URL": BASE_URL,
                       "TWILIO_AUTH_TOKEN": TOKEN, "SMS_BACKEND": "console", "FLOOD_LIMIT": 0,
                       "LOG_FORMAT": "json"})


def databases(which: str):
    """Yield (name, url) for each database asked for, fresh and migrated; each is dropped when
    the caller moves on to the next (iterate to the end)."""
    from service import migrate

    if which in ("all", "sqlite"):
        tmp = Path(tempfile.mkdtemp(prefix="mbc-inproc-"))
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        migrate.upgrade(url)
        try:
            yield "sqlite", url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if which in ("all", "postgresql"):
        server = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
        name = f"mbc_inproc_{uuid.uuid4().hex[:8]}"
        try:
            admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            print(f"PostgreSQL not available: {exc}", file=sys.stderr)
            return
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        try:
            migrate.upgrade(url)
            yield "postgresql", url
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def count_statements(engine: sa.Engine):
    counter = [0]

    def _count(*_args):
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", _count)
    return counter, _count


def timed(app, reqs: list[tuple[dict, bytes]], chunks: int = 1) -> float:
    """µs per request over reqs (after the caller's warm-up): the fastest of `chunks` equal
    slices, since the machine is shared and interference only ever adds time."""
    size = max(1, len(reqs) // chunks)
    best = float("inf")
    for start in range(0, size * chunks, size):
        began = time.perf_counter()
        for env, body in reqs[start:start + size]:
            call(app, env, body)
        best = min(best, (time.perf_counter() - began) / size * 1e6)
    return best


def measure(url: str, n: int = 3000) -> dict:
    """µs/request for bare, SMS (many senders, and one hot sender) and voice, plus SQL per request."""
    from bench.bare import create_app as reference_app, create_floor_table

    app = make_app(url)
    engine = app.extensions["db_engine"]
    try:
        out = {}
        create_floor_table(url)
        for mode in ("bare", "signed", "stored"):  # the yardstick and the two floors (bench/bare.py)
            ref = reference_app(mode, base_url=BASE_URL, token=TOKEN, database_url=url)
            reqs = environs(sms_requests(BASE_URL, n + 300))
            timed(ref, reqs[:300])
            out[mode] = (timed(ref, reqs[300:], chunks=5), 1.0 if mode == "stored" else 0.0)
        for label, reqs in (
            ("sms", sms_requests(BASE_URL, n + WARM, senders=SENDERS)),
            ("sms hot sender", sms_requests(BASE_URL, n + WARM, senders=1)),
            ("voice", voice_requests(BASE_URL, n + WARM, callers=SENDERS, block=SENDERS)),
        ):
            envs = environs(reqs)
            timed(app, envs[:WARM])  # warm-up: caches, pool, every sender's first message
            counter, listener = count_statements(engine)
            us = timed(app, envs[WARM:], chunks=5)
            event.remove(engine, "before_cursor_execute", listener)
            out[label] = (us, counter[0] / n)
        return out
    finally:
        engine.dispose()


def profile(url: str, kind: str, n: int = 2000) -> None:
    from pyinstrument import Profiler

    app = make_app(url)
    try:
        reqs = (sms_requests(BASE_URL, n + WARM, senders=SENDERS) if kind == "sms" else
                voice_requests(BASE_URL, n + WARM, callers=SENDERS, block=SENDERS))
        envs = environs(reqs)
        timed(app, envs[:WARM])
        profiler = Profiler(interval=0.0002)
        profiler.start()
        us = timed(app, envs[WARM:])
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"{kind}: {us:.0f} µs/request (under the profiler)")
    finally:
        app.extensions["db_engine"].dispose()


def run(which: str = "all", n: int = 3000) -> list[tuple[str, dict]]:
    results = []
    for name, url in databases(which):
        r = measure(url, n)
        results.append((name, r))
        print(f"in-process {name:10} " + "  ".join(f"{k}: {us:6.0f} µs ({sql:.1f} SQL)" for k, (us, sql) in r.items()),
              flush=True)
    return results


def markdown(results: list[tuple[str, dict]]) -> list[str]:
    lines = ["| database | bare µs | signed floor µs | stored floor µs | /twilio/sms µs | SQL per text "
             "| one hot sender µs | /twilio/voice + gather µs | SQL per voice request | bare / sms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results:
        lines.append(f"| {name} | {r['bare'][0]:.0f} | {r['signed'][0]:.0f} | {r['stored'][0]:.0f} | {r['sms'][0]:.0f} "
                     f"| {r['sms'][1]:.1f} | {r['sms hot sender'][0]:.0f} "
                     f"| {r['voice'][0]:.0f} | {r['voice'][1]:.1f} | {r['bare'][0] / r['sms'][0]:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    parser.add_argument("--profile", choices=("sms", "voice"))
    parser.add_argument("-n", type=int, default=3000)
    args = parser.parse_args()
    if args.profile:
        for _name, url in databases("sqlite" if args.db == "all" else args.db):
            profile(url, args.profile, args.n)
        return
    print("\n".join(markdown(run(args.db, args.n))))


if __name__ == "__main__":
    main()
