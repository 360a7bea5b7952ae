"""POST /twilio/sms: Twilio's inbound-message webhook.

Reads Twilio's form, makes the one call into the service (conversation.answer_sms: the text handled
in one transaction) and answers its texts as TwiML; if that fails, the answer without a database
(spool.answer_offline), never a 500.
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape  # &, < and >: what ElementTree escapes in element text

from flask import Blueprint, Response, abort, current_app, request

from ..conversation import answer_sms
from ..spool import answer_offline
from ..phones import InvalidPhone, mask, to_e164
from ..metrics import webhook_fallback
from .signature import twilio_signed

bp = Blueprint("sms", __name__)
log = logging.getLogger(__name__)


def twiml(texts: list[str]) -> Response:
    return Response(messaging_twiml(texts), status=200, mimetype="application/xml")


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def messaging_twiml(texts: list[str]) -> str:
    """The bytes str(MessagingResponse) gives for these <Message>s, without building an element
    tree per request (tests/channels/test_sms_twiml.py holds the two equal)."""
    if not texts:
        return _DECLARATION + "<Response />"
    parts = [_DECLARATION, "<Response>"]
    for text in texts:
        parts.append(f"<Message>{escape(text)}</Message>" if text else "<Message />")
    parts.append("</Response>")
    return "".join(parts)


@bp.post("/twilio/sms")
@twilio_signed
def inbound_sms():
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400, "expected a form-encoded Twilio webhook")
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid or not form.get("From"):
        abort(400, "MessageSid and From are required")
    try:
        phone = to_e164(form["From"], current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        abort(400, "From is not a phone number")
    body = form.get("Body", "")

    opt_out_type = form.get("OptOutType")
    clock = current_app.extensions["clock"]
    try:
        texts = answer_sms(current_app.extensions["line"], sid=sid, phone=phone, body=body, clock=clock,
                           opt_out_type=opt_out_type)
    except Exception:
        log.exception("sms webhook failed for %s (sid %s)", mask(phone), sid, extra=webhook_fallback())
        texts = answer_offline(current_app._get_current_object(), sid=sid, phone=phone, body=body,
                               opt_out_type=opt_out_type, now=clock())
    return twiml(texts)
