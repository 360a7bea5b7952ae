"""Real texts while unsigned floods arrive (issue 17 item 3): `python -m bench.preauth`.

The line under gunicorn (2 sync workers, PostgreSQL when reachable, else SQLite). wrk sends real
signed texts on 2 connections, first alone ("quiet"), then while 4 connections each post
unsigned 1.4 MB forms of 350,000 fields with a well-formed signature header, back to back
("flood"). Target: the flood's p99 within 2x of the quiet p99. Before the pre-auth limits each
such form was parsed and signed before its 403 (2.4 s each), and three such clients slowed real
texts to 1.8-4.4 s.
"""

from __future__ import annotations

import http.client
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .webhook import databases, free_port, fresh_script, run_wrk, server_env, start_gunicorn, stop

FLOOD_CONNECTIONS = 4
FLOOD_BODY = b"&".join([b"a=1"] * 350_000)  # about 1.4 MB
TEXT_CONNECTIONS = 2


@dataclass
class Flood:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    refused_ms: list[float] = field(default_factory=list)
    dropped: int = 0  # connection closed while the body was still being sent (refused unread)


def flood(port: int, stop_at: float, result: Flood, lock: threading.Lock) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "A" * 27 + "=",
               "Content-Length": str(len(FLOOD_BODY))}
    while time.monotonic() < stop_at:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            conn.request("POST", "/twilio/sms", body=FLOOD_BODY, headers=headers)
            resp = conn.getresponse()
            resp.read()
            with lock:
                result.sent += 1
                result.statuses[resp.status] = result.statuses.get(resp.status, 0) + 1
                result.refused_ms.append((time.perf_counter() - started) * 1000)
        except (ConnectionError, http.client.HTTPException, OSError):
            with lock:
                result.sent += 1
                result.dropped += 1
        finally:
            conn.close()


@dataclass
class Row:
    database: str
    quiet_p50: float
    quiet_p99: float
    flood_p50: float
    flood_p99: float
    text_errors: int
    flood: Flood

    @property
    def ratio(self) -> float:
        return self.flood_p99 / self.quiet_p99 if self.quiet_p99 else 0.0


def run(seconds: int = 5) -> list[Row]:
    from service import migrate

    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for db_name, url, cleanup in databases():
            try:
                migrate.upgrade(url)
                port = free_port()
                base_url = f"http://127.0.0.1:{port}"
                proc = start_gunicorn("service.wsgi:app", port, 2, server_env(url, base_url), tmp / "gunicorn.log")
                try:
                    run_wrk(port, fresh_script(tmp, base_url, "sms", 2, 1500), TEXT_CONNECTIONS, 2)  # warm-up
                    quiet = run_wrk(port, fresh_script(tmp, base_url, "sms", seconds, 1500), TEXT_CONNECTIONS, seconds)
                    result, lock = Flood(), threading.Lock()
                    stop_at = time.monotonic() + seconds + 2
                    threads = [threading.Thread(target=flood, args=(port, stop_at, result, lock), daemon=True)
                               for _ in range(FLOOD_CONNECTIONS)]
                    for t in threads:
                        t.start()
                    time.sleep(1)  # the flood is under way before the texts start
                    loud = run_wrk(port, fresh_script(tmp, base_url, "sms", seconds, 1500), TEXT_CONNECTIONS, seconds)
                    for t in threads:
                        t.join(timeout=40)
                finally:
                    stop(proc)
                row = Row(db_name, quiet.p50_ms, quiet.p99_ms, loud.p50_ms, loud.p99_ms, quiet.errors + loud.errors,
                          result)
                rows.append(row)
                print(f"{db_name:10} quiet p99 {row.quiet_p99:.1f} ms, flood p99 {row.flood_p99:.1f} ms "
                      f"({row.ratio:.2f}x); flood requests {result.sent}, statuses {result.statuses}, "
                      f"dropped {result.dropped}", flush=True)
            finally:
                cleanup()
    return rows


def section(rows: list[Row], seconds: int) -> list[str]:
    lines = [
        "## Real texts during an unsigned flood (pre-auth limits)",
        "",
        f"gunicorn, 2 sync workers; wrk sends real signed texts on {TEXT_CONNECTIONS} connections for {seconds} s, "
        f"alone (after a 2 s warm-up), then while {FLOOD_CONNECTIONS} connections post unsigned 1.4 MB forms (350,000 fields, a well-formed",
        "signature header) back to back (bench/preauth.py). Target: flood p99 within 2x of quiet p99.",
        "",
        "| database | quiet p50 ms | quiet p99 ms | flood p50 ms | flood p99 ms | p99 ratio | text errors | "
        "flood requests | flood answers | flood median ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        times = sorted(r.flood.refused_ms)
        median = times[len(times) // 2] if times else 0.0
        answers = ", ".join(f"{n}x {s}" for s, n in sorted(r.flood.statuses.items()))
        if r.flood.dropped:
            answers += f", {r.flood.dropped} closed unread"
        lines.append(f"| {r.database} | {r.quiet_p50:.1f} | {r.quiet_p99:.1f} | {r.flood_p50:.1f} | {r.flood_p99:.1f} | "
                     f"{r.ratio:.2f} | {r.text_errors} | {r.flood.sent} | {answers} | {median:.1f} |")
    return lines


if __name__ == "__main__":
    import os

    secs = int(os.environ.get("BENCH_SECONDS", "5"))
    print("\n".join(section(run(secs), secs)))
