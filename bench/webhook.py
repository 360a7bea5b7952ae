"""Signed SMS webhook throughput: the real /twilio/sms against a bare Flask route, same run.

Each server runs under gunicorn (sync workers) on 127.0.0.1; wrk replays pre-signed, distinct
Twilio requests (unique MessageSid, 2,000 senders walking the menu) from a Lua table, because wrk
cannot compute HMAC-SHA1 itself. Every run is bounded in time.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-not-secret"
BODIES = ["hi", "2", "1", "MORE", "MORE", "0", "MENU", "7", "3", "HELP"]


@dataclass
class Result:
    target: str
    database: str
    workers: int
    connections: int
    senders: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lua_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def write_requests(path: Path, base_url: str, count: int, senders: int = 2000) -> None:
    validator = RequestValidator(TOKEN)
    lines = ["requests = {"]
    for i in range(count):
        sender = f"+1415555{i % senders:04d}"
        body = BODIES[(i // 2000) % len(BODIES)]
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender,
                  "To": "+18005550199", "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        sig = validator.compute_signature(base_url + "/twilio/sms", params)
        raw = f'wrk.format("POST", "/twilio/sms", {{["Content-Type"]="application/x-www-form-urlencoded", ["X-Twilio-Signature"]="{sig}"}}, "{lua_escape(urlencode(params))}")'
        lines.append(f"  {raw},")
    lines.append("}")
    lines.append("local i = 0\nrequest = function()\n  i = i + 1\n  if i > #requests then i = 1 end\n  return requests[i]\nend")
    path.write_text("\n".join(lines))


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def start_gunicorn(app_path: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "gunicorn", app_path, "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_ready(port, proc)
    return proc


def run_wrk(port: int, script: Path, connections: int, seconds: int) -> tuple[float, float, float, int]:
    proc = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                           "-s", str(script), f"http://127.0.0.1:{port}"],
                          capture_output=True, text=True, timeout=seconds + 60)
    out = proc.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(f"wrk failed: {out}\n{proc.stderr}")
    rps = float(found.group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return rps, pct(50), pct(99), errors


def databases() -> list[tuple[str, str, callable]]:
    """(name, url, cleanup) for SQLite and, when reachable, PostgreSQL."""
    import sqlalchemy as sa

    tmp = Path(tempfile.mkdtemp(prefix="mbc-bench-"))
    dbs = [("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", lambda: shutil.rmtree(tmp, ignore_errors=True))]
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    try:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        name = f"mbc_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        dbs.append(("postgresql", url, drop))
    except Exception as exc:  # benchmark still runs on SQLite
        print(f"PostgreSQL not available for the benchmark: {exc}", file=sys.stderr)
    return dbs


def server_env(url: str, base_url: str) -> dict:
    # A flood limit is a per-number safety valve; the "hot sender" rows measure the engine path,
    # so the limit is raised for the benchmark (the throttled path is cheaper, not dearer).
    return {**os.environ, "APP_ENV": "test", "DATABASE_URL": url, "PUBLIC_BASE_URL": base_url,
            "TWILIO_AUTH_TOKEN": TOKEN, "SMS_BACKEND": "console", "PYTHONPATH": str(ROOT),
            "FLOOD_LIMIT": "0", "LOG_FORMAT": "json"}


def run(connections=(1, 8, 32), workers=(1, 2, 4), seconds: int = 5, requests: int = 30000) -> list[Result]:
    from service import migrate

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for db_name, url, cleanup in databases():
            try:
                migrate.upgrade(url)
                for w in workers:
                    for target, app_path in (("bare Flask", "bench.bare:app"), ("/twilio/sms", "service.wsgi:app")):
                        port = free_port()
                        base_url = f"http://127.0.0.1:{port}"
                        scripts = {"2000": Path(tmp) / f"req_{port}.lua", "1 (hot)": Path(tmp) / f"hot_{port}.lua"}
                        write_requests(scripts["2000"], base_url, requests)
                        if target != "bare Flask":
                            write_requests(scripts["1 (hot)"], base_url, requests // 3, senders=1)
                        proc = start_gunicorn(app_path, port, w, server_env(url, base_url))
                        try:
                            plan = [("2000", c) for c in connections]
                            if target != "bare Flask":  # one sender hammering its own row lock
                                plan.append(("1 (hot)", max(connections)))
                            for senders, c in plan:
                                rps, p50, p99, errors = run_wrk(port, scripts[senders], c, seconds)
                                label = senders if target != "bare Flask" else "-"
                                results.append(Result(target, db_name, w, c, label, rps, p50, p99, errors))
                                print(f"{db_name:10} {target:12} w={w} c={c:3} senders={label:8} {rps:8.0f} req/s "
                                      f"p50 {p50:6.1f} ms p99 {p99:6.1f} ms errors {errors}", flush=True)
                        finally:
                            proc.terminate()
                            proc.wait(timeout=20)
            finally:
                cleanup()
    return results


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def memory(total_requests: int = 100_000, batch_seconds: int = 10) -> list[tuple[int, int]]:
    """RSS of one gunicorn worker (KB) as it serves `total_requests` real webhook requests."""
    from service import migrate

    samples: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'mem.sqlite3'}"
        migrate.upgrade(url)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        script = Path(tmp) / "mem.lua"
        write_requests(script, base_url, 40000)
        proc = start_gunicorn("service.wsgi:app", port, 1, server_env(url, base_url))
        try:
            pid = worker_pids(proc.pid)[0]
            served = 0
            samples.append((served, rss_kb(pid)))
            deadline = time.monotonic() + 600
            while served < total_requests and time.monotonic() < deadline:
                rps, *_ = run_wrk(port, script, 8, batch_seconds)
                served += int(rps * batch_seconds)
                samples.append((served, rss_kb(pid)))
                print(f"memory: {served:7} requests, worker RSS {samples[-1][1] / 1024:.1f} MB", flush=True)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return samples
