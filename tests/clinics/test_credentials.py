"""Issue 17 item 4: API tokens listed and revoked, staff listed, deactivated (every session ends)
and activated again, from the CLI and from a clinic admin's portal pages, without SQL."""

from __future__ import annotations

import sqlalchemy as sa

from service.clinics.accounts import create_staff
from service.models import ApiToken, AuditLog, StaffUser

from tests.support.clinics import PASSWORD, Api, Portal, csrf_token


def test_tokens_list_and_revoke_from_the_cli(runner, make_clinic, app, db):
    north, south = make_clinic("North"), make_clinic("South")
    listing = runner.invoke(args=["tokens", "list"])
    assert listing.exit_code == 0
    lines = listing.output.strip().splitlines()
    assert len(lines) == 2 and all("\tactive" in line for line in lines)
    assert north.token not in listing.output and south.token not in listing.output  # never the token itself
    assert runner.invoke(args=["tokens", "list", "--clinic", "North"]).output.count("\n") == 1

    north_id = db.one(sa.select(ApiToken.id).where(ApiToken.clinic_id == north.id))
    assert Api(app.test_client(), north.token).get("/enrollments").status_code == 200
    revoked = runner.invoke(args=["tokens", "revoke", str(north_id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert Api(app.test_client(), north.token).get("/enrollments").status_code == 401
    assert Api(app.test_client(), south.token).get("/enrollments").status_code == 200
    assert "revoked 2026-11-02" in runner.invoke(args=["tokens", "list", "--clinic", "North"]).output
    missing = runner.invoke(args=["tokens", "revoke", "999"])
    assert missing.exit_code == 1 and "no token with id 999" in missing.output


def test_staff_deactivate_ends_sessions_and_activate_lets_them_back(runner, make_clinic, app, db):
    north = make_clinic("North")
    portal = Portal(app.test_client(), north.email)
    assert portal.login().status_code == 302
    assert north.email in runner.invoke(args=["staff", "list"]).output

    done = runner.invoke(args=["staff", "deactivate", "--email", north.email.upper()])
    assert done.exit_code == 0 and "sessions have ended" in done.output
    assert portal.get("/portal/enrollments").status_code == 302  # signed out at once
    assert portal.login().status_code == 401
    assert "deactivated" in runner.invoke(args=["staff", "list", "--clinic", "North"]).output
    assert "already deactivated" in runner.invoke(args=["staff", "deactivate", "--email", north.email]).output

    assert runner.invoke(args=["staff", "activate", "--email", north.email]).exit_code == 0
    assert portal.login().status_code == 302
    actions = db.all(sa.select(AuditLog.action).where(AuditLog.actor == "cli").order_by(AuditLog.id))
    assert actions == ["deactivate_staff", "activate_staff"]


def test_a_clinic_admin_creates_a_token_shown_once_and_revokes_it(make_clinic, portal_for, app, db):
    north = make_clinic("North")
    portal = portal_for(north)
    created = portal.submit("/portal/admin/tokens", {"name": "EHR bridge"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    token = html.split('<code id="token">')[1].split("</code>")[0]
    assert token.startswith("mbc_") and Api(app.test_client(), token).get("/enrollments").status_code == 200
    again = portal.get("/portal/admin/tokens").get_data(as_text=True)
    assert token not in again and token[:10] in again and "EHR bridge" in again  # shown once; then its prefix

    row = db.one(sa.select(ApiToken).where(ApiToken.name == "EHR bridge"))
    resp = portal.client.post(f"/portal/admin/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(again)})
    assert resp.status_code == 302
    assert Api(app.test_client(), token).get("/enrollments").status_code == 401
    assert 'data-revoked="yes"' in portal.get("/portal/admin/tokens").get_data(as_text=True)
    assert portal.submit("/portal/admin/tokens", {"name": ""}).status_code == 400  # a name is required
    # Without the CSRF token nothing happens.
    assert portal.client.post("/portal/admin/tokens", data={"name": "x"}).status_code == 400


def test_a_clinic_admin_deactivates_a_nurse_whose_session_ends(make_clinic, portal_for, app, db):
    north = make_clinic("North")
    with app.app_context():
        from service import db as dbmod
        from service.models import Clinic

        with dbmod.transaction() as sess:
            nurse = create_staff(sess, sess.get(Clinic, north.id), "nurse@north.example", PASSWORD)
            nurse_id = nurse.id
    nurse_portal = Portal(app.test_client(), "nurse@north.example")
    assert nurse_portal.login().status_code == 302
    admin = portal_for(north)
    page = admin.get("/portal/admin/staff").get_data(as_text=True)
    assert "nurse@north.example" in page
    resp = admin.client.post(f"/portal/admin/staff/{nurse_id}/deactivate", data={"csrf_token": csrf_token(page)})
    assert resp.status_code == 302
    assert nurse_portal.get("/portal/enrollments").status_code == 302
    assert nurse_portal.login().status_code == 401
    resp = admin.client.post(f"/portal/admin/staff/{nurse_id}/activate", data={"csrf_token": csrf_token(page)})
    assert resp.status_code == 302 and nurse_portal.login().status_code == 302
    # An admin cannot lock themselves out from the portal.
    own = db.scalar(sa.select(StaffUser.id).where(StaffUser.email == north.email))
    assert admin.client.post(f"/portal/admin/staff/{own}/deactivate",
                             data={"csrf_token": csrf_token(page)}).status_code == 409
    assert admin.get("/portal/admin/staff").status_code == 200
