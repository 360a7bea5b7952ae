"""/api/v1: bearer tokens, enrollments, clear 4xx JSON errors."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.models import ApiToken, AuditLog, Enrollment, OutboundMessage

from tests.support.clinics import queue_rows

PHONE = "+14155550123"


def error_of(resp) -> dict:
    assert resp.is_json, resp.data
    return resp.get_json()["error"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer  "])
def test_missing_or_bad_token_is_401(client, make_clinic, header):
    make_clinic("North")
    headers = {"Authorization": header} if header is not None else {}
    resp = client.get("/api/v1/enrollments", headers=headers)
    assert resp.status_code == 401
    assert error_of(resp)["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_is_stored_only_as_its_hash(make_clinic, db):
    north = make_clinic("North")
    row = db.one(sa.select(ApiToken))
    assert north.token not in (row.token_hash, row.prefix)
    import hashlib

    assert row.token_hash == hashlib.sha256(north.token.encode()).hexdigest()


def test_revoked_token_is_refused(make_clinic, api_for, app):
    north = make_clinic("North")
    from service import db as dbmod

    with app.app_context(), dbmod.transaction() as sess:
        sess.execute(sa.update(ApiToken).values(revoked_at=sa.func.now()))
    assert api_for(north).get("/enrollments").status_code == 401


def test_create_get_list_stop(make_clinic, api_for, db, clock):
    api = api_for(make_clinic("North"))
    created = api.enroll("(415) 555-0123", categories=["hormone", "cdk46"], start_date="2026-11-01", sent=False,
                         timezone="America/Chicago")
    assert created.status_code == 201
    body = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/enrollments/{body['id']}")
    assert body["phone"] == PHONE and body["categories"] == ["hormone", "cdk46"]
    assert (body["timezone"], body["start_date"], body["source"]) == ("America/Chicago", "2026-11-01", "api")
    assert [m["step"] for m in body["messages"]] == ["confirm"]

    got = api.get(f"/enrollments/{body['id']}").get_json()
    assert got["id"] == body["id"] and got["status"] == "awaiting_yes"
    listing = api.get("/enrollments").get_json()
    assert [i["id"] for i in listing["items"]] == [body["id"]] and listing["next_before_id"] is None

    stopped = api.post(f"/enrollments/{body['id']}/stop")
    assert stopped.status_code == 200 and stopped.get_json()["status"] == "stopped"
    assert [row.status for _, row in queue_rows(db, PHONE)] == ["cancelled"]
    again = api.post(f"/enrollments/{body['id']}/stop")  # idempotent
    assert again.status_code == 200 and again.get_json()["status"] == "stopped"
    actions = db.all(sa.select(AuditLog.action).order_by(AuditLog.id))
    assert actions == ["enroll", "stop"]
    # Stopped: the same patient may be enrolled again.
    assert api.enroll(PHONE).status_code == 201


def test_list_filters_and_pages(make_clinic, api_for):
    api = api_for(make_clinic("North"))
    ids = [api.enroll(f"+1415555{n:04d}").get_json()["id"] for n in range(120, 125)]
    api.post(f"/enrollments/{ids[0]}/stop")
    page1 = api.get("/enrollments?limit=2").get_json()
    assert [i["id"] for i in page1["items"]] == ids[:-3:-1]
    page2 = api.get(f"/enrollments?limit=2&before_id={page1['next_before_id']}").get_json()
    assert [i["id"] for i in page2["items"]] == [ids[2], ids[1]]
    assert [i["id"] for i in api.get("/enrollments?status=stopped").get_json()["items"]] == [ids[0]]
    assert api.get("/enrollments?status=bogus").status_code == 422
    assert api.get("/enrollments?limit=0").status_code == 422


@pytest.mark.parametrize("body, status, code, field", [
    ({"phone": "12", "locale": "en", "categories": ["hormone"], "patient_consented": True}, 422, "invalid_phone", "phone"),
    ({"phone": "not a phone", "locale": "en", "categories": ["hormone"], "patient_consented": True}, 422, "invalid_phone", "phone"),
    ({"phone": PHONE, "locale": "xx", "categories": ["hormone"], "patient_consented": True}, 422, "unknown_locale", "locale"),
    ({"phone": PHONE, "locale": "en", "categories": ["homeopathy"], "patient_consented": True}, 422, "unknown_category", "categories"),
    ({"phone": PHONE, "locale": "en", "categories": [], "patient_consented": True}, 422, "unknown_category", "categories"),
    ({"phone": PHONE, "locale": "en", "categories": ["hormone"], "patient_consented": False}, 422, "consent_required", "consent"),
    ({"phone": PHONE, "locale": "en", "categories": ["hormone"]}, 422, "missing_field", "patient_consented"),
    ({"phone": PHONE, "locale": "en", "categories": "hormone", "patient_consented": True}, 422, "invalid_field", "categories"),
    ({"phone": PHONE, "locale": "en", "categories": ["hormone"], "patient_consented": True, "timezone": "Mars/Base"}, 422, "unknown_timezone", "timezone"),
    ({"phone": PHONE, "locale": "en", "categories": ["hormone"], "patient_consented": True, "start_date": "2020-01-01"}, 422, "bad_start_date", "start_date"),
    ({"phone": PHONE, "locale": "en", "categories": ["hormone"], "patient_consented": True, "start_date": "soon"}, 422, "invalid_field", "start_date"),
    ({"phone": 4155550123, "locale": "en", "categories": ["hormone"], "patient_consented": True}, 422, "invalid_field", "phone"),
])
def test_bad_requests_get_clear_json_errors(make_clinic, api_for, db, body, status, code, field):
    resp = api_for(make_clinic("North")).post("/enrollments", json=body)
    assert resp.status_code == status
    err = error_of(resp)
    assert (err["code"], err.get("field")) == (code, field)
    assert err["message"]
    assert db.count(Enrollment) == 0 and db.count(OutboundMessage) == 0


def test_unknown_locale_and_category_errors_list_what_is_allowed(make_clinic, api_for):
    api = api_for(make_clinic("North"))
    err = error_of(api.enroll(PHONE, locale="tlh"))
    assert "en" in err["allowed"] and "es" in err["allowed"]
    err = error_of(api.enroll(PHONE, categories=["vitamins"]))
    assert "hormone" in err["allowed"]


def test_not_json_is_400(make_clinic, api_for):
    api = api_for(make_clinic("North"))
    resp = api.client.post("/api/v1/enrollments", data="phone=1", headers=api.headers,
                           content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_json"
    resp = api.client.post("/api/v1/enrollments", data="[1, 2", headers=api.headers, content_type="application/json")
    assert resp.status_code == 400


def test_duplicate_is_409_with_the_existing_id(make_clinic, api_for, db):
    api = api_for(make_clinic("North"))
    first = api.enroll(PHONE).get_json()["id"]
    resp = api.enroll("+1 415 555 0123", categories=["bone"])
    assert resp.status_code == 409
    err = error_of(resp)
    assert err["code"] == "duplicate" and err["enrollment_id"] == first
    assert db.count(Enrollment) == 1 and len(queue_rows(db, PHONE)) == 1


def test_same_patient_in_two_clinics_is_not_a_duplicate(make_clinic, api_for, db):
    assert api_for(make_clinic("North")).enroll(PHONE).status_code == 201
    assert api_for(make_clinic("South")).enroll(PHONE).status_code == 201
    assert len(queue_rows(db, PHONE)) == 2  # each clinic's own confirmation


def test_unknown_id_is_404_json(make_clinic, api_for):
    api = api_for(make_clinic("North"))
    for resp in (api.get("/enrollments/999"), api.post("/enrollments/999/stop")):
        assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"


def test_ids_beyond_the_integer_range_are_404_not_500(make_clinic, api_for, portal_for):
    """Found by schemathesis on PostgreSQL: 2147483648 overflowed the integer parameter."""
    access = make_clinic("North")
    api = api_for(access)
    for resp in (api.get("/enrollments/2147483648"), api.post("/enrollments/99999999999999999999/stop")):
        assert resp.status_code == 404
    portal = portal_for(access)
    assert portal.get("/portal/enrollments/2147483648").status_code == 404
    assert portal.submit("/portal/tasks", {}, action="/portal/tasks/2147483648/close").status_code == 404
