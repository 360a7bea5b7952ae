"""The outbound worker: `flask --app service worker` sends due texts; `--drain` exits when none are due.

One batch goes through four short steps; no transaction is open while Twilio is called:

1. claim    lease due rows (service/messaging/claim.py)
2. plan     in one read: consent, sending window, and whether a previous attempt may have reached
            Twilio; rows in doubt are looked up with Twilio first (reconcile), never re-sent blind
3. attempt  per chunk the rate limit allows: re-check consent and the lease, record a "pending"
            attempt, commit; only then call Twilio
4. record   the outcome: sent, retry later with backoff, failed, or the 21610 opt-out

docs/outbound.md explains why a message cannot be sent twice and what risk remains.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from .messaging import PERMANENT, RETRY, UNKNOWN, SendError, Sent, sender_for
from .messaging.caps import local_day, over_cap
from .messaging.claim import claim, release
from .messaging.delivery import OPTED_OUT, accepted, opt_out_from_21610
from .messaging.ratelimit import RateLimiter
from .messaging.reconcile import best_match, lookup
from .messaging.window import next_send_time, window_from, window_from_hours, zones_to_use
from .models import Clinic, Enrollment, EnrollmentMessage, OutboundAttempt, OutboundMessage, Subscriber
from .outbound import CALL_HELD_SOURCES
from .phones import mask
from .spool import replay
from .statuses import ENDED_EARLY, UNDELIVERED_MESSAGES, MessageStatus, SubscriberStatus

log = logging.getLogger(__name__)

# Texts a caller asked for by pressing a key a moment ago: the daytime window is for texts we
# start, not for answers the person is waiting for.
IMMEDIATE_SOURCES = frozenset(CALL_HELD_SOURCES)
RETRY_CAP = timedelta(hours=1)
ERROR_BACKOFF_CAP = 60.0  # seconds between passes while the database (or anything) keeps failing
IN_DOUBT = ("pending", "unknown")
# A clinic stopped the series (or it expired) while the text was claimed: cancel_queued only
# reaches queued rows, so the worker checks again before the call (statuses.ENDED_EARLY).


@dataclass
class Stats:
    claimed: int = 0
    sent: int = 0
    reconciled: int = 0
    deferred: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0

    def line(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in vars(self).items())


@dataclass
class Job:
    id: int
    phone: str
    body: str
    subscriber_id: int
    attempts: int
    number: int = 0  # this attempt's number, once recorded
    outcome: Sent | SendError | str | None = None  # str: OPTED_OUT, skipped after a 21610
    day_start: datetime | None = None  # the number's local day, for the daily cap (messaging/caps.py)
    next_day: datetime | None = None  # when the text goes instead if today's cap is reached


@dataclass
class _Row:
    """What planning needs to know about one claimed row."""

    id: int
    phone: str
    body: str
    subscriber_id: int
    attempts: int
    source: str
    zone: str | None
    consent: str
    clinic_window: tuple[int, int] | None
    last_outcome: str | None
    last_started: datetime | None
    enrollment_ended: bool = False
    found: list = field(default_factory=list)
    lookup_failed: SendError | None = None


class Worker:
    def __init__(self, app: Flask, *, stop: threading.Event | None = None, sender=None):
        cfg = app.config
        self.app = app
        self.sessions = app.extensions["db_sessionmaker"]
        self.sender = sender or sender_for(app)
        self.stop = stop or threading.Event()
        self.batch = int(cfg["WORKER_BATCH"])
        self.lease = timedelta(seconds=int(cfg["LEASE_SECONDS"]))
        self.poll = float(cfg["WORKER_POLL_SECONDS"])
        self.max_attempts = int(cfg["SEND_MAX_ATTEMPTS"])
        self.retry_base = timedelta(seconds=int(cfg["SEND_RETRY_SECONDS"]))
        self.timeout = timedelta(seconds=float(cfg["SEND_TIMEOUT_SECONDS"]))
        self.window = window_from(cfg["SEND_WINDOW_START"], cfg["SEND_WINDOW_END"])
        self.default_zone = cfg["SEND_DEFAULT_TIMEZONE"]
        self.daily_cap = int(cfg["OUTBOUND_DAILY_CAP_PER_NUMBER"])
        self.callback = cfg["PUBLIC_BASE_URL"] + "/twilio/status"
        self.limiter = RateLimiter(self.sessions, float(cfg["SEND_RATE_PER_SECOND"]), wait=self.stop.wait)
        self.stats = Stats()
        self.errors = 0  # passes that raised (database down, ...); run_forever survives them

    def now(self) -> datetime:
        return self.app.extensions["clock"]()  # looked up each time: tests move or swap the clock

    # --- loops -------------------------------------------------------------------------------

    def run_forever(self) -> None:
        failures = 0  # in a row: a database outage backs off instead of logging every poll
        while not self.stop.is_set():
            try:
                self._replay_spool()
                claimed = self.run_once()
            except Exception as exc:  # noqa: BLE001 - a database or network blip must not end the worker
                failures += 1
                self.errors += 1
                pause = min(self.poll * 2 ** (failures - 1), max(self.poll, ERROR_BACKOFF_CAP))
                if failures == 1:
                    log.exception("worker: batch failed; its leases expire and another pass retries")
                else:
                    log.warning("worker: still failing (%s in a row, %s); next try in %.1f s",
                                failures, type(exc).__name__, pause, extra={"event": "worker_failing"})
                self.stop.wait(pause)
                continue
            if failures:
                log.info("worker: recovered after %s failed passes", failures)
                failures = 0
            if claimed == 0:
                self.stop.wait(self.poll)

    def _replay_spool(self) -> None:
        """Texts a web process on this machine kept while the database was down (service/spool.py);
        a web process replays its own too, this covers one that died or was scaled away."""
        replay(self.app)

    def drain(self) -> Stats:
        """Work until nothing is due (rows leased by live workers are theirs, not due)."""
        while not self.stop.is_set() and self.run_once():
            pass
        return self.stats

    def run_once(self) -> int:
        """Claim one batch and see it through. Returns how many rows were claimed."""
        with self.sessions() as sess, sess.begin():
            leased = claim(sess, self.now(), self._batch_size(), self.lease)
        if not leased.ids:
            return 0
        self.stats.claimed += len(leased.ids)
        jobs = self._plan(leased.token, leased.ids)
        self._send_all(leased.token, jobs)
        return len(leased.ids)

    def _batch_size(self) -> int:
        """With a rate limit, no more than a quarter lease's worth of sends: rows claimed and
        then left waiting for tokens are rows no other worker can take."""
        if not self.limiter.enabled:
            return self.batch
        return max(1, min(self.batch, int(self.limiter.rate * self.lease.total_seconds() / 4)))

    # --- 2. plan -----------------------------------------------------------------------------

    def _plan(self, token: str, ids: list[int]) -> list[Job]:
        rows = self._load(token, ids)
        for row in rows:
            if row.last_outcome in IN_DOUBT:  # outside any transaction: it is a REST call
                row.found, row.lookup_failed = lookup(self.sender, row.phone, row.last_started)
        now = self.now()
        jobs: list[Job] = []
        with self.sessions() as sess, sess.begin():
            taken = self._sids_in_use(sess, rows)
            for row in rows:
                if row.last_outcome in IN_DOUBT and self._reconcile(sess, row, token, taken, now):
                    continue
                if row.consent == SubscriberStatus.OPTED_OUT or row.enrollment_ended:
                    self._finish(sess, row.id, token, status=MessageStatus.CANCELLED)
                    self.stats.cancelled += 1
                    continue
                when = self._send_time(row, now)
                if when > now:
                    self._finish(sess, row.id, token, status=MessageStatus.QUEUED, due_at=when)
                    self.stats.deferred += 1
                    continue
                if row.attempts >= self.max_attempts:
                    self._finish(sess, row.id, token, status=MessageStatus.FAILED)
                    self.stats.failed += 1
                    continue
                day_start, next_day = self._cap_day(row, now)
                jobs.append(Job(row.id, row.phone, row.body, row.subscriber_id, row.attempts,
                                day_start=day_start, next_day=next_day))
        return jobs

    def _load(self, token: str, ids: list[int]) -> list[_Row]:
        m, a = OutboundMessage, OutboundAttempt
        query = (
            sa.select(m.id, m.phone, m.body, m.subscriber_id, m.attempts, m.source, m.send_timezone,
                      Enrollment.timezone, Subscriber.status, Clinic.window_start_hour,
                      Clinic.window_end_hour, a.outcome, a.started_at, Enrollment.status)
            .join(Subscriber, Subscriber.id == m.subscriber_id)
            .outerjoin(EnrollmentMessage, EnrollmentMessage.message_id == m.id)
            .outerjoin(Enrollment, Enrollment.id == EnrollmentMessage.enrollment_id)
            .outerjoin(Clinic, Clinic.id == Enrollment.clinic_id)
            .outerjoin(a, sa.and_(a.message_id == m.id, a.number == m.attempts))
            .where(m.id.in_(ids), m.lease_token == token, m.status == MessageStatus.SENDING)
            .order_by(m.due_at, m.id)
        )
        with self.sessions() as sess, sess.begin():
            result = sess.execute(query).all()
        return [_Row(id=r[0], phone=r[1], body=r[2], subscriber_id=r[3], attempts=r[4], source=r[5],
                     zone=r[6] or r[7], consent=r[8],
                     clinic_window=(r[9], r[10]) if r[9] is not None else None,
                     last_outcome=r[11], last_started=r[12], enrollment_ended=r[13] in ENDED_EARLY)
                for r in result]

    def _sids_in_use(self, sess, rows: list[_Row]) -> set[str]:
        sids = {f.sid for r in rows for f in r.found}
        if not sids:
            return set()
        return set(sess.scalars(sa.select(OutboundMessage.twilio_sid).where(OutboundMessage.twilio_sid.in_(sids))))

    def _reconcile(self, sess, row: _Row, token: str, taken: set[str], now: datetime) -> bool:
        """Settle a row whose last attempt may have reached Twilio. True when it is settled
        (found, or deferred because Twilio could not be asked); False: it never arrived."""
        if row.lookup_failed is not None:
            self._finish(sess, row.id, token, status=MessageStatus.QUEUED,
                         due_at=now + self._backoff(row.id, row.attempts))
            self.stats.retried += 1
            return True
        match = best_match(row.found, body=row.body, started=row.last_started, timeout=self.timeout, taken=taken)
        attempt = sa.update(OutboundAttempt).where(OutboundAttempt.message_id == row.id,
                                                   OutboundAttempt.number == row.attempts)
        if match is None:
            sess.execute(attempt.values(outcome="lost", finished_at=now))
            return False
        taken.add(match.sid)
        sess.execute(attempt.values(outcome="found", twilio_sid=match.sid, finished_at=now))
        msg = sess.get(OutboundMessage, row.id, with_for_update=True)
        accepted(msg, match.sid, match.status, now)
        if msg.status in UNDELIVERED_MESSAGES and match.error_code:
            msg.error_code = match.error_code
        self._clear_lease(msg, token)
        self.stats.reconciled += 1
        log.info("outbound %s: attempt %s had reached Twilio (%s); not sent again", row.id, row.attempts, match.sid)
        return True

    def _send_time(self, row: _Row, now: datetime) -> datetime:
        if row.source in IMMEDIATE_SOURCES:
            return now
        window = window_from_hours(*row.clinic_window) if row.clinic_window else self.window
        zones = zones_to_use(now, override=row.zone, phone=row.phone, fallback=self.default_zone)
        return next_send_time(now, window, zones)

    def _cap_day(self, row: _Row, now: datetime) -> tuple[datetime | None, datetime | None]:
        """(the number's local midnight today, tomorrow's first moment in the sending window)."""
        if self.daily_cap <= 0:
            return None, None
        zones = zones_to_use(now, override=row.zone, phone=row.phone, fallback=self.default_zone)
        today, tomorrow = local_day(now, zones[0])
        window = window_from_hours(*row.clinic_window) if row.clinic_window else self.window
        return today, next_send_time(tomorrow, window, zones)  # the window even for immediate sources

    # --- 3 and 4. attempt, send, record ------------------------------------------------------

    def _send_all(self, token: str, jobs: list[Job]) -> None:
        renewed = self.now()
        while jobs:
            granted = self.limiter.acquire(len(jobs)) if not self.stop.is_set() else 0
            if not granted:  # told to stop: give the rest back for another worker right away
                with self.sessions() as sess, sess.begin():
                    release(sess, token, [j.id for j in jobs])
                return
            if self.now() - renewed > self.lease / 3:  # waiting for tokens: keep what we hold
                jobs, renewed = self._renew(token, jobs), self.now()
                granted = min(granted, len(jobs))
            chunk, jobs = jobs[:granted], jobs[granted:]
            chunk = self._begin_attempts(token, chunk)
            unsubscribed: set[str] = set()
            for job in chunk:
                if self.stop.is_set():
                    break  # unsent jobs keep outcome None and are withdrawn below
                if job.phone in unsubscribed:
                    job.outcome = OPTED_OUT  # Twilio just said 21610 for this number: no second call
                    continue
                job.outcome = self._call(job)
                if isinstance(job.outcome, SendError) and job.outcome.code == OPTED_OUT:
                    unsubscribed.add(job.phone)
            self._record(token, chunk)

    def _renew(self, token: str, jobs: list[Job]) -> list[Job]:
        m = OutboundMessage
        with self.sessions() as sess, sess.begin():
            held = set(sess.scalars(
                sa.update(m).where(m.id.in_([j.id for j in jobs]), m.lease_token == token,
                                   m.status == MessageStatus.SENDING)
                .values(lease_until=self.now() + self.lease).returning(m.id)
                .execution_options(synchronize_session=False)))
        return [j for j in jobs if j.id in held]

    def _begin_attempts(self, token: str, chunk: list[Job]) -> list[Job]:
        """Commit a pending attempt for each job we still may send; drop the others."""
        m = OutboundMessage
        now = self.now()
        ids = [j.id for j in chunk]
        with self.sessions() as sess, sess.begin():
            # Consent at send time: a STOP committed since planning cancels the text here, as
            # does the clinic stopping the enrollment.
            ended = (sa.select(EnrollmentMessage.message_id)
                     .join(Enrollment, Enrollment.id == EnrollmentMessage.enrollment_id)
                     .where(EnrollmentMessage.message_id.in_(ids), Enrollment.status.in_(ENDED_EARLY)))
            stopped = list(sess.scalars(
                sa.select(m.id).join(Subscriber, Subscriber.id == m.subscriber_id)
                .where(m.id.in_(ids), sa.or_(Subscriber.status == SubscriberStatus.OPTED_OUT, m.id.in_(ended)))))
            for message_id in stopped:
                self._finish(sess, message_id, token, status=MessageStatus.CANCELLED)
                self.stats.cancelled += 1
            live = [i for i in ids if i not in set(stopped)]
            # The daily cap per number, counted under the subscribers' locks: over it, tomorrow.
            deferred = over_cap(sess, [j for j in chunk if j.id in live], self.daily_cap)
            for message_id, when in deferred.items():
                self._finish(sess, message_id, token, status=MessageStatus.QUEUED, due_at=when)
                self.stats.deferred += 1
            live = [i for i in live if i not in deferred]
            if not live:
                return []
            # The lease is the fence: only the claim that holds it (and a row with no sid yet,
            # which a status callback may have just supplied) gets to call Twilio.
            numbers = dict(sess.execute(
                sa.update(m)
                .where(m.id.in_(live), m.lease_token == token, m.status == MessageStatus.SENDING,
                       m.twilio_sid.is_(None))
                .values(attempts=m.attempts + 1, lease_until=now + self.lease)
                .returning(m.id, m.attempts)
                .execution_options(synchronize_session=False)).all())
            if numbers:
                sess.execute(sa.insert(OutboundAttempt), [
                    {"message_id": i, "number": n, "outcome": "pending", "started_at": now} for i, n in numbers.items()])
        kept = [j for j in chunk if j.id in numbers]
        for job in kept:
            job.number = numbers[job.id]
        return kept

    def _call(self, job: Job) -> Sent | SendError:
        url = f"{self.callback}?o={job.id}&a={job.number}"
        try:
            return self.sender.send(job.phone, job.body, url)
        except SendError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a bug in a sender must not look like "not sent"
            log.exception("outbound %s: sender raised", job.id)
            return SendError(UNKNOWN, "error", type(exc).__name__)

    def _record(self, token: str, chunk: list[Job]) -> None:
        if not chunk:
            return
        now = self.now()
        with self.sessions() as sess, sess.begin():
            rows = {r.id: r for r in sess.scalars(
                sa.select(OutboundMessage).where(OutboundMessage.id.in_([j.id for j in chunk])).with_for_update())}
            finished = [self._apply(sess, rows[job.id], job, token, now) for job in chunk]
            finished = [f for f in finished if f is not None]
            if finished:  # one executemany for the whole chunk
                a = OutboundAttempt
                sess.flush()
                sess.connection().execute(
                    sa.update(a).where(a.message_id == sa.bindparam("m"), a.number == sa.bindparam("n"))
                    .values(outcome=sa.bindparam("o"), twilio_sid=sa.bindparam("sid"),
                            error_code=sa.bindparam("code"), finished_at=now),
                    finished)

    def _apply(self, sess, row: OutboundMessage, job: Job, token: str, now: datetime) -> dict | None:
        """Apply one call's outcome to its row; returns the attempt's outcome to store."""
        result = job.outcome
        if result is None or result == OPTED_OUT:
            # Never called (stopping, or the number just opted out): as if no attempt began.
            sess.execute(sa.delete(OutboundAttempt).where(OutboundAttempt.message_id == job.id,
                                                          OutboundAttempt.number == job.number))
            if row.lease_token == token and row.status == MessageStatus.SENDING:
                row.attempts -= 1
                row.status = MessageStatus.QUEUED if result is None else MessageStatus.CANCELLED
                row.lease_until = row.lease_token = None
                if result == OPTED_OUT:
                    self.stats.cancelled += 1
            return None
        attempt = {"m": job.id, "n": job.number, "sid": None, "code": None}
        if isinstance(result, Sent):
            accepted(row, result.sid, result.status, now)
            self._clear_lease(row, token)
            self.stats.sent += 1
            return {**attempt, "o": "accepted", "sid": result.sid}
        outcome = {RETRY: "retry", UNKNOWN: "unknown", PERMANENT: "rejected"}[result.kind]
        attempt.update(o=outcome, code=result.code)
        if row.lease_token != token or row.status != MessageStatus.SENDING:
            return attempt  # the lease was lost meanwhile; whoever holds it now decides
        row.error_code = (result.code or "")[:16] or None
        row.lease_until = row.lease_token = None
        if result.kind == PERMANENT:
            row.status = MessageStatus.FAILED
            self.stats.failed += 1
            if result.code == OPTED_OUT:
                opt_out_from_21610(sess, row.subscriber_id, f"outbound {row.id}", now)
            log.warning("outbound %s to %s failed: Twilio error %s", row.id, mask(row.phone), result.code)
        elif result.kind == RETRY and row.attempts >= self.max_attempts:
            row.status = MessageStatus.FAILED
            self.stats.failed += 1
        else:
            # UNKNOWN always comes back, even after the last attempt: the next claim looks the
            # message up before deciding between "sent" and "failed".
            row.status = MessageStatus.QUEUED
            row.due_at = now + self._backoff(row.id, row.attempts)
            self.stats.retried += 1
        return attempt

    # --- helpers -----------------------------------------------------------------------------

    def _finish(self, sess, message_id: int, token: str, *, status: str, due_at: datetime | None = None) -> None:
        values = {"status": status, "lease_until": None, "lease_token": None}
        if due_at is not None:
            values["due_at"] = due_at
        m = OutboundMessage
        sess.execute(sa.update(m).where(m.id == message_id, m.lease_token == token, m.status == MessageStatus.SENDING)
                     .values(**values).execution_options(synchronize_session=False))

    @staticmethod
    def _clear_lease(row: OutboundMessage, token: str) -> None:
        if row.lease_token == token:
            row.lease_until = row.lease_token = None

    def _backoff(self, message_id: int, attempts: int) -> timedelta:
        """Exponential, capped, with up to 10% jitter fixed per (row, attempt), so rows that
        failed together (a 429 burst) do not all come back in the same second."""
        base = min(RETRY_CAP, self.retry_base * (2 ** max(0, attempts - 1)))
        digest = hashlib.sha256(f"{message_id}:{attempts}".encode()).digest()
        return base * (1 + digest[0] / 255 / 10)


@click.command("worker")
@click.option("--drain", is_flag=True, help="send everything due now, then exit")
@with_appcontext
def worker_command(drain: bool) -> None:
    """Send due texts (runs until SIGTERM; --drain exits when nothing is due)."""
    stop = threading.Event()

    def _stop(signum, _frame):
        log.info("worker: signal %s, finishing the current text", signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    worker = Worker(current_app._get_current_object(), stop=stop)
    log.info("worker started (%s)", "drain" if drain else "forever")
    if drain:
        worker.drain()
    else:
        worker.run_forever()
    log.info("worker stopped: %s", worker.stats.line())
    click.echo(f"worker: {worker.stats.line()}")
