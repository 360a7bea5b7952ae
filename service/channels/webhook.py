"""The one guard every /twilio/* route shares: what Twilio may send, and never a 500.

    @bp.post("/twilio/sms")
    @twilio_webhook(on_failure=_answer_offline)
    def inbound_sms(): ...

In order, before the view runs: refused on size and signature format without parsing (413/403,
signature.refusal), the signature over the public URL (403), a body that is not a form (400). The
view then parses its fields (a missing or malformed one is its own 400) and makes its one call into
the service. Anything else the view raises is logged once, masked, as the `webhook_fallback` event
operators alert on (service/metrics.py), and answered by the route's `on_failure`: SMS answers
without the database, voice says a spoken apology in the caller's language, the status callback
says 204. Should `on_failure` fail too, Twilio gets an empty, valid <Response/>: nothing more can
be said, and a 5xx would only make it retry or tell the caller "application error".
"""

from __future__ import annotations

import functools
import logging
from typing import Callable

from flask import Response, abort, request
from werkzeug.exceptions import HTTPException

from ..metrics import webhook_fallback
from ..phones import mask
from .signature import twilio_signed

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def twilio_webhook(on_failure: Callable[[], Response]):
    """Guard a Twilio webhook view (see the module docstring); `on_failure` reads what it needs
    from `request` again (the form is parsed once and cached)."""

    def decorate(view):
        @functools.wraps(view)
        @twilio_signed
        def guarded(*args, **kwargs):
            if request.mimetype != FORM:
                abort(400, "expected a form-encoded Twilio webhook")
            try:
                return view(*args, **kwargs)
            except HTTPException:
                raise  # the view's own clear 4xx for a field Twilio always sends
            except Exception:
                log.exception("%s failed for %s (%s)", request.path, _who(), _sid(), extra=webhook_fallback())
            try:
                return on_failure()
            except Exception:
                log.exception("%s: its fallback failed too", request.path)
                return Response(EMPTY_TWIML, status=200, mimetype="application/xml")

        guarded.on_failure = on_failure  # tests/channels/test_webhook.py: every /twilio/* route has one
        return guarded

    return decorate


def _who() -> str:
    return mask(request.form.get("From"))


def _sid() -> str:
    form = request.form
    return (form.get("MessageSid") or form.get("SmsSid") or form.get("CallSid") or "-")[:64]
