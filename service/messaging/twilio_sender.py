"""Sending through Twilio's REST API with the official `twilio` library.

TWILIO_API_BASE_URL points the client at another host (the local fake in tests); region and edge
are never set because they rewrite the host (reference/pitfalls.md).
"""

from __future__ import annotations

import logging
from datetime import datetime

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .base import PERMANENT, RETRY, UNKNOWN, Found, SendError, Sent

# The library logs every request URL at INFO, list queries included (phone numbers in them).
_http_log = logging.getLogger("service.messaging.twilio_http")
_http_log.setLevel(logging.WARNING)

PAGE_SIZE = 50
MAX_PAGES = 10  # a patient's number never has this many of our texts in one lease window


class TwilioSender:
    def __init__(self, account_sid: str, auth_token: str, *, from_number: str = "",
                 messaging_service_sid: str = "", base_url: str = "", timeout: float = 10.0):
        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioSender needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        http = TwilioHttpClient(timeout=timeout, logger=_http_log)
        self.client = Client(account_sid, auth_token, http_client=http)
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid

    def send(self, to: str, body: str, status_callback: str) -> Sent:
        sender = ({"messaging_service_sid": self.messaging_service_sid} if self.messaging_service_sid
                  else {"from_": self.from_number})
        try:
            msg = self.client.messages.create(to=to, body=body, status_callback=status_callback, **sender)
        except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes raw
            raise classify(exc) from exc
        return Sent(sid=msg.sid, status=str(msg.status or "queued"))

    def find(self, to: str, since: datetime) -> list[Found]:
        """Our outbound messages to `to` created since `since`, scanning newest pages first.

        No DateSent filter: a message Twilio still holds in its queue has no date_sent yet, and
        it is exactly the kind of message a crashed worker may have left behind.
        """
        filters = {"to": to, "page_size": PAGE_SIZE}
        if self.from_number and not self.messaging_service_sid:
            filters["from_"] = self.from_number
        found: list[Found] = []
        try:
            page = self.client.messages.page(**filters)
            for _ in range(MAX_PAGES):
                recent = False
                for msg in page:
                    created = msg.date_created
                    if created is None or created < since:
                        continue
                    recent = True
                    if str(msg.direction or "").startswith("outbound") and self._ours(msg):
                        found.append(Found(sid=msg.sid, status=str(msg.status), body=msg.body or "",
                                           created_at=created,
                                           error_code=str(msg.error_code) if msg.error_code else None))
                if not recent:  # a whole page older than the window: nothing newer follows
                    break
                page = page.next_page()
                if page is None:
                    break
        except Exception as exc:  # noqa: BLE001
            raise classify(exc) from exc
        return found

    def _ours(self, msg) -> bool:
        if self.messaging_service_sid:
            return msg.messaging_service_sid == self.messaging_service_sid
        return getattr(msg, "from_", None) in (None, self.from_number)


def classify(exc: Exception) -> SendError:
    """Turn whatever the library raised into retry / unknown / permanent."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        status = int(getattr(exc, "status", 0) or 0)
        code = str(getattr(exc, "code", "") or status)
        if status == 429:  # Twilio: "never processed and always safe to retry"
            return SendError(RETRY, code, "rate limited")
        if status >= 500 or status == 0:
            return SendError(UNKNOWN, f"http_{status}" if code == str(status) else code, "server error")
        return SendError(PERMANENT, code, f"http {status}")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return SendError(RETRY, "connect_timeout")
    if isinstance(exc, requests.exceptions.ConnectionError) and _refused(exc):
        return SendError(RETRY, "connect_refused")
    if isinstance(exc, requests.exceptions.Timeout):
        return SendError(UNKNOWN, "timeout")
    if isinstance(exc, (requests.exceptions.RequestException, TwilioException)):
        return SendError(UNKNOWN, "connection")
    return SendError(UNKNOWN, "error", type(exc).__name__)


def _refused(exc: requests.exceptions.ConnectionError) -> bool:
    """True when no connection was ever made, so no byte of the request left this machine."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)
