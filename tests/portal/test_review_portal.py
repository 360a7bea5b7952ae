"""Clinical review in the portal (/portal/review): reviewer accounts, what they see and do, what
clinic staff may not do (service/portal/review.py)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from service import db as dbmod
from service.clinics.accounts import create_staff
from service.models import AuditLog, ContentReview, StaffUser

from tests.support.clinics import PASSWORD, Portal, csrf_token

REVIEWER = "dr.ruiz@program.example"
KEY = "topic.cdk46.what.text"
PATIENT = "+14155550123"


def make_reviewer(app, email: str = REVIEWER) -> Portal:
    with app.app_context(), dbmod.transaction() as sess:
        create_staff(sess, None, email, PASSWORD, "reviewer")
    portal = Portal(app.test_client(), email)
    resp = portal.login()
    assert resp.status_code == 302
    return portal


def decide(portal: Portal, locale: str, key: str, action: str, comment: str = "", hash_: str | None = None, **query):
    path = f"/portal/review/{locale}/{key}"
    page = portal.get(path, query_string=query)
    html = page.get_data(as_text=True)
    seen = re.search(r'name="hash" type="hidden" value="([0-9a-f]{64})"', html).group(1)
    return portal.client.post(path, query_string=query, data={"csrf_token": csrf_token(html), "hash": hash_ or seen,
                                                               "action": action, "comment": comment})


def test_cli_creates_a_reviewer_without_a_clinic(app, runner, db):
    result = runner.invoke(args=["staff", "create", "--role", "reviewer", "--email", REVIEWER], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "created reviewer dr.ruiz@program.example (program-level, no clinic)" in result.output
    user = db.one(sa.select(StaffUser))
    assert (user.role, user.clinic_id) == ("reviewer", None)
    # A clinic role needs its clinic, and a reviewer has none.
    result = runner.invoke(args=["staff", "create", "--role", "staff", "--email", "n@x.example"], input=PASSWORD + "\n")
    assert result.exit_code != 0 and "--clinic is required" in result.output
    result = runner.invoke(args=["clinics", "create", "North"])
    result = runner.invoke(args=["staff", "create", "--role", "reviewer", "--clinic", "North", "--email", "r2@x.example"],
                           input=PASSWORD + "\n")
    assert result.exit_code != 0


def test_the_database_refuses_a_reviewer_with_a_clinic(app, make_clinic):
    access = make_clinic("North")
    with app.app_context(), dbmod.transaction() as sess:
        user = sess.scalars(sa.select(StaffUser)).one()
        user.role = "reviewer"  # keeps its clinic: the check constraint says no
        try:
            sess.flush()
        except sa.exc.IntegrityError:
            sess.rollback()
        else:
            raise AssertionError("a reviewer with a clinic was stored")
    assert access.id


def test_a_reviewer_sees_the_review_pages_and_no_patient_data(app, make_clinic, api_for, db):
    access = make_clinic("North")
    assert api_for(access).enroll(PATIENT).status_code == 201
    reviewer = make_reviewer(app)
    landing = reviewer.client.get("/portal/enrollments")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/portal/review")
    for path in ("/portal/", "/portal/enrollments", "/portal/dashboard", "/portal/tasks", "/portal/audit",
                 "/portal/enrollments/new", "/portal/enrollments/1", "/portal/enrollments/import"):
        resp = reviewer.get(path)
        assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/review"), path
    page = reviewer.get("/portal/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="progress"' in html
    assert "5550123" not in html and "North" not in html
    assert reviewer.client.post("/portal/enrollments/new", data={}).status_code == 403
    assert reviewer.client.post("/portal/enrollments/1/stop", data={}).status_code == 403
    # Sign-in of a program-level account is audited without a clinic; clinics never see it.
    assert db.one(sa.select(AuditLog).where(AuditLog.action == "sign_in", AuditLog.actor == f"staff:{REVIEWER}")).clinic_id is None


def test_progress_filters_and_one_text_side_by_side(app):
    reviewer = make_reviewer(app)
    html = reviewer.get("/portal/review", query_string={"locale": "es", "topic": "cdk46"}).get_data(as_text=True)
    keys = re.findall(r'<tr data-key="([^"]+)"', html)
    assert KEY in keys and all(k.startswith("topic.cdk46.") for k in keys)
    total = len(app.extensions["line"].renderer.content.texts)
    assert f'<span class="approved">0</span> / {total}' in html
    page = reviewer.get(f"/portal/review/es/{KEY}").get_data(as_text=True)
    catalog = app.extensions["line"].renderer.catalog
    assert 'id="english"' in page and catalog.content.texts[KEY].text in page
    assert catalog.get("es", KEY).split(".")[0] in page
    assert "medical.md" in page and 'id="sms"' in page and 'id="voice"' in page and "segments" in page
    assert "Topic cdk46, item what" in page
    assert reviewer.get("/portal/review/es/no.such.key").status_code == 404
    assert reviewer.get(f"/portal/review/xx/{KEY}").status_code == 404


def test_approve_then_the_next_text_opens_and_the_audit_log_has_it(app, db):
    reviewer = make_reviewer(app)
    resp = decide(reviewer, "es", KEY, "approve", topic="cdk46")
    assert resp.status_code == 302
    keys = [k for k in app.extensions["line"].renderer.content.texts if k.startswith("topic.cdk46.")]
    following = keys[keys.index(KEY) + 1]
    assert resp.headers["Location"].endswith(f"/portal/review/es/{following}?status=&topic=cdk46")
    row = db.one(sa.select(ContentReview))
    assert (row.locale, row.key, row.decision, row.reviewer) == ("es", KEY, "approved", REVIEWER)
    audit = db.one(sa.select(AuditLog).where(AuditLog.action == "review_approved"))
    assert audit.actor == f"staff:{REVIEWER}" and audit.clinic_id is None and KEY in audit.detail
    assert app.extensions["line"].reviews.status("es", KEY).status == "approved"
    page = reviewer.get(f"/portal/review/es/{KEY}").get_data(as_text=True)
    assert "Approved" in page and REVIEWER in page
    # The "never reviewed" filter no longer lists it.
    html = reviewer.get("/portal/review", query_string={"locale": "es", "status": "unreviewed"}).get_data(as_text=True)
    assert f'data-key="{KEY}"' not in html


def test_request_changes_needs_a_comment_and_stale_pages_cannot_decide(app, db):
    reviewer = make_reviewer(app)
    resp = decide(reviewer, "es", KEY, "request")
    assert resp.status_code == 302 and "error=comment" in resp.headers["Location"]
    assert "Say what should change." in reviewer.get(resp.headers["Location"]).get_data(as_text=True)
    resp = decide(reviewer, "es", KEY, "approve", hash_="0" * 64)  # the words changed while it was open
    assert "error=changed" in resp.headers["Location"]
    assert db.count(ContentReview) == 0
    resp = decide(reviewer, "es", KEY, "request", comment="Say 'pastillas', not 'píldoras'.")
    assert resp.status_code == 302
    row = db.one(sa.select(ContentReview))
    assert (row.decision, row.comment) == ("changes_requested", "Say 'pastillas', not 'píldoras'.")
    assert app.extensions["line"].reviews.status("es", KEY).status == "changes_requested"
    assert db.one(sa.select(AuditLog).where(AuditLog.action == "review_changes_requested")).detail.endswith("'píldoras'.")


def test_clinic_staff_may_read_but_not_approve(app, make_clinic, portal_for, db):
    for role in ("clinic_admin", "staff"):
        access = make_clinic(f"Clinic {role}", role=role)
        portal = portal_for(access)
        page = portal.get(f"/portal/review/es/{KEY}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and 'id="approve"' not in html and 'id="read-only"' in html
        resp = portal.client.post(f"/portal/review/es/{KEY}", data={
            "csrf_token": csrf_token(html), "hash": app.extensions["line"].reviews.current[("es", KEY)].hash,
            "action": "approve"})
        assert resp.status_code == 403
    assert db.count(ContentReview) == 0


def test_signed_out_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    assert client.get("/portal/review").status_code == 302
    assert client.post(f"/portal/review/es/{KEY}", data={}).status_code in (302, 400)


def test_a_decision_needs_this_sessions_csrf_token(app, db):
    reviewer = make_reviewer(app)
    current = app.extensions["line"].reviews.current[("es", KEY)].hash
    for token in (None, "", "garbage"):
        data = {"hash": current, "action": "approve"}
        if token is not None:
            data["csrf_token"] = token
        assert reviewer.client.post(f"/portal/review/es/{KEY}", data=data).status_code == 400
    assert db.count(ContentReview) == 0
    assert decide(reviewer, "es", KEY, "approve").status_code == 302  # control: with the token it records
    assert db.count(ContentReview) == 1
