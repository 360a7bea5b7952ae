"""GET /metrics: numbers for an operator's Prometheus, in its text exposition format (0.0.4).

Two sources (docs/operations.md says what to alert on):

- counters kept in this process's memory: webhook requests by route and HTTP status, and webhook
  errors by route (a fallback answer such as the apology, or a 5xx). They are PER PROCESS: each
  gunicorn worker counts its own requests and starts from zero when it restarts, so a scrape
  sees whichever process answered it. Prometheus' rate() tolerates the resets; for exact
  totals alert on the `webhook_fallback` log line too, or run one process with threads.
- gauges read from the database at scrape time, so every process reports the same values: the
  outbound queue, delivery failures over the last 24 hours, the last trials sync.

METRICS_TOKEN, when set, must come as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections import defaultdict
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request

from .db import utcnow
from .models import OutboundMessage, TrialSync
from .statuses import PENDING_MESSAGES, UNDELIVERED_MESSAGES, MessageStatus, SyncStatus

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEBHOOK_PREFIX = "/twilio/"


class Counters:
    """Thread-safe counters of this process, keyed by (metric name, label values)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[tuple[str, tuple], int] = defaultdict(int)

    def inc(self, name: str, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._values[key] += 1

    def samples(self, name: str) -> list[tuple[dict, int]]:
        with self._lock:
            return [(dict(labels), v) for (n, labels), v in sorted(self._values.items()) if n == name]


def init_app(app: Flask) -> None:
    app.extensions["metrics"] = Counters()
    if app.config.get("METRICS_ENABLED", True):  # METRICS_ENABLED=0: no /metrics route at all
        app.register_blueprint(bp)

    @app.after_request
    def _count_webhooks(response):
        if request.path.startswith(WEBHOOK_PREFIX):
            route = _route()
            counters: Counters = app.extensions["metrics"]
            counters.inc("mbc_webhook_requests_total", route=route, status=str(response.status_code))
            if g.get("webhook_fallback") or response.status_code >= 500:
                counters.inc("mbc_webhook_errors_total", route=route)
        return response


def webhook_fallback() -> dict:
    """Call where a webhook gives up and answers its fallback (the apology TwiML, a bare 204):
    counts the error and returns the `extra` of the log line operators alert on, e.g.

        log.exception("sms webhook failed ...", ..., extra=webhook_fallback())

    which the JSON log format writes as {"event": "webhook_fallback", "route": "/twilio/sms", ...}.
    """
    g.webhook_fallback = True
    return {"event": "webhook_fallback", "route": _route()}


def _route() -> str:
    """The route's rule, not the raw path: label values stay few whatever callers send."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _authorized() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@bp.get("/metrics")
def metrics():
    if not _authorized():
        return Response("unauthorized\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    out = Exposition()
    counters: Counters = current_app.extensions["metrics"]
    out.family("mbc_webhook_requests_total", "counter",
               "Twilio webhook requests answered, by route and HTTP status (this process only).",
               counters.samples("mbc_webhook_requests_total"))
    out.family("mbc_webhook_errors_total", "counter",
               "Twilio webhooks that failed and answered their fallback (apology) or a 5xx, by route "
               "(this process only).", counters.samples("mbc_webhook_errors_total"))
    out.family("mbc_inbound_spooled", "gauge",
               "Inbound texts received while the database was down, waiting on this machine's disk "
               "to be recorded (service/spool.py); should fall to 0 once the database is back.",
               [({}, current_app.extensions["spool"].pending())])
    out.family("mbc_inbound_spool_failed", "gauge",
               "Spooled texts that could not be recorded (not the database's fault): kept in *.failed "
               "files for an operator.", [({}, current_app.extensions["spool"].failed())])
    try:
        database = read_database(current_app.extensions["db_engine"], current_app.extensions["clock"](), utcnow())
    except sa.exc.SQLAlchemyError as exc:  # the scrape still answers: the database being down is news
        log.warning("metrics: database unavailable: %s", type(exc).__name__)
        database = None
    out.family("mbc_database_up", "gauge", "1 when the database answered this scrape, else 0.",
               [({}, 0 if database is None else 1)])
    if database is not None:
        out.family("mbc_outbound_queue_depth", "gauge", "Outbound texts waiting or being sent, by status.",
                   [({"status": s}, database["depth"].get(s, 0)) for s in PENDING_MESSAGES])
        out.family("mbc_outbound_due", "gauge",
                   "Outbound texts due now: queued and due, or sending with an expired lease.",
                   [({}, database["due"])])
        out.family("mbc_outbound_oldest_due_age_seconds", "gauge",
                   "Seconds since the oldest due outbound text became due (0 when none is due).",
                   [({}, database["oldest_due_age"])])
        out.family("mbc_delivery_failures_24h", "gauge",
                   "Outbound texts failed or undelivered in the last 24 hours, by Twilio error code.",
                   [({"error_code": code}, n) for code, n in sorted(database["failures"].items())])
        out.family("mbc_trials_last_sync_timestamp_seconds", "gauge",
                   "Unix time of the last successful trials sync (0: never).",
                   [({}, database["trials_last_sync"])])
    return Response(out.text(), status=200, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def read_database(engine: sa.Engine, now: datetime, wall_now: datetime) -> dict:
    """The gauges that come from the database, in one short read. `now` is the app clock (due
    times are in it); `wall_now` is real time (updated_at is written with it)."""
    M = OutboundMessage
    due = sa.or_(sa.and_(M.status == MessageStatus.QUEUED, M.due_at <= now),
                 sa.and_(M.status == MessageStatus.SENDING, M.lease_until < now))
    with engine.connect() as conn:
        # status IN (...) first: the partial claim index covers exactly these rows.
        depth = dict(conn.execute(sa.select(M.status, sa.func.count()).where(M.status.in_(PENDING_MESSAGES))
                                  .group_by(M.status)).all())
        oldest, due_count = conn.execute(sa.select(sa.func.min(M.due_at), sa.func.count())
                                         .where(M.status.in_(PENDING_MESSAGES), due)).one()
        failures = {code or "none": n for code, n in conn.execute(
            sa.select(M.error_code, sa.func.count())
            .where(M.status.in_(UNDELIVERED_MESSAGES), M.updated_at >= wall_now - timedelta(hours=24))
            .group_by(M.error_code)).all()}
        last_sync = conn.execute(sa.select(sa.func.max(TrialSync.finished_at)).where(TrialSync.status == SyncStatus.OK)).scalar()
    return {
        "depth": depth,
        "due": due_count,
        "oldest_due_age": max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        "failures": failures,
        "trials_last_sync": last_sync.timestamp() if last_sync is not None else 0,
    }


class Exposition:
    """Builds the text format: # HELP, # TYPE, then one `name{labels} value` line per sample."""

    def __init__(self):
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
            self._lines.append(f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
