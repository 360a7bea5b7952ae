"""GET /metrics: Prometheus text format; the numbers move when things happen; METRICS_TOKEN is
enforced; a webhook falling back to its apology is counted and logged as one structured line."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from service import create_app
from service.config import load_settings
from service.db import utcnow
from service.logs import JsonFormatter
from service.models import OutboundMessage, TrialSync
from tests.support.outbound import LA, NYC, queue
from tests.support.twilio import new_sid

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>-?[0-9.e+-]+|NaN)$')
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    """Parse the exposition strictly: HELP and TYPE before each family's samples, valid lines."""
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.data
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = resp.get_data(as_text=True)
    assert text.endswith("\n")
    samples, typed = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "gauge"} and name not in typed
            typed[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert match["name"] in typed, f"sample before its # TYPE: {line!r}"
        labels = frozenset((m["key"], m["value"]) for m in LABEL.finditer(match["labels"] or ""))
        key = (match["name"], labels)
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(match["value"])
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_webhook_requests_and_errors_by_route(client, twilio, monkeypatch, caplog):
    before = scrape(client)
    assert value(before, "mbc_webhook_requests_total", route="/twilio/sms", status="200") == 0
    twilio.sms("hi")
    twilio.sms("MENU")
    assert twilio.post("/twilio/sms", twilio.sms_params("hi", "+14155550100"), signature="forged").status == 403

    from service.channels import sms

    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(sms, "answer_sms", broken)
    with caplog.at_level(logging.ERROR, logger="service.channels.sms"):
        reply = twilio.sms("2", sid=new_sid("SM"))
    assert reply.status == 200 and len(reply.messages) == 1 and reply.messages[0].startswith("Sorry")

    after = scrape(client)
    assert value(after, "mbc_webhook_requests_total", route="/twilio/sms", status="200") == 3
    assert value(after, "mbc_webhook_requests_total", route="/twilio/sms", status="403") == 1
    assert value(after, "mbc_webhook_errors_total", route="/twilio/sms") == 1
    assert value(after, "mbc_webhook_errors_total", route="/twilio/voice") == 0
    assert not any(name == "mbc_webhook_requests_total" and ("route", "/metrics") in labels for name, labels in after)

    # The line an operator alerts on: event=webhook_fallback, with the route, as JSON.
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "webhook_fallback"]
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["event"], entry["route"], entry["level"]) == ("webhook_fallback", "/twilio/sms", "ERROR")
    assert "4155550100" not in json.dumps(entry)


def test_voice_and_status_fallbacks_are_counted_by_route(app, client, twilio, monkeypatch):
    from service.channels import status as status_mod
    from service.calls import VoiceLine

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(VoiceLine, "start", broken)
    monkeypatch.setattr(status_mod, "callback_received", broken)
    call = {"CallSid": new_sid("CA"), "From": LA, "To": "+18005550199", "AccountSid": "AC" + "1" * 32,
            "CallStatus": "ringing"}
    voice = twilio.post("/twilio/voice", call)
    assert voice.status == 200 and [el.tag for el in voice.root] == ["Say", "Hangup"]
    cb = {"MessageSid": new_sid("SM"), "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    assert twilio.post("/twilio/status", cb).status == 204
    samples = scrape(client)
    assert value(samples, "mbc_webhook_errors_total", route="/twilio/voice") == 1
    assert value(samples, "mbc_webhook_errors_total", route="/twilio/status") == 1
    assert value(samples, "mbc_webhook_requests_total", route="/twilio/status", status="204") == 1


def test_queue_depth_and_oldest_due_age_follow_the_queue(app, client, clock):
    empty = scrape(client)
    assert value(empty, "mbc_database_up") == 1
    assert value(empty, "mbc_outbound_queue_depth", status="queued") == 0
    assert value(empty, "mbc_outbound_oldest_due_age_seconds") == 0

    queue(app, LA, "late", due_at=clock() - timedelta(minutes=10))
    queue(app, NYC, "due now")
    queue(app, LA, "next week", due_at=clock() + timedelta(days=7))
    samples = scrape(client)
    assert value(samples, "mbc_outbound_queue_depth", status="queued") == 3
    assert value(samples, "mbc_outbound_queue_depth", status="sending") == 0
    assert value(samples, "mbc_outbound_due") == 2
    assert value(samples, "mbc_outbound_oldest_due_age_seconds") == 600

    clock.advance(seconds=90)  # nobody sends: the oldest keeps ageing
    assert value(scrape(client), "mbc_outbound_oldest_due_age_seconds") == 690
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():  # a worker took the late one
        sess.execute(sa.update(OutboundMessage).where(OutboundMessage.body == "late")
                     .values(status="sending", lease_until=clock() + timedelta(seconds=60), lease_token="t"))
    samples = scrape(client)
    assert value(samples, "mbc_outbound_queue_depth", status="sending") == 1
    assert value(samples, "mbc_outbound_oldest_due_age_seconds") == 90
    clock.advance(seconds=61)  # its lease expired: due again, as old as it was
    assert value(scrape(client), "mbc_outbound_oldest_due_age_seconds") == 751


def test_delivery_failures_by_code_over_24_hours(app, client):
    ids = [queue(app, LA, f"text {i}") for i in range(5)]
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        m = OutboundMessage
        sess.execute(sa.update(m).where(m.id.in_(ids[:2])).values(status="undelivered", error_code="30003"))
        sess.execute(sa.update(m).where(m.id == ids[2]).values(status="failed", error_code="21610"))
        sess.execute(sa.update(m).where(m.id == ids[3]).values(status="failed", error_code="30007",
                                                              updated_at=utcnow() - timedelta(hours=25)))
    samples = scrape(client)
    assert value(samples, "mbc_delivery_failures_24h", error_code="30003") == 2
    assert value(samples, "mbc_delivery_failures_24h", error_code="21610") == 1
    assert value(samples, "mbc_delivery_failures_24h", error_code="30007") == 0  # a day old: gone
    assert value(samples, "mbc_outbound_queue_depth", status="queued") == 1


def test_last_trials_sync(app, client):
    assert value(scrape(client), "mbc_trials_last_sync_timestamp_seconds") == 0
    finished = datetime(2026, 11, 2, 6, 30, tzinfo=timezone.utc)
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sess.add(TrialSync(status="ok", started_at=finished - timedelta(minutes=5), finished_at=finished))
        sess.add(TrialSync(status="failed", started_at=finished, finished_at=finished + timedelta(hours=1)))
    assert value(scrape(client), "mbc_trials_last_sync_timestamp_seconds") == finished.timestamp()


def test_database_down_still_answers_with_the_process_counters():
    app = create_app({"APP_ENV": "test", "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    client = app.test_client()
    client.post("/twilio/sms", data={})  # unsigned: 403, counted
    samples = scrape(client)
    assert value(samples, "mbc_database_up") == 0
    assert value(samples, "mbc_webhook_requests_total", route="/twilio/sms", status="403") == 1
    assert not any(name == "mbc_outbound_queue_depth" for name, _ in samples)


@pytest.mark.parametrize(("header", "allowed"), [
    (None, False), ("Bearer wrong-token", False), ("Basic czNjcmV0", False), ("Bearer", False),
    ("Bearer metrics-token-0123", True), ("bearer metrics-token-0123", True),
])
def test_metrics_token_is_enforced_when_set(app, client, header, allowed):
    app.config["METRICS_TOKEN"] = "metrics-token-0123"
    resp = client.get("/metrics", headers={"Authorization": header} if header else {})
    if allowed:
        assert resp.status_code == 200 and b"mbc_database_up 1" in resp.data
    else:
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"mbc_" not in resp.data


def test_metrics_token_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "from-env")
    assert load_settings({"APP_ENV": "test"}).METRICS_TOKEN == "from-env"
    monkeypatch.delenv("METRICS_TOKEN")
    assert load_settings({"APP_ENV": "test"}).METRICS_TOKEN == ""
