"""Logs: JSON with request ids; phone numbers and bodies never appear unmasked."""

from __future__ import annotations

import json
import logging

import pytest

from service.logs import JsonFormatter, scrub


@pytest.mark.parametrize("raw,masked", [
    ("from +14155550123 at noon", "from +1******0123 at noon"),
    ("call 415-555-0123 now", "call +4*****0123 now"),
    ("already +1******0123", "already +1******0123"),
    ("order 12345 and 2026-11-28", "order 12345 and 2026-11-28"),
    ("GET /Messages.json?To=%2B14155550123&PageSize=50", "GET /Messages.json?To=+1******0123&PageSize=50"),
])
def test_scrub_masks_phone_like_numbers(raw, masked):
    assert scrub(raw) == masked


def test_json_formatter_masks_and_carries_request_id():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", ("+14155550123",), None)
    record.request_id = "abc"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed for +1******0123" and entry["request_id"] == "abc"


def test_a_whole_conversation_logs_no_number_or_body(twilio, caplog, app):
    caplog.set_level(logging.DEBUG)
    bodies = ["hi there", "2", "I have a fever", "STOP"]
    for body in bodies:
        twilio.sms(body, from_="+14155550199")
    app.extensions["db_sessionmaker"] = None  # force the failure path too
    twilio.sms("secret words here", from_="+14155550199")
    text = "\n".join(r.getMessage() + (logging.Formatter().formatException(r.exc_info) if r.exc_info else "")
                     for r in caplog.records)
    assert "4155550199" not in text
    for body in ("hi there", "I have a fever", "secret words here"):
        assert body not in text


def test_responses_carry_a_request_id(client):
    resp = client.get("/healthz", headers={"X-Request-Id": "req-123"})
    assert resp.headers["X-Request-Id"] == "req-123"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32


def test_database_errors_do_not_carry_parameters(app):
    import sqlalchemy as sa

    engine = app.extensions["db_engine"]
    with pytest.raises(sa.exc.DBAPIError) as info:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO no_such_table VALUES (:phone)"), {"phone": "+14155550123"})
    assert "4155550123" not in str(info.value)


def test_text_formatter_keeps_timestamps_and_masks_numbers():
    from service.logs import TextFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent to %s", ("+14155550123",), None)
    line = TextFormatter("%(asctime)s %(message)s").format(record)
    stamp = line.split(" sent to ")[0]
    assert "*" not in stamp and line.endswith("sent to +1******0123")
