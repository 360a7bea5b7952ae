"""`python -m bench`: run the benchmarks and write docs/performance.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import webhook
from . import worker as worker_bench

ROOT = Path(__file__).resolve().parents[1]


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


PRICE_PER_SEGMENT = 0.0083  # USD, US outbound SMS list price per segment (assumption; carrier fees extra)


def segment_costs() -> list[str]:
    """What a full menu tour costs per locale: every main-menu page, topic menu and item once."""
    from service import create_app
    from service.content.segments import count

    app = create_app({"APP_ENV": "test", "DATABASE_URL": "sqlite://"})
    renderer = app.extensions["line"].renderer
    out = ["## SMS cost of a full menu tour per locale", "",
           f"Every main-menu page, topic menu and item sent once, at ${PRICE_PER_SEGMENT} per segment (stated assumption: "
           "US long-code list price, before carrier fees).", "",
           "| locale | texts | segments | encoding of most texts | largest text (segments) | cost USD |", "|---|---|---|---|---|---|"]
    for locale in renderer.enabled_locales:
        tour = [(where, count(text)) for where, _k, text in renderer.tour_texts(locale)]
        segs = sum(c.segments for _, c in tour)
        enc = max({c.encoding for _, c in tour}, key=lambda e: sum(1 for _, c in tour if c.encoding == e))
        where, big = max(tour, key=lambda t: t[1].segments)
        out.append(f"| {locale} | {len(tour)} | {segs} | {enc} | {big.segments} ({where}) | {segs * PRICE_PER_SEGMENT:.2f} |")
    return out


def main() -> None:
    ensure_wrk()
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    results = webhook.run(seconds=seconds)
    mem = webhook.memory(int(os.environ.get("BENCH_MEMORY_REQUESTS", "100000")))
    lines = [
        "# Performance",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()} by `make bench`.",
        "",
        "## SMS webhook vs bare Flask",
        "",
        f"Method: gunicorn sync workers on 127.0.0.1; wrk (2 threads, {seconds} s per row) replays pre-signed,",
        "distinct Twilio requests (unique MessageSid, 2,000 senders walking the menu). The bare row is a",
        "Flask route returning fixed TwiML, measured in the same run. Load generator and server share 2 cores.",
        "",
        "| database | gunicorn workers | connections | senders | bare req/s | /twilio/sms req/s | ratio | sms p50 ms | sms p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    bare = {(r.database, r.workers, r.connections): r for r in results if r.target == "bare Flask"}
    for r in sorted((r for r in results if r.target == "/twilio/sms"),
                    key=lambda r: (r.database, r.workers, r.senders != "2000", r.connections)):
        floor = bare.get((r.database, r.workers, r.connections))
        ratio = r.rps / floor.rps if floor and floor.rps else 0
        lines.append(f"| {r.database} | {r.workers} | {r.connections} | {r.senders} | {floor.rps:.0f} | {r.rps:.0f} | "
                     f"{ratio:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} |")
    lines += [
        "",
        "## Memory per web process",
        "",
        "One gunicorn worker on SQLite serving real signed webhooks (wrk, 8 connections); resident set size sampled",
        "between batches. Target: at most 120 MB and no growth.",
        "",
        "| requests served | worker RSS MB |",
        "|---|---|",
    ]
    lines += [f"| {n} | {kb / 1024:.1f} |" for n, kb in mem]
    lines += ["", *segment_costs()]
    lines += ["", *worker_bench.section()]  # needs PostgreSQL (see bench/worker.py)
    out = ROOT / "docs" / "performance.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
