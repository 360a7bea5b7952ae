"""X-Twilio-Signature verification for every /twilio/* route.

The URL Twilio signed is the public one (PUBLIC_BASE_URL + path + query), not request.url: behind
a TLS-terminating proxy the app sees http://internal:port/... and would reject every request.

Before anything is parsed (issue 17: a 180,000-field form with any signature header took 2.4 s
to refuse and slowed real texts), a request is refused on what costs nothing to check: a
signature header that is not base64 of an HMAC-SHA1 (28 characters) gets 403, a body over 64 KB
413 (from Content-Length, before reading it; a chunked body stops being read at 64 KB), more than
200 form fields 413 (counted in the raw bytes). Twilio's own webhooks are a few kilobytes and
about 20-40 fields. Only then is the form parsed and the signature computed, once, over the URL
Twilio calls (PUBLIC_BASE_URL, exactly as configured).
"""

from __future__ import annotations

import functools
import hmac
import logging
import re

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_url() -> str:
    query = request.query_string.decode("latin-1")
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    return f"{url}?{query}" if query else url


MAX_BODY = 64 * 1024  # bytes
MAX_FIELDS = 200
SIGNATURE_FORMAT = re.compile(r"[A-Za-z0-9+/]{27}=")  # base64 of a 20-byte HMAC-SHA1


def refusal() -> int | None:
    """The status that refuses this request on its headers and raw size alone, or None.
    Never parses the form: what it reads is at most MAX_BODY bytes, once, and kept for the parse."""
    if not SIGNATURE_FORMAT.fullmatch(request.headers.get("X-Twilio-Signature", "")):
        return 403
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return 413
    request.max_content_length = MAX_BODY  # a body without Content-Length is cut off here (413)
    if request.get_data(cache=True).count(b"&") >= MAX_FIELDS:
        return 413
    return None


def signature_valid() -> bool:
    """Twilio signed this URL and form. Call after `refusal()` passed."""
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
    expected = _validator(current_app.config["TWILIO_AUTH_TOKEN"]).compute_signature(public_url(), params)
    return hmac.compare_digest(expected.encode(), signature.encode())


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def twilio_signed(view):
    """Reject with 403 unless Twilio signed this exact URL and form; 413 when it is too big to be
    a Twilio webhook (checked first, without parsing)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        status = refusal()
        if status is not None:
            log.warning("refused request on %s before parsing it (%s)", request.path, status)
            abort(status)
        if not signature_valid():
            log.warning("rejected request with missing or bad Twilio signature on %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
