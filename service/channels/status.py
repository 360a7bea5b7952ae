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
from ..metrics import webhook_fallback
from .signature import twilio_signed

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


@bp.post("/twilio/status")
@twilio_signed
def message_status():
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400, "expected a form-encoded Twilio callback")
    form = request.form
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or len(sid) > 64 or not status:
        abort(400, "MessageSid and MessageStatus are required")
    error_code = (form.get("ErrorCode") or "").strip()[:16] or None
    try:
        outcome = callback_received(sid=sid, twilio_status=status, error_code=error_code, message_id=_int_arg("o"),
                                    attempt=_int_arg("a"), clock=current_app.extensions["clock"])
    except Exception:
        # Never a 5xx from a webhook (a house rule); the log line is what an operator needs.
        log.exception("status callback for %s (%s) failed", sid, status, extra=webhook_fallback())
        return Response(status=204)
    if outcome == "unknown":
        log.warning("status callback for unknown message %s (%s)", sid, status)
    return Response(status=204)
