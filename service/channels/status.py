"""POST /twilio/status: Twilio's message status callback (StatusCallback of every text we send).

The worker sets StatusCallback to PUBLIC_BASE_URL/twilio/status?o=<row id>&a=<attempt>. Twilio
signs that full URL, so o and a are as trustworthy as the rest: they let a callback settle a row
whose REST response was never recorded (docs/outbound.md). Always 204 once the signature checks
out, even for an sid we do not know: Twilio cannot do anything better with an error.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from ..messaging.delivery import callback_received
from .webhook import twilio_webhook

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _no_content() -> Response:
    return Response(status=204)


@bp.post("/twilio/status")
@twilio_webhook(on_failure=_no_content)  # never a 5xx: Twilio can do nothing better with an error
def message_status():
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or len(sid) > 64 or not status:
        abort(400, "MessageSid and MessageStatus are required")
    error_code = (form.get("ErrorCode") or "").strip()[:16] or None
    outcome = callback_received(sid=sid, twilio_status=status, error_code=error_code, message_id=_int_arg("o"),
                                attempt=_int_arg("a"), clock=current_app.extensions["clock"])
    if outcome == "unknown":
        log.warning("status callback for unknown message %s (%s)", sid, status)
    return _no_content()
