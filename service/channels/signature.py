"""X-Twilio-Signature verification for every /twilio/* route.

The URL Twilio signed is the public one (PUBLIC_BASE_URL + path + query), not request.url: behind
a TLS-terminating proxy the app sees http://internal:port/... and would reject every request.
"""

from __future__ import annotations

import functools
import hmac
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
    validator = _validator(current_app.config["TWILIO_AUTH_TOKEN"])
    params = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    url = public_url()
    # validate() always signs the URL twice (with and without a default port). The URL as
    # configured is one of the two, and the one Twilio uses, so try it alone first; anything
    # else still gets the library's full check.
    expected = validator.compute_signature(url, params).encode()
    return hmac.compare_digest(expected, signature.encode()) or validator.validate(url, params, signature)


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_signed(view):
    """Reject with 403 unless Twilio signed this exact URL and form."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not signature_valid():
            log.warning("rejected request with missing or bad Twilio signature on %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
