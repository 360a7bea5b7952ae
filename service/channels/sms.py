"""POST /twilio/sms: Twilio's inbound-message webhook.

Reads Twilio's form, makes the one call into the service (conversation.answer_sms: the text handled
in one transaction) and answers its texts as TwiML; if that fails, the shared guard
(channels/webhook.py) answers without a database (spool.answer_offline), never a 500.
"""

from __future__ import annotations

from xml.sax.saxutils import escape  # &, < and >: what ElementTree escapes in element text

from flask import Blueprint, Response, abort, current_app, request

from ..conversation import answer_sms
from ..spool import answer_offline
from ..phones import InvalidPhone, to_e164
from .webhook import twilio_webhook

bp = Blueprint("sms", __name__)


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


def _fields() -> tuple[str, str, str, str | None]:
    """(MessageSid, From as E.164, Body, OptOutType); a clear 400 when Twilio's own fields are missing."""
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid or not form.get("From"):
        abort(400, "MessageSid and From are required")
    try:
        phone = to_e164(form["From"], current_app.config["DEFAULT_REGION"])
    except InvalidPhone:
        abort(400, "From is not a phone number")
    return sid, phone, form.get("Body", ""), form.get("OptOutType")


def _answer_offline() -> Response:
    """The answer when the service failed: what can be said without the database (spool.py)."""
    sid, phone, body, opt_out_type = _fields()
    return twiml(answer_offline(current_app._get_current_object(), sid=sid, phone=phone, body=body,
                                opt_out_type=opt_out_type, now=current_app.extensions["clock"]()))


@bp.post("/twilio/sms")
@twilio_webhook(on_failure=_answer_offline)
def inbound_sms():
    sid, phone, body, opt_out_type = _fields()
    return twiml(answer_sms(current_app.extensions["line"], sid=sid, phone=phone, body=body,
                            clock=current_app.extensions["clock"], opt_out_type=opt_out_type))
