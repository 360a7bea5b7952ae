"""`python -m bench`: run the benchmarks and write docs/performance.md."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from . import preauth, webhook
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


NOTES = ROOT / "docs" / "performance-notes.md"  # hand-written; copied into docs/performance.md as is


def webhook_tables(results: list, seconds: int) -> list[str]:
    lines = [
        "## Webhooks under gunicorn vs bare Flask",
        "",
        f"Method: gunicorn sync workers on 127.0.0.1; wrk (2 threads, {seconds} s per row) replays pre-signed Twilio",
        "requests that no earlier row sent (see bench/webhook.py). SMS: unique MessageSid, 2,000 senders walking the",
        "menu, or one hot sender. Voice: a call starts (`POST /twilio/voice`) then presses 1",
        "(`POST /twilio/voice/input`), alternating in blocks of 100 calls. The bare columns are Flask routes returning",
        "fixed TwiML (bench/bare.py), measured in the same run. Target: real at least half of bare. The two floors",
        "(bench/bare.py, same run, SMS only) are what any webhook must spend before the line's own work: \"signed\"",
        "checks X-Twilio-Signature over the parsed form; \"stored\" also writes the text durably with the raw driver",
        "(one INSERT and COMMIT, the line's durability settings). Load generator,",
        "server and PostgreSQL share the machine's cores. \"replayed\" counts wrk threads that ran out of fresh",
        "requests (then sids repeat; should be 0).",
        "",
    ]
    refs = {(r.target, r.database, r.workers, r.connections): r for r in results
            if r.target.split()[0] in webhook.REFERENCE}
    for kind, title in (("sms", "SMS (`POST /twilio/sms`)"), ("voice", "Voice (`POST /twilio/voice` + one gather)")):
        floors = kind == "sms"  # the signed and stored floors answer texts only
        lines += [f"### {title}", "",
                  "| database | gunicorn workers | connections | senders | bare req/s | "
                  + ("signed floor req/s | stored floor req/s | stored / bare | " if floors else "")
                  + "real req/s | ratio | p50 ms | p99 ms | errors | replayed |",
                  "|---" * (14 if floors else 11) + "|"]
        rows = [r for r in results if r.target.split()[0] not in webhook.REFERENCE and r.target.split(",")[0] == kind]
        for r in sorted(rows, key=lambda r: (r.database, r.workers, r.target != kind, r.connections)):
            def ref(name: str) -> float:
                found = refs.get((f"{name} {kind}", r.database, r.workers, r.connections))
                return found.rps if found else 0.0
            bare = ref("bare")
            ratio = r.rps / bare if bare else 0
            senders = "1 (hot)" if "hot" in r.target else ("2000" if kind == "sms" else "2000 callers")
            floor_cells = (f"{ref('signed'):.0f} | {ref('stored'):.0f} | {ref('stored') / bare if bare else 0:.2f} | "
                           if floors else "")
            lines.append(f"| {r.database} | {r.workers} | {r.connections} | {senders} | {bare:.0f} | {floor_cells}"
                         f"{r.rps:.0f} | {ratio:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} | {r.wrapped} |")
        lines.append("")
    return lines


def memory_table(samples: list) -> list[str]:
    names = list(samples[0][1]) if samples else []
    lines = [
        "## Memory per web process",
        "",
        "gunicorn with 2 sync workers on SQLite serving real signed webhooks (wrk, 8 connections; SMS, every third",
        "batch voice); resident set size of each process sampled between batches. Target: at most 120 MB per process",
        "and no growth from the middle to the end.",
        "",
        "| requests served | " + " | ".join(f"{n} RSS MB" for n in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    lines += [f"| {n:,} | " + " | ".join(f"{kb.get(name, 0) / 1024:.1f}" for name in names) + " |" for n, kb in samples]
    if len(samples) >= 3:
        start, middle, end = samples[0], samples[len(samples) // 2], samples[-1]
        worst = max(max(kb.values()) for _n, kb in samples) / 1024
        growth = max(end[1][n] - middle[1].get(n, 0) for n in names) / 1024
        lines += ["", f"Start {start[0]:,} / middle {middle[0]:,} / end {end[0]:,} requests: largest process "
                  f"{worst:.1f} MB; largest growth from middle to end {growth:+.1f} MB."]
    return lines


def main() -> None:
    from . import inprocess

    ensure_wrk()
    seconds = int(os.environ.get("BENCH_SECONDS", "5"))
    in_process = inprocess.run("all", n=int(os.environ.get("BENCH_INPROCESS_REQUESTS", "3000")))
    results = webhook.run(seconds=seconds)
    mem = webhook.memory(int(os.environ.get("BENCH_MEMORY_REQUESTS", "100000")))
    lines = [
        "# Performance",
        "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()} by `make bench`",
        "(`BENCH_SECONDS` per wrk row). Everything below but the hand-written notes is regenerated by it.",
        "",
        "## In-process cost per request",
        "",
        "The Flask app called as a WSGI callable with pre-built, pre-signed requests (bench/inprocess.py; no HTTP",
        "server), fastest of five slices of 600 after a warm-up in which every one of 200 senders and callers",
        "wrote once. SQL per request counts statements sent (BEGIN and COMMIT are not counted). The signed and",
        "stored floors are bench/bare.py's (see \"Issue 2's target, and the floors\" below).",
        "",
        *inprocess.markdown(in_process),
        "",
    ]
    if NOTES.exists():
        lines += [NOTES.read_text().strip(), ""]
    lines += webhook_tables(results, seconds)
    lines += [*preauth.section(preauth.run(seconds), seconds), ""]
    lines += memory_table(mem)
    lines += ["", *segment_costs()]
    lines += ["", *worker_bench.section()]  # needs PostgreSQL (see bench/worker.py)
    out = ROOT / "docs" / "performance.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
