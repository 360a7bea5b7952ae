"""Structured JSON logs with a request id, and a last line of defence against leaking numbers.

Code logs masked numbers (service.phones.mask) and never message bodies; the filter below also
masks anything that still looks like a phone number, so one careless log line cannot leak one.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

PHONE_LIKE = re.compile(r"(?<![\w*])\+?\d[\d\-\s().]{8,16}\d(?!\w)")
# The same in a URL's query string, "+" encoded: To=%2B14155550123 (urllib3 logs request URLs at DEBUG).
ENCODED_PHONE = re.compile(r"%2B(\d{8,15})(?!\d)", re.IGNORECASE)


def _mask_match(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 10:
        return match.group(0)
    return f"+{digits[0]}{'*' * (len(digits) - 5)}{digits[-4:]}"


def _mask_encoded(match: re.Match) -> str:
    digits = match.group(1)
    return f"+{digits[0]}{'*' * (len(digits) - 5)}{digits[-4:]}"


def scrub(text: str) -> str:
    return PHONE_LIKE.sub(_mask_match, ENCODED_PHONE.sub(_mask_encoded, text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for key in ("event", "route", "status", "duration_ms", "error_code", "queue_depth"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for development. Only the message and traceback are scrubbed: the
    timestamp is ours and would otherwise look like a phone number."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = scrub(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:  # noqa: N802
        return scrub(super().formatException(ei))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and "request_id" in g:
            record.request_id = g.request_id
        return True


_configured = False


def configure(app: Flask) -> None:
    """Install one handler on the root logger (once per process) and request ids per request."""
    global _configured
    if not _configured:
        handler = logging.StreamHandler()
        fmt = app.config.get("LOG_FORMAT") or ("json" if app.config["APP_ENV"] == "production" else "text")
        handler.setFormatter(JsonFormatter() if fmt == "json" else
                             TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RequestIdFilter())
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        _configured = True

    @app.before_request
    def _request_id():
        # Twilio sends I-Twilio-Idempotency-Token on webhooks; a proxy may send X-Request-Id.
        g.request_id = (request.headers.get("X-Request-Id") or request.headers.get("I-Twilio-Idempotency-Token")
                        or uuid.uuid4().hex)[:64]

    @app.after_request
    def _echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response
