"""Signed webhook throughput: the real /twilio/sms and /twilio/voice against bare Flask routes.

Each server runs under gunicorn (sync workers) on 127.0.0.1; wrk replays pre-signed, distinct
Twilio requests from a Lua table, because wrk cannot compute HMAC-SHA1 itself. SMS: unique
MessageSids, 2,000 senders walking the menu (or one hot sender). Voice: a call starts
(POST /twilio/voice) and presses one key (POST /twilio/voice/input), unique CallSids. Every wrk run
gets requests no earlier run sent (a repeated sid would take the cheaper idempotent path) and is
bounded in time; so is every server.
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

from bench.bare import create_floor_table

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
    wrapped: int = 0  # times a wrk thread ran out of fresh requests and replayed (should be 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lua_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


# The gather as Twilio requests it: the start answer links to step 1 (service/calls/log.py).
SMS_PATH, VOICE_PATH, GATHER_PATH = "/twilio/sms", "/twilio/voice", "/twilio/voice/input?step=1"


def sms_requests(base_url: str, count: int, senders: int = 2000) -> list[tuple[str, dict, str]]:
    """(path, form, signature) for `count` distinct inbound texts (unique MessageSid)."""
    validator = RequestValidator(TOKEN)
    out = []
    for i in range(count):
        sender = f"+1415555{i % senders:04d}"
        body = BODIES[(i // senders) % len(BODIES)] if senders > 1 else BODIES[i % len(BODIES)]
        sid = "SM" + uuid.uuid4().hex
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender,
                  "To": "+18005550199", "Body": body, "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        out.append((SMS_PATH, params, validator.compute_signature(base_url + SMS_PATH, params)))
    return out


def voice_requests(base_url: str, count: int, callers: int = 2000, block: int = 100) -> list[tuple[str, dict, str]]:
    """Calls that start (POST /twilio/voice) and press one key (POST /twilio/voice/input).

    In blocks: `block` call starts, then the same calls' key presses, so a call's start has been
    answered before its gather arrives (block > connections per wrk thread). A number's first
    call hears the language menu (1 picks English and stores it); its later calls go straight to
    the main menu, where 1 opens the first topic.
    """
    validator = RequestValidator(TOKEN)
    out = []
    while len(out) < count:
        calls = []
        for _ in range(block):
            n = len(out) // 2 + len(calls)
            sid = "CA" + uuid.uuid4().hex
            calls.append({"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": f"+1628555{n % callers:04d}",
                          "To": "+18005550199", "CallStatus": "ringing", "Direction": "inbound",
                          "ApiVersion": "2010-04-01"})
        for params in calls:
            out.append((VOICE_PATH, params, validator.compute_signature(base_url + VOICE_PATH, params)))
        for params in calls:
            params = {**params, "CallStatus": "in-progress", "Digits": "1", "FinishedOnKey": ""}
            out.append((GATHER_PATH, params, validator.compute_signature(base_url + GATHER_PATH, params)))
    return out[:count]


def write_requests(path: Path, requests: list[tuple[str, dict, str]]) -> None:
    """A wrk script replaying `requests`. Each wrk thread takes its own contiguous share (wrk runs
    one Lua state per thread, so a shared index would send every request once per thread), and
    `done` prints how often a thread ran out and started its share again (then sids repeat)."""
    # In chunks, each its own function: LuaJIT allows 65,536 constants per function, and every
    # request brings two (its signature and body). One big table literal past about 30,000
    # requests fails to load, and wrk then silently sends GET / instead (all 404s).
    lines = ["requests = {}"]
    for start in range(0, len(requests), LUA_CHUNK):
        lines.append("do local function add(r)")
        for url_path, params, sig in requests[start:start + LUA_CHUNK]:
            raw = (f'wrk.format("POST", "{url_path}", {{["Content-Type"]="application/x-www-form-urlencoded", '
                   f'["X-Twilio-Signature"]="{sig}"}}, "{lua_escape(urlencode(params))}")')
            lines.append(f"  r[#r + 1] = {raw}")
        lines.append("end add(requests) end")
    lines.append(LUA_DRIVER)
    path.write_text("\n".join(lines))


LUA_CHUNK = 10_000

LUA_DRIVER = """
local made, threads = 0, {}
function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end
function init(args)
  local n = tonumber(args[1]) or 1
  local share = math.floor(#requests / n)
  first, last = tid * share + 1, (tid + 1) * share
  i, wraps = first - 1, 0
end
function request()
  i = i + 1
  if i > last then i, wraps = first, wraps + 1 end
  return requests[i]
end
function done(summary, latency, reqs)
  local w = 0
  for _, t in ipairs(threads) do w = w + (t:get("wraps") or 0) end
  io.write(string.format("wrapped: %d\\n", w))
end
"""


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


def start_gunicorn(app_path: str, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    """gunicorn in the background; its log goes to a file (a pipe nobody reads would fill and
    stall the server)."""
    cmd = [sys.executable, "-m", "gunicorn", app_path, "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--log-level", "warning"]
    with open(log, "ab") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_ready(port, proc)
    except RuntimeError:
        stop(proc)
        raise RuntimeError(f"gunicorn {app_path} did not start:\n{log.read_text()[-3000:]}") from None
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    wrapped: int


def run_wrk(port: int, script: Path, connections: int, seconds: int) -> Wrk:
    threads = min(2, connections)
    proc = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                           "-s", str(script), f"http://127.0.0.1:{port}", "--", str(threads)],
                          capture_output=True, text=True, timeout=seconds + 60)
    out = proc.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(f"wrk failed: {out}\n{proc.stderr}")
    rps = float(found.group(1))
    if "wrapped:" not in out:  # our done() never ran: the script failed to load and wrk sent GET /
        raise RuntimeError(f"wrk did not run {script.name}: {proc.stderr[-500:]}")

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
    total = re.search(r"(\d+) requests in", out)
    wrapped = re.search(r"wrapped: (\d+)", out)
    return Wrk(rps, pct(50), pct(99), errors, int(total.group(1)) if total else 0,
               int(wrapped.group(1)) if wrapped else 0)


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


# What each row sends. "-" for the bare routes, which return fixed TwiML whatever is sent.
KINDS = {
    "sms": lambda base, n: sms_requests(base, n),
    "sms, 1 hot sender": lambda base, n: sms_requests(base, n, senders=1),
    "voice": lambda base, n: voice_requests(base, n),
}


def fresh_script(tmp: Path, base_url: str, kind: str, seconds: int, expected_rps: float) -> Path:
    """A wrk script with enough requests no earlier run sent for `seconds` at about `expected_rps`
    (with room to spare; Result.wrapped says when it was not enough)."""
    count = int(min(60_000, max(8_000, expected_rps * seconds * 1.5)))
    path = tmp / f"{kind.replace(' ', '_').replace(',', '')}_{uuid.uuid4().hex[:8]}.lua"
    write_requests(path, KINDS[kind](base_url, count))
    return path


# The yardstick, the two floors (bench/bare.py) and the line, each its own gunicorn in turn.
SERVERS = (("bare", "bench.bare:app"), ("signed", 'bench.bare:create_app("signed")'),
           ("stored", 'bench.bare:create_app("stored")'), ("real", "service.wsgi:app"))
REFERENCE = tuple(name for name, _path in SERVERS if name != "real")


def run(connections=(1, 8, 32), workers=(1, 2, 4), seconds: int = 5) -> list[Result]:
    """Every database x gunicorn workers x target x connections; bare routes first, same run."""
    from service import migrate

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for db_name, url, cleanup in databases():
            try:
                migrate.upgrade(url)
                create_floor_table(url)
                for w in workers:
                    for server, app_path in SERVERS:
                        port = free_port()
                        base_url = f"http://127.0.0.1:{port}"
                        kinds = ("sms", "voice") if server in ("bare", "real") else ("sms",)  # floors: SMS only
                        plan = [(kind, c) for kind in kinds for c in connections]
                        if server == "real":  # one sender hammering its own row lock
                            plan.insert(len(connections), ("sms, 1 hot sender", max(connections)))
                        proc = start_gunicorn(app_path, port, w, server_env(url, base_url), tmp / "gunicorn.log")
                        try:
                            last_rps = 3000.0 if server == "real" else 8000.0  # sizes the fresh requests
                            for kind, c in plan:
                                script = fresh_script(tmp, base_url, kind, seconds, last_rps)
                                r = run_wrk(port, script, c, seconds)
                                script.unlink()
                                last_rps = max(r.rps, 500.0) if server != "bare" else last_rps
                                target = kind if server == "real" else f"{server} {kind}"
                                results.append(Result(target, db_name, w, c, kind if server == "real" else "-",
                                                      r.rps, r.p50_ms, r.p99_ms, r.errors, r.wrapped))
                                print(f"{db_name:10} {target:18} w={w} c={c:3} {r.rps:8.0f} req/s p50 {r.p50_ms:6.1f} ms "
                                      f"p99 {r.p99_ms:6.1f} ms errors {r.errors} replayed {r.wrapped}", flush=True)
                        finally:
                            stop(proc)
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


def memory(total_requests: int = 100_000, workers: int = 2, batch_seconds: int = 10,
           deadline_seconds: int = 900) -> list[tuple[int, dict[str, int]]]:
    """RSS (KB) of each gunicorn process while it serves `total_requests` real signed webhooks
    (SMS and voice alternating by batch, SQLite): [(requests served, {process: KB})], sampled
    before the first batch and after each. Bounded by deadline_seconds."""
    from service import migrate

    samples: list[tuple[int, dict[str, int]]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'mem.sqlite3'}"
        migrate.upgrade(url)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        proc = start_gunicorn("service.wsgi:app", port, workers, server_env(url, base_url), tmp / "gunicorn.log")

        def sample(served: int) -> None:
            kb = {"master": rss_kb(proc.pid)}
            kb.update({f"worker {i + 1}": rss_kb(pid) for i, pid in enumerate(sorted(worker_pids(proc.pid)))})
            samples.append((served, kb))
            print(f"memory: {served:7} requests, RSS MB " +
                  ", ".join(f"{k} {v / 1024:.1f}" for k, v in kb.items()), flush=True)

        try:
            time.sleep(1)  # workers up
            sample(0)
            served, rps, batch = 0, 2000.0, 0
            deadline = time.monotonic() + deadline_seconds
            while served < total_requests and time.monotonic() < deadline:
                kind = "voice" if batch % 3 == 2 else "sms"
                seconds = max(1, min(batch_seconds, round((total_requests - served) / max(rps, 1)) + 1))
                script = fresh_script(tmp, base_url, kind, seconds, rps)
                r = run_wrk(port, script, 8, seconds)
                script.unlink()
                served += r.requests
                rps = max(r.rps, 200.0)
                batch += 1
                sample(served)
        finally:
            stop(proc)
    return samples
