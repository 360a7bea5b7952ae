"""One clinic never sees or changes another's patients: every portal and API route is tried
with another clinic's ids and tokens. A new route fails `test_every_route_is_covered` until
it is added here."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from service.models import ApiToken, Clinic, Enrollment, FollowUpTask, StaffUser

from tests.support.clinics import csrf_token, enrollment

SOUTH_PHONE = "+14155550177"
NORTH_PHONE = "+14155550155"


@pytest.fixture
def two_clinics(make_clinic, api_for, twilio, db):
    north, south = make_clinic("North"), make_clinic("South")
    south_id = api_for(south).enroll(SOUTH_PHONE, categories=["chemo"]).get_json()["id"]
    twilio.sms("YES", from_=SOUTH_PHONE)
    twilio.sms("I have a fever", from_=SOUTH_PHONE)  # an urgent task for South
    task_id = db.one(sa.select(FollowUpTask.id))
    return north, south, south_id, task_id


def _north_sees_nothing_of_south(html: str) -> None:
    assert SOUTH_PHONE not in html and "South" not in html.replace("Southside", "")


def check_enrollments(portal, api, ids, db):
    resp = portal.get("/portal/enrollments")
    assert resp.status_code == 200
    _north_sees_nothing_of_south(resp.get_data(as_text=True))


def check_enrollment(portal, api, ids, db):
    assert portal.get(f"/portal/enrollments/{ids['enrollment']}").status_code == 404


def check_stop(portal, api, ids, db):
    token = csrf_token(portal.get("/portal/enrollments/new").get_data(as_text=True))
    resp = portal.client.post(f"/portal/enrollments/{ids['enrollment']}/stop", data={"csrf_token": token})
    assert resp.status_code == 404
    assert enrollment(db, ids["enrollment"]).status == "active"


def check_tasks(portal, api, ids, db):
    resp = portal.get("/portal/tasks")
    assert resp.status_code == 200
    _north_sees_nothing_of_south(resp.get_data(as_text=True))
    assert "fever" not in resp.get_data(as_text=True)


def check_close(portal, api, ids, db):
    token = csrf_token(portal.get("/portal/tasks").get_data(as_text=True))
    resp = portal.client.post(f"/portal/tasks/{ids['task']}/close", data={"csrf_token": token})
    assert resp.status_code == 404
    assert db.one(sa.select(FollowUpTask.status)) == "open"


def check_audit(portal, api, ids, db):
    resp = portal.get("/portal/audit")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "red flag" not in html and f">{ids['enrollment']}<" not in html


def check_dashboard(portal, api, ids, db):
    for days in (30, 90):
        html = portal.get(f"/portal/dashboard?days={days}").get_data(as_text=True)
        # South's enrollment is not counted (the chart's table), nor its urgent task listed.
        assert "All enrollments</th><td>0</td>" in html and "All enrollments</th><td>1</td>" not in html
        assert SOUTH_PHONE not in html and f'data-task="{ids["task"]}"' not in html


def check_confirm_stop(portal, api, ids, db):
    assert portal.get(f"/portal/enrollments/{ids['enrollment']}/stop").status_code == 404


def check_clinic_settings(portal, api, ids, db):
    assert "South" not in portal.get("/portal/clinic").get_data(as_text=True)
    assert portal.submit("/portal/clinic", {"timezone": "America/Chicago"}).status_code == 302
    zones = dict((c.id, c.timezone) for c in db.all(sa.select(Clinic)))
    assert zones == {ids["north_clinic"]: "America/Chicago", ids["south_clinic"]: "America/New_York"}


def check_new(portal, api, ids, db):
    resp = portal.submit("/portal/enrollments/new", {"phone": SOUTH_PHONE, "locale": "en", "categories": "bone",
                                                      "consent": "y"})
    assert resp.status_code == 302  # not a duplicate: South's enrollment is invisible and separate
    rows = db.all(sa.select(Enrollment.clinic_id).order_by(Enrollment.id))
    assert rows == [ids["south_clinic"], ids["north_clinic"]]


def check_import(portal, api, ids, db):
    data = {"consent": "y", "file": (io.BytesIO(f"phone,language,categories\n{SOUTH_PHONE},en,bone\n".encode()), "p.csv")}
    resp = portal.submit("/portal/enrollments/import", data, content_type="multipart/form-data")
    assert resp.status_code == 302
    assert db.all(sa.select(Enrollment.clinic_id).order_by(Enrollment.id)) == [ids["south_clinic"], ids["north_clinic"]]


def check_api_list(portal, api, ids, db):
    assert api.get("/enrollments").get_json()["items"] == []


def check_api_get(portal, api, ids, db):
    resp = api.get(f"/enrollments/{ids['enrollment']}")
    assert resp.status_code == 404 and SOUTH_PHONE not in resp.get_data(as_text=True)


def check_api_stop(portal, api, ids, db):
    assert api.post(f"/enrollments/{ids['enrollment']}/stop").status_code == 404
    assert enrollment(db, ids["enrollment"]).status == "active"


def check_api_create(portal, api, ids, db):
    assert api.enroll(SOUTH_PHONE).status_code == 201
    assert db.all(sa.select(Enrollment.clinic_id).order_by(Enrollment.id)) == [ids["south_clinic"], ids["north_clinic"]]


def _south_staff(db) -> StaffUser:
    return db.one(sa.select(StaffUser).where(StaffUser.email == "clinic_admin@south.example"))


def _south_token(db, ids) -> ApiToken:
    return db.one(sa.select(ApiToken).where(ApiToken.clinic_id == ids["south_clinic"]))


def check_admin_staff(portal, api, ids, db):
    html = portal.get("/portal/admin/staff").get_data(as_text=True)
    assert "clinic_admin@north.example" in html and "south" not in html.lower()


def check_staff_change(portal, api, ids, db):
    south = _south_staff(db)
    token = csrf_token(portal.get("/portal/admin/staff").get_data(as_text=True))
    for action in ("deactivate", "activate"):
        resp = portal.client.post(f"/portal/admin/staff/{south.id}/{action}", data={"csrf_token": token})
        assert resp.status_code == 404
    after = _south_staff(db)
    assert after.active and after.session_token == south.session_token


def check_admin_tokens(portal, api, ids, db):
    html = portal.get("/portal/admin/tokens").get_data(as_text=True)
    assert _south_token(db, ids).prefix not in html


def check_token_create(portal, api, ids, db):
    resp = portal.submit("/portal/admin/tokens", {"name": "north tool"})
    assert resp.status_code == 201
    assert db.all(sa.select(ApiToken.clinic_id).order_by(ApiToken.id)) == [ids["north_clinic"], ids["south_clinic"],
                                                                          ids["north_clinic"]]


def check_token_revoke(portal, api, ids, db):
    token = csrf_token(portal.get("/portal/admin/tokens").get_data(as_text=True))
    south = _south_token(db, ids)
    assert portal.client.post(f"/portal/admin/tokens/{south.id}/revoke", data={"csrf_token": token}).status_code == 404
    assert _south_token(db, ids).revoked_at is None


CHECKS = {
    ("/portal/enrollments", "GET"): check_enrollments,
    ("/portal/enrollments/<int:enrollment_id>", "GET"): check_enrollment,
    ("/portal/enrollments/<int:enrollment_id>/stop", "POST"): check_stop,
    ("/portal/enrollments/<int:enrollment_id>/stop", "GET"): check_confirm_stop,
    ("/portal/clinic", "GET"): check_clinic_settings,
    ("/portal/clinic", "POST"): check_clinic_settings,
    ("/portal/enrollments/new", "GET"): check_new,
    ("/portal/enrollments/new", "POST"): check_new,
    ("/portal/enrollments/import", "GET"): check_import,
    ("/portal/enrollments/import", "POST"): check_import,
    ("/portal/tasks", "GET"): check_tasks,
    ("/portal/tasks/<int:task_id>/close", "POST"): check_close,
    ("/portal/audit", "GET"): check_audit,
    ("/portal/dashboard", "GET"): check_dashboard,
    ("/portal/admin/staff", "GET"): check_admin_staff,
    ("/portal/admin/staff/<int:staff_id>/deactivate", "POST"): check_staff_change,
    ("/portal/admin/staff/<int:staff_id>/activate", "POST"): check_staff_change,
    ("/portal/admin/tokens", "GET"): check_admin_tokens,
    ("/portal/admin/tokens", "POST"): check_token_create,
    ("/portal/admin/tokens/<int:token_id>/revoke", "POST"): check_token_revoke,
    ("/api/v1/enrollments", "GET"): check_api_list,
    ("/api/v1/enrollments", "POST"): check_api_create,
    ("/api/v1/enrollments/<int:enrollment_id>", "GET"): check_api_get,
    ("/api/v1/enrollments/<int:enrollment_id>/stop", "POST"): check_api_stop,
}
# Routes that show or change no clinic data.
NO_CLINIC_DATA = {
    ("/portal/", "GET"), ("/portal/login", "GET"), ("/portal/login", "POST"), ("/portal/logout", "POST"),
    ("/portal/lang/<locale>", "GET"), ("/api/v1/openapi.json", "GET"),
    # Clinical review: program-wide texts, no clinic's data (tests/portal/test_review_portal.py).
    ("/portal/review", "GET"), ("/portal/review.js", "GET"), ("/portal/review/<locale>/<path:key>", "GET"),
    ("/portal/review/<locale>/<path:key>", "POST"),
    ("/portal/enrollments/import/template.csv", "GET"),  # the same fictional example for everyone
}


def clinic_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/portal", "/api/v1")):
            routes |= {(rule.rule, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_route_is_covered(app):
    assert clinic_routes(app) == set(CHECKS) | NO_CLINIC_DATA


@pytest.mark.parametrize("route", sorted(CHECKS), ids=lambda r: f"{r[1]} {r[0]}")
def test_other_clinic_sees_and_changes_nothing(route, two_clinics, portal_for, api_for, db):
    north, south, south_enrollment, task = two_clinics
    ids = {"enrollment": south_enrollment, "task": task, "north_clinic": north.id, "south_clinic": south.id}
    CHECKS[route](portal_for(north), api_for(north), ids, db)


@pytest.mark.parametrize("route", sorted(r for r in CHECKS if r[0].startswith("/portal")), ids=lambda r: f"{r[1]} {r[0]}")
def test_portal_routes_need_a_signed_in_user(route, client, two_clinics):
    path = (route[0].replace("<int:enrollment_id>", str(two_clinics[2])).replace("<int:task_id>", str(two_clinics[3]))
            .replace("<int:staff_id>", "1").replace("<int:token_id>", "1"))
    resp = client.open(path, method=route[1])
    assert resp.status_code == 302 and "/portal/login" in resp.headers["Location"]


def test_staff_of_one_clinic_are_not_admins_of_it(make_clinic, portal_for):
    staff = make_clinic("Plain", role="staff")
    portal = portal_for(staff)
    assert portal.get("/portal/audit").status_code == 403
    assert "Audit log" not in portal.get("/portal/enrollments").get_data(as_text=True)
    assert portal.get("/portal/admin/staff").status_code == 403
    assert portal.get("/portal/admin/tokens").status_code == 403
    token = csrf_token(portal.get("/portal/tasks").get_data(as_text=True))
    for path in ("/portal/admin/tokens", "/portal/admin/tokens/1/revoke", "/portal/admin/staff/1/deactivate"):
        assert portal.client.post(path, data={"csrf_token": token, "name": "x"}).status_code == 403, path
