"""Issue 17 item 8: authenticated input that was a 500 is a clear 4xx. The four cases the attack
review found (a CSV row with more fields than its header, a CSV field over 128 KB, JSON nested
100,000 deep, a newline in next=), then hypothesis over the same inputs: never a 500 (the test
app propagates exceptions, so a 500 fails the test with its traceback)."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.models import Enrollment
from tests.support.clinics import csrf_token

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADER = "phone,language,categories"


def upload(portal, content: bytes):
    data = {"consent": "y", "file": (io.BytesIO(content), "patients.csv")}
    return portal.submit("/portal/enrollments/import", data, content_type="multipart/form-data")


def report_of(resp) -> list[str]:
    html = resp.get_data(as_text=True)
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)]


def test_a_trailing_comma_on_every_row_imports(make_clinic, portal_for, db):  # noqa: F811
    portal = portal_for(make_clinic("North"))
    resp = upload(portal, f"{HEADER},\n+14155550101,en,bone,\n+14155550102,es,chemo,\n".encode())
    assert resp.status_code == 302 and db.count(Enrollment) == 2


def test_a_row_with_more_fields_than_the_header_is_a_report_row(make_clinic, portal_for, db):  # noqa: F811
    portal = portal_for(make_clinic("North"))
    resp = upload(portal, f"{HEADER}\n+14155550101,en,bone\n\n+14155550102,es,chemo,2026-11-20\n".encode())
    assert resp.status_code == 422 and db.count(Enrollment) == 0
    html = resp.get_data(as_text=True)
    assert "This row has more fields than the header." in html
    assert "4" in report_of(resp)  # the file's own line number (line 3 is blank)


def test_a_field_over_128_kb_is_a_clear_error(make_clinic, portal_for, db):  # noqa: F811
    portal = portal_for(make_clinic("North"))
    secret = "x" * 140_000
    resp = upload(portal, f'{HEADER}\n+14155550101,en,bone\n+14155550102,en,"{secret}"\n'.encode())
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Line 3 of the file could not be read as CSV." in html and secret[:1000] not in html
    nul = upload(portal, f"{HEADER}\n+14155550101,en,bo\x00ne\n".encode())
    assert nul.status_code == 422  # a NUL byte: an unknown category, reported on its row


def test_json_nested_100000_deep_is_a_400(make_clinic, api_for):  # noqa: F811
    api = api_for(make_clinic("North"))
    deep = "[" * 100_000 + "]" * 100_000
    resp = api.client.post("/api/v1/enrollments", data=deep, content_type="application/json", headers=api.headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_json"
    deep_object = '{"a":' * 50_000 + "1" + "}" * 50_000
    resp = api.client.post("/api/v1/enrollments", data=deep_object, content_type="application/json",
                           headers=api.headers)
    assert resp.status_code == 400


def test_a_newline_in_next_goes_to_the_portal_home(make_clinic, portal_for, app):  # noqa: F811
    access = make_clinic("North")
    portal = portal_for(access)
    for target in ("/portal/enrollments\r\nSet-Cookie: x=1", "/portal/x\n", "/portal/\x7f", "/portal/\x00"):
        resp = portal.get("/portal/lang/es", query_string={"next": target})
        assert resp.status_code == 302 and resp.headers["Location"] == "/portal/enrollments", target
    fresh = app.test_client()
    page = fresh.get("/portal/login").get_data(as_text=True)
    resp = fresh.post("/portal/login", query_string={"next": "/portal/tasks\r\nX: y"},
                      data={"email": access.email, "password": "correct horse battery staple",
                            "csrf_token": csrf_token(page)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/portal/enrollments"


@pytest.fixture
def fuzz_portal(make_clinic, portal_for):  # noqa: F811
    """One signed-in portal for all of a test's examples (hypothesis runs the body many times)."""
    portal = portal_for(make_clinic("Fuzz"))
    yield portal
    assert portal.get("/portal/enrollments").status_code == 200  # still signed in: no example passed by redirect


@pytest.fixture
def fuzz_api(make_clinic, api_for):  # noqa: F811
    return api_for(make_clinic("Fuzz"))


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
ROW = st.lists(CELL | st.sampled_from(["+14155550101", "en", "es", "bone", "chemo", "2026-11-20", ""]),
               max_size=6)


@FUZZ
@given(rows=st.lists(ROW, max_size=5), header=st.sampled_from([HEADER, HEADER + ",start_date", HEADER + ",",
                                                                 "phone;language;categories", ""]),
       quote=st.booleans())
def test_any_csv_is_imported_or_reported(fuzz_portal, rows, header, quote):
    text = header + "\n" + "\n".join(",".join(('"' + c.replace('"', '""') + '"') if quote else c for c in row)
                                     for row in rows)
    resp = upload(fuzz_portal, text.encode())
    assert resp.status_code in (302, 400, 422), resp.status_code


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_csv_are_imported_or_reported(fuzz_portal, raw):
    resp = upload(fuzz_portal, raw)
    assert resp.status_code in (302, 400, 422), resp.status_code


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | CELL,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(CELL, inner, max_size=4),
                    max_leaves=20)
FIELDS = st.fixed_dictionaries({}, optional={
    "phone": JSON | st.just("+14155550123"), "locale": JSON | st.sampled_from(["en", "es", "xx"]),
    "categories": JSON | st.just(["bone"]), "patient_consented": JSON | st.just(True),
    "start_date": JSON | st.just("2026-11-20"), "timezone": JSON | st.just("America/Chicago")})


@FUZZ
@given(body=FIELDS | JSON, depth=st.integers(0, 3000))
def test_any_json_to_the_api_is_a_clear_answer(fuzz_api, body, depth):
    api = fuzz_api
    raw = "[" * depth + json.dumps(body) + "]" * depth
    resp = api.client.post("/api/v1/enrollments", data=raw, content_type="application/json", headers=api.headers)
    assert resp.status_code in (201, 400, 409, 422), (resp.status_code, resp.get_data(as_text=True)[:200])
    assert resp.is_json


@FUZZ
@given(target=st.text(max_size=60) | st.text(max_size=40).map(lambda t: "/portal/" + t))
def test_any_next_is_a_redirect_on_this_site(fuzz_portal, target):
    resp = fuzz_portal.get("/portal/lang/es", query_string={"next": target})
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("/portal") and location.isprintable()
