"""Inbound texts that arrived while the database was down, kept on local disk until it is back.

Twilio does not redeliver a message whose webhook answered 200 (and ours always does), so without
this an opt-out or a red flag texted during a database outage would be gone. The SMS webhook
appends the message here (one JSON line, fsynced) before it answers its fallback; `replay()` later
records each one through service.conversation.record_missed_sms, which applies what must not be
lost (consent keywords, red-flag tasks, the message log) and sends nothing: the person already had
their answer (the apology asks them to try again).

Who replays: the web process that spooled (a background thread, every SPOOL_RETRY_SECONDS until its
spool is empty), the outbound worker on each pass (same machine), and operators with
`flask --app service spool replay`. Any of them may run at once: a file is claimed by renaming it,
and a replayed record is stored under its MessageSid, so replaying twice stores nothing twice.
A file is deleted only after every record in it is stored.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from . import db
from .conversation import fallback_texts, record_missed_sms
from .phones import mask

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
CLAIMED = ".replaying"
FAILED = ".failed"  # records that could not be recorded: an operator looks at them


@dataclass
class ReplayResult:
    stored: int = 0  # records written to the database now
    already: int = 0  # records the database already had (replayed before, or redelivered live)
    left: int = 0  # records still spooled (the database failed again)
    failed: int = 0  # records moved to a .failed file (not JSON, or an error that is not the database's)


class Spool:
    """One directory of append-only JSON-lines files, one file per writing process."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self._lock = threading.Lock()

    def _own_file(self) -> Path:
        host = socket.gethostname().replace(".", "_")  # names are <host>-<pid>[.<claim>].<suffix>
        return self.dir / f"{host}-{os.getpid()}{SUFFIX}"

    def append(self, record: dict) -> None:
        """Durably add one record (fsynced before this returns)."""
        line = (json.dumps(record, ensure_ascii=False, default=_iso) + "\n").encode()
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self._own_file()
        with self._lock:
            while True:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    # A replayer may have renamed the file between our open and our lock: then
                    # this inode is no longer the spool file, and writing to it would lose the line.
                    try:
                        same = os.fstat(fd).st_ino == os.stat(path).st_ino
                    except FileNotFoundError:
                        same = False
                    if same:
                        size = os.fstat(fd).st_size
                        if size and os.pread(fd, 1, size - 1) != b"\n":
                            line = b"\n" + line  # the last writer died mid-line: start a new one
                        os.write(fd, line)
                        os.fsync(fd)
                        return
                finally:
                    os.close(fd)

    def pending(self) -> int:
        """How many records wait (spooled and claimed-but-unfinished files)."""
        total = 0
        for path in self._files(claimed=True):
            try:
                with open(path, "rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except FileNotFoundError:
                continue
        return total

    def empty(self) -> bool:
        """Nothing spooled and nothing being replayed."""
        return not self._files(claimed=True)

    def _files(self, claimed: bool = False) -> list[Path]:
        if not self.dir.is_dir():
            return []
        names = sorted(self.dir.iterdir())
        return [p for p in names if p.name.endswith(SUFFIX) or (claimed and p.name.endswith(CLAIMED))]

    def _claim(self) -> Iterator[tuple[int, Path]]:
        """Each file nobody holds, locked and renamed to a claimed name: (locked fd, new path).

        The lock comes first and stays until the file is done: an appender waits for it and then
        sees the file moved (and writes a new one); another replayer skips a locked file; a
        claimed file nobody holds is one whose replayer died, and is taken over."""
        for path in self._files(claimed=True):
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # claimed or finished by another replayer
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    raise FileNotFoundError(path)  # it moved between our listing and our lock
                target = self.dir / f"{_stem(path)}.{uuid.uuid4().hex[:8]}{CLAIMED}"
                os.rename(path, target)
            except (BlockingIOError, FileNotFoundError):
                os.close(fd)  # an appender or a live replayer holds it; a later pass gets it
                continue
            yield fd, target

    def replay(self, store: Callable[[dict], bool],
               transient: Callable[[Exception], bool] = lambda exc: True) -> ReplayResult:
        """Hand every spooled record to `store` (True: written now, False: already there) in the
        order they arrived per file.

        When `store` raises an error `transient` accepts (the database is still down), the file
        goes back to the spool untouched (what was stored stays stored: `store` is idempotent)
        and replay stops. Any other error, or a line that is not JSON (a crash mid-write), is
        that one record's problem: it moves to a `.failed` file for an operator and the rest go on,
        so one bad record never holds back the opt-outs behind it."""
        result = ReplayResult()
        for fd, claimed in self._claim():
            try:
                with os.fdopen(os.dup(fd), "rb") as fh:
                    lines = [line for line in fh if line.strip()]
                for done, line in enumerate(lines):
                    try:
                        record = json.loads(line)
                        if not isinstance(record, dict):
                            raise ValueError("a spool record is a JSON object")
                        if store(record):
                            result.stored += 1
                        else:
                            result.already += 1
                    except Exception as exc:
                        if not isinstance(exc, ValueError) and transient(exc):
                            result.left += len(lines) - done
                            os.rename(claimed, self.dir / f"{_stem(claimed)}.{uuid.uuid4().hex[:8]}{SUFFIX}")
                            raise
                        self._dead_letter(claimed, line, exc)
                        result.failed += 1
                os.unlink(claimed)
            finally:
                os.close(fd)  # releases the lock
        return result

    def _dead_letter(self, claimed: Path, line: bytes, exc: Exception) -> None:
        log.error("spool: a record could not be recorded (%s); kept in %s%s", type(exc).__name__,
                  _stem(claimed), FAILED, exc_info=exc, extra={"event": "spool_record_failed"})
        fd = os.open(self.dir / f"{_stem(claimed)}{FAILED}", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line if line.endswith(b"\n") else line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def failed(self) -> int:
        """Records that could not be recorded and wait for an operator (`.failed` files)."""
        total = 0
        for path in self.dir.glob(f"*{FAILED}") if self.dir.is_dir() else ():
            with open(path, "rb") as fh:
                total += sum(1 for line in fh if line.strip())
        return total


def _stem(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _iso(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# --- the app's spool ---------------------------------------------------------------------------

def init_app(app) -> None:
    app.extensions["spool"] = Spool(app.config["INBOUND_SPOOL_DIR"])
    app.extensions["spool_replayer"] = BackgroundReplayer(app)


def spool_sms(app, record: dict) -> None:
    """Keep a text the webhook could not store, and make sure this process replays it later."""
    app.extensions["spool"].append(record)
    app.extensions["spool_replayer"].start()


def answer_offline(app, *, sid: str, phone: str, body: str, opt_out_type: str | None, now: datetime) -> list[str]:
    """The SMS webhook's answer when the database failed: the engine's answer without a database
    (conversation.fallback_texts), and the text kept on disk until it can be recorded, so an
    opt-out sent during an outage is still honoured. Twilio's Advanced Opt-Out already answered
    its keywords: nothing is said to those."""
    line = app.extensions["line"]
    texts = [] if opt_out_type else fallback_texts(line, phone, body, now)
    try:
        spool_sms(app, {"sid": sid, "phone": phone, "body": body, "opt_out_type": opt_out_type,
                        "received_at": now.isoformat(), "answered": texts})
    except Exception:
        # The disk failed too: say nothing that promises the opt-out was kept.
        log.exception("sms webhook could not spool %s (sid %s)", mask(phone), sid)
        return [line.renderer.render_text("apology", "en")]
    return texts


def replay(app) -> ReplayResult:
    """Record every spooled text (see the module docstring); safe to run anywhere, any time."""
    line = app.extensions["line"]

    def store(record: dict) -> bool:
        with app.app_context(), db.transaction() as sess:
            return record_missed_sms(
                sess, line, sid=record["sid"], phone=record["phone"], body=record.get("body", ""),
                now=datetime.fromisoformat(record["received_at"]), answered=record.get("answered", []),
                opt_out_type=record.get("opt_out_type"))

    result = app.extensions["spool"].replay(store, transient=_database_unavailable)
    if result.stored or result.already:
        log.info("spool: replayed %s texts (%s were stored already)", result.stored + result.already,
                 result.already, extra={"event": "spool_replayed"})
    return result


def _database_unavailable(exc: Exception) -> bool:
    """Errors that say "try again later": the connection, a lock or pool timeout, or a race with
    a live delivery of the same sid (the next replay finds it stored)."""
    import sqlalchemy as sa

    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError,
                            sa.exc.IntegrityError)) or getattr(exc, "connection_invalidated", False)


class BackgroundReplayer:
    """A daemon thread per process, started when the process first spools, that replays every
    SPOOL_RETRY_SECONDS until the spool is empty, then ends (a later outage starts a new one)."""

    def __init__(self, app):
        self.app = app
        self.every = float(app.config["SPOOL_RETRY_SECONDS"])
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.wake = threading.Event()  # tests set it to replay now instead of waiting

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="spool-replayer", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        spool = self.app.extensions["spool"]
        while True:
            self.wake.wait(self.every)
            self.wake.clear()
            try:
                replay(self.app)
            except Exception as exc:  # noqa: BLE001 - the database is still down: try again later
                log.warning("spool: replay failed (%s); %s texts wait", type(exc).__name__, spool.pending(),
                            extra={"event": "spool_waiting"})
                continue
            with self._lock:
                if spool.empty():
                    self._thread = None
                    return
