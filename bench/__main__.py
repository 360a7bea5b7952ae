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


def main() -> None:
    ensure_wrk()
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    results = webhook.run(seconds=seconds)
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
        "| database | workers | connections | bare req/s | /twilio/sms req/s | ratio | sms p50 ms | sms p99 ms | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    by = {(r.database, r.workers, r.connections, r.target): r for r in results}
    for (db, w, c, target), r in sorted(by.items()):
        if target != "/twilio/sms":
            continue
        bare = by.get((db, w, c, "bare Flask"))
        ratio = r.rps / bare.rps if bare and bare.rps else 0
        lines.append(f"| {db} | {w} | {c} | {bare.rps:.0f} | {r.rps:.0f} | {ratio:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} |")
    out = ROOT / "docs" / "performance.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
