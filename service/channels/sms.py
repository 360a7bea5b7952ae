"""POST /twilio/sms: Twilio's inbound-message webhook."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape  # &, < and >: what ElementTree escapes in element text

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.exc import IntegrityError

from .. import db
from ..conversation import fallback_texts, handle_sms, previous_answer
from ..spool import spool_sms
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

    line = current_app.extensions["line"]
    try:
        try:
            with db.transaction() as sess:
                texts = handle_sms(sess, line, sid=sid, phone=phone, body=body, now=current_app.extensions["clock"](),
                                   opt_out_type=form.get("OptOutType"))
        except IntegrityError:
            # The same MessageSid was being handled concurrently and won the insert: answer
            # exactly what it answered, change nothing.
            with db.transaction() as sess:
                texts = previous_answer(sess, sid)
            if texts is None:
                raise
    except Exception:
        log.exception("sms webhook failed for %s (sid %s)", mask(phone), sid, extra=webhook_fallback())
        return twiml(_fallback(line, sid, phone, body, form.get("OptOutType")))
    return twiml(texts)


def _fallback(line, sid: str, phone: str, body: str, opt_out_type: str | None) -> list[str]:
    """The answer without a database, and the text kept on disk until it can be recorded
    (service/spool.py): an opt-out sent during an outage is still honoured."""
    now = current_app.extensions["clock"]()
    texts = [] if opt_out_type else fallback_texts(line, phone, body, now)
    try:
        spool_sms(current_app._get_current_object(), {
            "sid": sid, "phone": phone, "body": body, "opt_out_type": opt_out_type,
            "received_at": now.isoformat(), "answered": texts})
    except Exception:
        # The disk failed too: say nothing that promises the opt-out was kept.
        log.exception("sms webhook could not spool %s (sid %s)", mask(phone), sid)
        return [line.renderer.render_text("apology", "en")]
    return texts
