"""Security headers on every portal and API response (pages, redirects, errors, signed in or
not), and on the webhooks: CSP, nosniff, framing, referrer, caching; HSTS in production only."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import routes


def csp(resp) -> dict[str, str]:
    header = resp.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def assert_common(resp, where: str) -> None:
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("X-Frame-Options") == "DENY", where
    assert resp.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin"), where


def assert_portal_headers(resp, where: str) -> None:
    assert_common(resp, where)
    policy = csp(resp)
    assert policy.get("default-src") == "default-src 'self'", (where, policy)
    assert policy.get("frame-ancestors") == "frame-ancestors 'none'", where
    assert policy.get("object-src") == "object-src 'none'" and "base-uri" in policy, where
    assert "'unsafe-inline'" not in policy.get("script-src", "") and "'unsafe-eval'" not in str(policy), where
    assert "no-store" in resp.headers.get("Cache-Control", ""), where


def get_paths(app, prefix: str) -> list[str]:
    samples = {"<int:enrollment_id>": "1", "<int:task_id>": "1", "<locale>": "es"}
    paths = []
    for rule, method in routes(app, prefix):
        if method == "GET":
            for variable, value in samples.items():
                rule = rule.replace(variable, value)
            paths.append(rule)
    return paths


def test_portal_pages_signed_out_and_in(app, client, make_clinic, portal_for):
    signed_in = portal_for(make_clinic("North"))
    for path in get_paths(app, "/portal") + ["/portal/no-such-page"]:
        for who, c in (("anonymous", client), ("staff", signed_in.client)):
            assert_portal_headers(c.get(path), f"{who} {path}")
    assert_portal_headers(client.post("/portal/login", data={}), "POST /portal/login (400)")


def test_api_responses_including_errors(app, client, make_clinic):
    token = make_clinic("North").token
    for path in get_paths(app, "/api/v1") + ["/api/v1/nothing-here"]:
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            assert_portal_headers(client.get(path, headers=headers), f"{path} {bool(headers)}")
    assert_portal_headers(client.delete("/api/v1/enrollments"), "405")


def test_webhooks_and_health_get_the_common_headers(client):
    for resp in (client.post("/twilio/sms"), client.post("/twilio/voice"), client.get("/healthz")):
        assert_common(resp, resp.request.path)


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/portal/login").headers


@pytest.mark.parametrize("path", ["/portal/login", "/api/v1/openapi.json", "/healthz"])
def test_hsts_in_production(production_app, path):
    resp = production_app.test_client().get(path, base_url="https://line.example.org")
    hsts = resp.headers.get("Strict-Transport-Security", "")
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 31536000 and "includeSubDomains" in hsts


def test_a_signed_webhook_answer_sets_no_cookie_and_keeps_the_common_headers(client, twilio):
    """Only the portal signs anyone in: the TwiML answer neither sets nor varies on a cookie."""
    params = twilio.sms_params("hi", "+14155550100")
    resp = client.post("/twilio/sms", data=urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": twilio.sign("/twilio/sms", params)})
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    assert "Set-Cookie" not in resp.headers
    assert "cookie" not in resp.headers.get("Vary", "").lower()
    assert_common(resp, "signed /twilio/sms")
    assert "Content-Security-Policy" not in resp.headers  # the portal's policy is for the portal


def test_a_header_a_view_sets_itself_is_kept(app):
    """The common headers fill in what a response lacks, never replace what a view chose."""

    @app.get("/portal/_own_framing")
    def _own_framing():
        return "x", 200, {"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "private"}

    resp = app.test_client().get("/portal/_own_framing")
    assert resp.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert resp.headers.getlist("Cache-Control") == ["private"]
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert "default-src 'self'" in resp.headers.get("Content-Security-Policy", "")
