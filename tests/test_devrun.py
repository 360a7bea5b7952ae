"""`make run`'s launcher (service/devrun.py) for real: it starts the web server and the outbound
worker as processes, the worker sends what the web side queued, one Ctrl-C stops both, and a
child that dies takes the other down with it."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from service.devrun import environment

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "DATABASE_URL", "APP_ENV")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", APP_ENV="development",
               INBOUND_SPOOL_DIR=str(tmp_path / "spool"), WORKER_POLL_SECONDS="0.2", PYTHONUNBUFFERED="1")
    return env


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "service", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)


class Launcher:
    def __init__(self, env: dict[str, str], port: int):
        # A session of its own, as a terminal's foreground job: Ctrl-C there signals the whole group.
        self.proc = subprocess.Popen([sys.executable, "-m", "service.devrun", "--port", str(port)], env=env,
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.queue.put(line)
        self.queue.put(None)

    def read_until(self, pattern: str, timeout: float = 60) -> re.Match:
        """The launcher's and its children's output, line by line, until `pattern` shows (also in
        a line read before)."""
        for line in self.lines:
            if found := re.search(pattern, line):
                return found
        while True:
            try:
                line = self.queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} within {timeout} s:\n{''.join(self.lines)}") from None
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n{''.join(self.lines)}")
            self.lines.append(line)
            found = re.search(pattern, line)
            if found:
                return found

    def rest(self) -> str:
        self.reader.join(timeout=30)
        while not self.queue.empty():
            line = self.queue.get()
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.reader.join(timeout=30)
        self.proc.stdout.close()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


_ALL_DAY = """
from datetime import datetime, timezone
import sqlalchemy as sa
from service import create_app, db
from service.models import Clinic, OutboundMessage
app = create_app()
with app.app_context(), db.transaction() as sess:
    sess.execute(sa.update(Clinic).values(window_start_hour=0, window_end_hour=24))
    # What the running worker already put off to the window's start: due now again.
    sess.execute(sa.update(OutboundMessage).where(OutboundMessage.status == "queued")
                 .values(due_at=datetime.now(timezone.utc)))
"""


@pytest.fixture
def launched(tmp_path):
    env = _env(tmp_path)
    _flask(env, "db", "upgrade")
    port = _free_port()
    launcher = Launcher(env, port)
    try:
        found = launcher.read_until(r"web pid (\d+), worker pid (\d+)")
        web, worker = int(found[1]), int(found[2])
        launcher.read_until(r"worker started")
        launcher.read_until(r"Running on http://127\.0\.0\.1:" + str(port))
        yield launcher, env, port, web, worker
    finally:
        launcher.close()


def test_web_and_worker_run_together_and_one_ctrl_c_stops_both(launched):
    launcher, env, port, web, worker = launched
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
        assert resp.status == 200
    # A text the web side queued is sent by the worker: the console sender prints it, masked.
    _flask(env, "seed-demo")
    # Any hour: the demo's confirmation is due now, but the clinic's 09:00-20:00 window in the
    # patient's zone would put it off whenever this test runs in their night (it failed at 20:03
    # in San Francisco).
    subprocess.run([sys.executable, "-c", _ALL_DAY], env=env, cwd=ROOT, check=True, timeout=120)
    launcher.read_until(r"\[sms console\] to \+1\*+\d{4}")

    os.killpg(launcher.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    assert launcher.proc.wait(timeout=30) == 0
    out = launcher.rest()
    assert "stopping the web server and the worker" in out
    assert "worker stopped" in out
    assert _gone(web) and _gone(worker)


def test_a_worker_that_dies_stops_the_web_server_too(launched):
    launcher, _env_, _port, web, worker = launched
    os.kill(worker, signal.SIGKILL)
    assert launcher.proc.wait(timeout=30) != 0
    assert "the worker stopped (exit -9); stopping the rest" in launcher.rest()
    assert _gone(web)


def test_links_name_the_port_served():
    assert environment("127.0.0.1", 5123, {})["PUBLIC_BASE_URL"] == "http://127.0.0.1:5123"
    assert environment("0.0.0.0", 8000, {})["PUBLIC_BASE_URL"] == "http://localhost:8000"
    assert environment("127.0.0.1", 5123, {"PUBLIC_BASE_URL": "https://x.example"})["PUBLIC_BASE_URL"] == "https://x.example"
