"""Reference servers for the webhook benchmark, served the same way as the real app.

    bare    fixed TwiML: Flask's and gunicorn's own cost, the benchmark's yardstick (`app`)
    signed  + check X-Twilio-Signature over the parsed form, as any honest webhook must
    stored  + one durable write of the text (the raw driver, one INSERT and COMMIT per request):
            the least a webhook that never loses a message can do

The two floors (create_app("signed"), create_app("stored")) show how much of the bare route's
throughput is left before the line does anything of its own. They are not the line: no state,
no engine, no reply worth reading.
"""

from __future__ import annotations

import hmac
import os
import threading

from flask import Flask, Response, abort, request

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hello</Message></Response>'
VOICE_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/input" '
               'finishOnKey="" input="dtmf" method="POST" numDigits="1" timeout="6"><Say language="en-US" '
               'voice="Polly.Joanna">Hello. Press 1.</Say></Gather><Redirect method="POST">/twilio/voice/silence'
               '</Redirect></Response>')
FLOOR_TABLE = "bench_floor_messages"
MODES = ("bare", "signed", "stored")


def create_app(mode: str = "bare", *, base_url: str | None = None, token: str | None = None,
               database_url: str | None = None) -> Flask:
    """A reference server. What is not given comes from the environment as for the real app:
    PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN (signed, stored), DATABASE_URL (stored)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    app = Flask(__name__)
    if mode == "bare":
        app.add_url_rule("/twilio/sms", "sms", lambda: Response(TWIML, mimetype="application/xml"), methods=["POST"])
        for path in ("/twilio/voice", "/twilio/voice/input"):
            app.add_url_rule(path, path, lambda: Response(VOICE_TWIML, mimetype="application/xml"), methods=["POST"])
        return app

    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token or os.environ["TWILIO_AUTH_TOKEN"])
    sms_url = (base_url or os.environ["PUBLIC_BASE_URL"]) + "/twilio/sms"
    store = _Store(database_url or os.environ["DATABASE_URL"]) if mode == "stored" else None

    @app.post("/twilio/sms")
    def sms():
        form = request.form
        expected = validator.compute_signature(sms_url, form).encode()
        if not hmac.compare_digest(expected, request.headers.get("X-Twilio-Signature", "").encode()):
            abort(403)
        if store is not None:
            store.insert(form["MessageSid"], form["From"], form.get("Body", ""))
        return Response(TWIML, mimetype="application/xml")

    return app


def _driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _connect(url: str):
    """(connection, parameter marker) from the raw driver."""
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg

    return psycopg.connect(url), "%s"


def create_floor_table(url: str) -> None:
    """The stored floor's table; made once before its servers start (two workers creating it at
    once race on PostgreSQL's catalog)."""
    url = _driver_url(url)
    conn, _ = _connect(url)
    try:
        key = "INTEGER PRIMARY KEY" if url.startswith("sqlite") else "BIGSERIAL PRIMARY KEY"
        conn.execute(f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id {key}, sid TEXT UNIQUE NOT NULL, "
                     "phone TEXT NOT NULL, body TEXT NOT NULL)")
        conn.commit()  # PostgreSQL's driver opened a transaction; SQLite's autocommits (no-op)
    finally:
        conn.close()


class _Store:
    """One connection per worker process (opened on its first request, after gunicorn forked), the
    same durability settings as the line's: SQLite WAL with synchronous=NORMAL; PostgreSQL with
    synchronous_commit on."""

    def __init__(self, url: str):
        self.url = _driver_url(url)
        self.local = threading.local()

    def insert(self, sid: str, phone: str, body: str) -> None:
        if not hasattr(self.local, "conn"):
            self.local.conn, mark = _connect(self.url)
            self.local.sql = f"INSERT INTO {FLOOR_TABLE} (sid, phone, body) VALUES ({mark}, {mark}, {mark})"
        conn = self.local.conn
        if self.url.startswith("sqlite"):
            conn.execute("BEGIN IMMEDIATE")  # as the line does: writers queue for the lock
        try:
            conn.execute(self.local.sql, (sid, phone, body))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


app = create_app()  # gunicorn bench.bare:app; the floors: gunicorn 'bench.bare:create_app("stored")'
