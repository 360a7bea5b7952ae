"""Every /twilio/* route, read from the app's url_map, answers 403 and changes nothing unless
Twilio signed exactly this URL (PUBLIC_BASE_URL + path + query) and these parameters with the
auth token; a correctly signed request is never 403."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC, TOKEN
from tests.support.twilio import ACCOUNT_SID, PROGRAM_NUMBER

from .conftest import routes

CALLER = "+14155550142"
# One parameter set every Twilio webhook accepts: an SMS, a call step and a status callback.
PARAMS = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "From": CALLER, "To": PROGRAM_NUMBER,
          "Body": "MENU", "MessageSid": "SM" + "a" * 32, "SmsSid": "SM" + "a" * 32, "NumMedia": "0",
          "MessageStatus": "delivered", "SmsStatus": "delivered", "CallSid": "CA" + "b" * 32,
          "CallStatus": "in-progress", "Direction": "inbound", "Digits": "1"}


def sign(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(client, path: str, params: dict, signature: str | None, **kw):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    headers.update(kw.pop("headers", {}))
    if params is None:  # the body is in kw (json=...)
        return client.post(path, headers=headers, **kw)
    return client.post(path, data=urlencode(params), headers=headers,
                       content_type="application/x-www-form-urlencoded", **kw)


def twilio_routes(app) -> list[str]:
    found = routes(app, "/twilio")
    assert all(method == "POST" for _, method in found), found  # Twilio only POSTs to us
    return [rule for rule, _ in found]


def test_the_routes_are_discovered(app):
    # Not a list to keep up to date: a sanity check that discovery finds the known ones.
    assert {"/twilio/sms", "/twilio/voice", "/twilio/voice/input", "/twilio/status"} <= set(twilio_routes(app))
    assert all("<" not in rule for rule in twilio_routes(app)), "a variable route needs a sample URL here"


def _other(path: str) -> str:
    return "/twilio/sms" if path != "/twilio/sms" else "/twilio/status"


# (case, how the request is forged from a valid one): each gives (path, params, signature, extra kwargs).
FORGERIES = {
    "wrong token": lambda path: (path, PARAMS, sign(PUBLIC + path, PARAMS, token="not-the-token"), {}),
    "other host": lambda path: (path, PARAMS, sign("https://evil.example" + path, PARAMS), {}),
    "other path": lambda path: (path, PARAMS, sign(PUBLIC + path + "/x", PARAMS), {}),
    "replayed from another route": lambda path: (path, PARAMS, sign(PUBLIC + _other(path), PARAMS), {}),
    "query string added": lambda path: (path + "?o=1&a=1", PARAMS, sign(PUBLIC + path, PARAMS), {}),
    "no header": lambda path: (path, PARAMS, None, {}),
    "empty header": lambda path: (path, PARAMS, "", {}),
    "garbage header": lambda path: (path, PARAMS, "bm90IGEgc2lnbmF0dXJl", {}),
    "parameter changed": lambda path: (path, {**PARAMS, "From": "+14155550143"}, sign(PUBLIC + path, PARAMS), {}),
    "parameter added": lambda path: (path, {**PARAMS, "OptOutType": "STOP"}, sign(PUBLIC + path, PARAMS), {}),
    "parameter removed": lambda path: (path, {k: v for k, v in PARAMS.items() if k != "Digits"},
                                       sign(PUBLIC + path, PARAMS), {}),
    "signed over http behind an https proxy": lambda path: (
        path, PARAMS, sign(PUBLIC.replace("https://", "http://") + path, PARAMS),
        {"base_url": PUBLIC.replace("https://", "http://"), "headers": {"X-Forwarded-Proto": "https"}}),
    "signed over the internal address": lambda path: (path, PARAMS, sign("http://localhost" + path, PARAMS), {}),
    "parameters sent as json": lambda path: (path, None, sign(PUBLIC + path, PARAMS), {"json": PARAMS}),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_forged_requests_are_403_and_change_nothing(case, app, client, snapshot):
    before = snapshot()
    for path in twilio_routes(app):
        path_sent, params, signature, kw = FORGERIES[case](path)
        resp = post(client, path_sent, params, signature, **kw)
        assert resp.status_code == 403, (case, path, resp.status_code)
    assert snapshot() == before


def test_valid_requests_are_not_403(app, client):
    for path in twilio_routes(app):
        resp = post(client, path, PARAMS, sign(PUBLIC + path, PARAMS))
        assert resp.status_code in (200, 204), (path, resp.status_code, resp.data[:300])


def test_query_string_is_part_of_what_is_signed(client):
    path = "/twilio/status?o=7&a=1"
    assert post(client, path, PARAMS, sign(PUBLIC + path, PARAMS)).status_code == 204
    assert post(client, "/twilio/status?o=8&a=1", PARAMS, sign(PUBLIC + path, PARAMS)).status_code == 403


def test_behind_an_https_proxy_the_public_url_is_what_counts(app, client):
    """TLS ends at the proxy: the app sees http://internal:8000/... with X-Forwarded-Proto https.
    Twilio signed PUBLIC_BASE_URL (https), so that signature is valid; one over http is not."""
    internal = {"base_url": "http://10.0.0.5:8000",
                "headers": {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "line.example.org"}}
    for path in twilio_routes(app):
        ok = post(client, path, PARAMS, sign(PUBLIC + path, PARAMS), **internal)
        assert ok.status_code in (200, 204), (path, ok.status_code)
        http = post(client, path, PARAMS, sign("http://line.example.org" + path, PARAMS), **internal)
        assert http.status_code == 403, path


@pytest.mark.parametrize("proto", ["https", "http"])
def test_with_a_trusted_proxy_x_forwarded_proto_changes_nothing(proto, proxied_app, snapshot):
    """TRUSTED_PROXY_HOPS=1 makes the app believe X-Forwarded-Proto (request.scheme), but the URL
    that is checked is still PUBLIC_BASE_URL + path: a signature over the URL as the proxy
    describes it, or over any other scheme, stays invalid, and the real one stays valid."""
    client = proxied_app.test_client()
    proxied = {"base_url": "http://10.0.0.5:8000",
               "headers": {"X-Forwarded-Proto": proto, "X-Forwarded-For": "54.172.60.1"}}
    before = snapshot()
    for path in twilio_routes(proxied_app):
        for url in (f"{proto}://10.0.0.5:8000{path}", "http://line.example.org" + path):
            assert post(client, path, PARAMS, sign(url, PARAMS), **proxied).status_code == 403, (path, url)
    assert snapshot() == before
    for path in twilio_routes(proxied_app):
        ok = post(client, path, PARAMS, sign(PUBLIC + path, PARAMS), **proxied)
        assert ok.status_code in (200, 204), (path, ok.status_code)
