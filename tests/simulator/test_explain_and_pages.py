"""The line explains itself (service/simulator/explain.py, service/pages.py): why a reply was held
back, the server's reason for a refused request, when a queued text goes out, the development
start page at /, and a styled page for unknown addresses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import sqlalchemy as sa

from service.models import Subscriber
from service.outbound import enqueue

PHONE = "+14155550142"  # 555-01xx: fictional


def sms(client, body, phone=PHONE):
    resp = client.post("/simulator/api/sms", json={"phone": phone, "body": body})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_opted_out_silence_says_why(client):
    sms(client, "STOP")
    res = sms(client, "MENU")
    assert res["messages"] == []
    assert res["held_back"]["code"] == "opted_out" and "START" in res["held_back"]["text"]


def test_flood_limit_says_why(app, client, clock):
    app.extensions["line"] = replace(app.extensions["line"], flood_limit=3)
    answered = [sms(client, f"MENU {i}") for i in range(4)]
    assert all(r["messages"] for r in answered[:3])
    assert answered[3]["messages"] == [] and answered[3]["held_back"]["code"] == "flood"
    assert "more than 3 texts in 2 minutes" in answered[3]["held_back"]["text"]
    clock.advance(minutes=3)
    assert sms(client, "MENU")["messages"]  # the window passed: replies resume


def test_a_reply_is_not_explained_away(client):
    assert "held_back" not in sms(client, "MENU")


def test_a_refused_request_gives_the_servers_reason(client):
    resp = client.post("/simulator/api/sms", json={"phone": "+14155551234", "body": "hi"})
    assert resp.status_code == 400
    assert resp.get_json() == {"error": "the simulator only uses fictional numbers +1NNN5550100 to +1NNN5550199",
                               "status": 400}
    resp = client.post("/simulator/api/sms", data="body=hi")
    assert resp.status_code == 415 and resp.get_json()["error"]


def test_simulate_in_the_terminal_says_why(app, runner):
    app.extensions["line"] = replace(app.extensions["line"], flood_limit=2)
    out = runner.invoke(args=["simulate", "--phone", "+1 415 555 0111"], input="MENU\nMENU 1\nMENU 2\n").output
    assert "(no reply: held back: flood limit, more than 2 texts in 2 minutes" in out


def test_outbox_gives_due_time_and_quiet_hours(app, client, clock):
    sms(client, "MENU")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == PHONE)).one()
        # 415: Pacific time. 06:00 UTC is 22:00 or 23:00 there: outside 09:00-20:00.
        night = datetime(2026, 12, 8, 6, 0, tzinfo=timezone.utc)
        enqueue(sess, sub, "later", dedupe_key="t1", source="test", now=clock(), due_at=night)
    [row] = client.get("/simulator/api/outbox", query_string={"phone": PHONE}).get_json()
    assert row["status"] == "queued" and row["due_at"].startswith("2026-12-08T06:00")
    assert row["quiet_hours"] is True and row["send_at"].startswith("2026-12-08T17:00")  # 09:00 PST


def test_outbox_shows_a_sent_text_as_sent(app, client, clock):
    sms(client, "MENU")
    with app.extensions["db_sessionmaker"]() as sess, sess.begin():
        sub = sess.scalars(sa.select(Subscriber).where(Subscriber.phone == PHONE)).one()
        row = enqueue(sess, sub, "now", dedupe_key="t2", source="test", now=clock())
        row.status, row.sent_at = "delivered", clock()
    [row] = client.get("/simulator/api/outbox", query_string={"phone": PHONE}).get_json()
    assert row["status"] == "delivered" and row["sent_at"] and "send_at" not in row


def test_start_page_links_the_phone_the_portal_and_the_docs(client):
    resp = client.get("/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'href="/simulator"' in html and 'href="/portal/"' in html and "docs/clinics.md" in html


def test_no_start_page_without_the_simulator(app, client):
    app.config["SIMULATOR_ENABLED"] = False
    assert client.get("/").status_code == 404


def test_unknown_addresses_get_a_styled_page_in_the_browsers_language(client):
    resp = client.get("/portal/no-such-page", headers={"Accept-Language": "es"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "Página no encontrada" in html and 'lang="es"' in html
    assert client.get("/api/v1/nope").is_json  # the API keeps its JSON errors
    assert "Page not found" in client.get("/nowhere").get_data(as_text=True)
