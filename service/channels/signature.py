"""X-Twilio-Signature verification for every /twilio/* route.

The URL Twilio signed is the public one (PUBLIC_BASE_URL + path + query), not request.url: behind
a TLS-terminating proxy the app sees http://internal:port/... and would reject every request.
"""

from __future__ import annotations

import functools
import logging

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url() -> str:
    query = request.query_string.decode("latin-1")
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    return f"{url}?{query}" if query else url


def signature_valid() -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    params = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    return validator.validate(public_url(), params, signature)


def twilio_signed(view):
    """Reject with 403 unless Twilio signed this exact URL and form."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not signature_valid():
            log.warning("rejected request with missing or bad Twilio signature on %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
