"""A local stand-in for Twilio's Messages resource (reference/twilio_api_v2010.json):

- POST /2010-04-01/Accounts/{AccountSid}/Messages.json  (HTTP Basic auth, form body) -> 201 JSON
  shaped like the spec's api.v2010.account.message
- GET  /2010-04-01/Accounts/{AccountSid}/Messages.json  (To, From, DateSent[<>], PageSize, Page,
  PageToken) -> ListMessageResponse, newest first
- GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json

Errors use Twilio's envelope {"code", "message", "more_info", "status"}. Failures are scripted
per call (`script_next`) or per recipient (`script_to`): an error status and code, a slow answer,
or a dropped connection (after or before the message was created). The test-credential magic
numbers answer as Twilio documents them (+15005550001 -> 21211, ...004 -> 21610, ...009 -> 21614).
A message is stored as soon as it is accepted, before a slow or dropped answer: exactly the case
of a message that reached Twilio although its sender never heard back.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

API = "/2010-04-01/Accounts/"
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages(?:/(?P<sid>[A-Z]{2}[0-9a-f]{32}))?\.json$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAGIC_TO = {
    "+15005550001": (400, 21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number is not a valid mobile number"),
}


@dataclass(frozen=True)
class Action:
    kind: str  # error | slow | drop
    status: int = 0
    code: int | None = None
    message: str = ""
    seconds: float = 0.0
    created: bool = True  # slow/drop: whether Twilio had accepted the message first


def error(status: int, code: int | None, message: str = "") -> Action:
    return Action("error", status=status, code=code, message=message or f"error {code or status}")


def too_many() -> Action:
    return error(429, 20429, "Too Many Requests")


def server_error(status: int = 500) -> Action:
    return error(status, 20500, "Internal Server Error")


def slow(seconds: float) -> Action:
    return Action("slow", seconds=seconds)


def drop(created: bool = True) -> Action:
    return Action("drop", created=created)


def _rfc2822(dt: datetime) -> str:
    return format_datetime(dt.astimezone(timezone.utc))


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str, *, clock: Callable[[], datetime] | None = None,
                 slow_seconds: float = 0.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.slow_seconds = slow_seconds  # every create answers this late (the message exists already)
        self.messages: dict[str, dict] = {}  # sid -> resource, in creation order
        self.requests: list[dict] = []  # every create: {"form", "status", "at", "action", "sid"}
        self.lookups: list[dict] = []  # every list query
        self._lookup_failures: list[Action] = []
        self._next: list[Action] = []
        self._per_to: dict[str, list] = {}  # to -> [action, remaining or None]
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeTwilio":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()  # wakes slow answers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- scripting ---------------------------------------------------------------------------

    def script_next(self, *actions: Action) -> None:
        """The next calls (whatever their To) get these, in order."""
        with self._lock:
            self._next.extend(actions)

    def script_lookups(self, *actions: Action) -> None:
        """The next list queries get these error answers, in order."""
        with self._lock:
            self._lookup_failures.extend(actions)

    def script_to(self, to: str, action: Action, times: int | None = None) -> None:
        """Calls to `to` get `action`, `times` times (None: until cleared)."""
        with self._lock:
            self._per_to[to] = [action, times]

    def clear(self, to: str | None = None) -> None:
        with self._lock:
            if to is None:
                self._next.clear()
                self._per_to.clear()
                self._lookup_failures.clear()
            else:
                self._per_to.pop(to, None)

    # --- what the tests read -----------------------------------------------------------------

    def created(self, to: str | None = None) -> list[dict]:
        with self._lock:
            return [m for m in self.messages.values() if to is None or m["to"] == to]

    def callback_of(self, sid: str) -> str:
        return self.messages[sid]["_status_callback"]

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        with self._lock:
            msg = self.messages[sid]
            msg.update(status=status, error_code=error_code, date_updated=_rfc2822(self.clock()))
            if status in ("sent", "delivered") and not msg["date_sent"]:
                msg["date_sent"] = msg["date_updated"]

    # --- request handling --------------------------------------------------------------------

    def _action_for(self, to: str) -> Action | None:
        with self._lock:
            if self._next:
                return self._next.pop(0)
            scripted = self._per_to.get(to)
            if scripted is not None:
                action, remaining = scripted
                if remaining is not None:
                    scripted[1] = remaining - 1
                    if scripted[1] <= 0:
                        del self._per_to[to]
                return action
        if to in MAGIC_TO:
            status, code, message = MAGIC_TO[to]
            return error(status, code, message)
        if self.slow_seconds:
            return slow(self.slow_seconds)
        return None

    def create(self, account: str, form: dict[str, str]) -> tuple[int, dict | None, Action | None]:
        """(status, JSON body, action). A None body means: drop the connection."""
        to, body = form.get("To", ""), form.get("Body", "")
        if not to:
            return 400, envelope(400, 21604, "A 'To' phone number is required."), None
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return 400, envelope(400, 21603, "A 'From' phone number is required."), None
        if not body:
            return 400, envelope(400, 21602, "Message body is required."), None
        if len(body) > 1600:
            return 400, envelope(400, 21617, "The concatenated message body exceeds the 1600 character limit."), None
        if not E164.match(to):
            return 400, envelope(400, 21211, f"The 'To' number {to} is not a valid phone number."), None
        action = self._action_for(to)
        if action is not None and action.kind == "error":
            return action.status, envelope(action.status, action.code, action.message), action
        if action is not None and not action.created:
            return 0, None, action  # dropped before Twilio accepted anything
        msg = self._store(account, form)
        return 201, public(msg), action

    def _store(self, account: str, form: dict[str, str]) -> dict:
        now = _rfc2822(self.clock())
        service = form.get("MessagingServiceSid")
        sid = f"SM{next(self._ids):032x}"
        msg = {
            "account_sid": account, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From") or None,
            "messaging_service_sid": service or None, "num_media": "0",
            "num_segments": "0" if service else "1", "price": None, "price_unit": "USD", "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{API}{account}/Messages/{sid}/Media.json",
                                 "feedback": f"{API}{account}/Messages/{sid}/Feedback.json"},
            "to": form["To"], "uri": f"{API}{account}/Messages/{sid}.json",
            "_status_callback": form.get("StatusCallback", ""), "_created": self.clock(),
        }
        with self._lock:
            self.messages[sid] = msg
        return msg

    def list(self, account: str, query: dict[str, str]) -> dict:
        to, from_ = query.get("To"), query.get("From")
        with self._lock:
            rows = [m for m in self.messages.values() if m["account_sid"] == account
                    and (to is None or m["to"] == to) and (from_ is None or m["from"] == from_)]
        rows = [m for m in rows if _date_sent_ok(m, query)]
        rows.sort(key=lambda m: (m["_created"], m["sid"]), reverse=True)
        size = max(1, min(1000, int(query.get("PageSize") or 50)))
        page = int(query.get("Page") or 0)
        chunk = rows[page * size:(page + 1) * size]
        base = f"{API}{account}/Messages.json"
        keep = {k: v for k, v in query.items() if k not in ("Page", "PageToken", "PageSize")}

        def uri(p: int) -> str:
            return base + "?" + urlencode({**keep, "PageSize": size, "Page": p, **({"PageToken": f"PA{p}"} if p else {})})

        more = (page + 1) * size < len(rows)
        return {
            "messages": [public(m) for m in chunk], "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": uri(0), "next_page_uri": uri(page + 1) if more else None,
            "page": page, "page_size": size, "previous_page_uri": uri(page - 1) if page else None,
            "start": page * size, "uri": uri(page),
        }

    def authorized(self, header: str | None, account: str) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.account_sid == account and password == self.auth_token


def public(msg: dict) -> dict:
    return {k: v for k, v in msg.items() if not k.startswith("_")}


def envelope(status: int, code: int | None, message: str) -> dict:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code or status}", "status": status}


def _date_sent_ok(msg: dict, query: dict[str, str]) -> bool:
    bounds = [(k, v) for k, v in query.items() if k in ("DateSent", "DateSent<", "DateSent>")]
    if not bounds:
        return True
    if not msg["date_sent"]:
        return False  # as on Twilio: a message still queued has no date_sent to match
    from email.utils import parsedate_to_datetime

    sent = parsedate_to_datetime(msg["date_sent"]).date().isoformat()
    for key, value in bounds:
        day = value[:10]
        if (key == "DateSent" and sent != day) or (key == "DateSent<" and sent > day) or (key == "DateSent>" and sent < day):
            return False
    return True


def _handler(fake: FakeTwilio):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the twilio library's requests session expects
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus the
        # client's delayed ACK adds 40 ms to every answer.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet: tests read fake.requests instead
            pass

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _route(self):
            parts = urlsplit(self.path)
            match = MESSAGES.match(parts.path)
            if match is None:
                self._json(404, envelope(404, 20404, "The requested resource was not found"))
                return None
            if not fake.authorized(self.headers.get("Authorization"), match["account"]):
                self._json(401, envelope(401, 20003, "Authenticate"))
                return None
            return match, {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}

        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            routed = self._route()
            if routed is None:
                return
            match, _query = routed
            if match["sid"]:
                self._json(405, envelope(405, 20004, "Method not allowed"))
                return
            form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            status, payload, action = fake.create(match["account"], form)
            with fake._lock:
                fake.requests.append({"form": form, "status": status, "at": time.monotonic(),
                                      "action": action.kind if action else None, "sid": (payload or {}).get("sid")})
            if action is not None and action.kind == "drop":
                self.close_connection = True  # no answer at all: the client sees the socket close
                return
            if action is not None and action.kind == "slow":
                fake._stopping.wait(action.seconds)
            self._json(status, payload)

        def do_GET(self):  # noqa: N802
            routed = self._route()
            if routed is None:
                return
            match, query = routed
            if match["sid"]:
                msg = fake.messages.get(match["sid"])
                if msg is None:
                    self._json(404, envelope(404, 20404, "The requested resource was not found"))
                else:
                    self._json(200, public(msg))
                return
            with fake._lock:
                fake.lookups.append(query)
                failure = fake._lookup_failures.pop(0) if fake._lookup_failures else None
            if failure is not None:
                self._json(failure.status, envelope(failure.status, failure.code, failure.message))
                return
            self._json(200, fake.list(match["account"], query))

    return Handler
