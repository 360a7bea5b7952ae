"""The clinic portal through the test client, with CSRF on: sign-in, enroll, CSV, pages, tasks."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

import sqlalchemy as sa

from service.models import AuditLog, Enrollment, FollowUpTask, LoginAttempt, OutboundMessage

from tests.support.clinics import PASSWORD, Portal, csrf_token, enrollment, mark_sent, queue_rows

PHONE = "+14155550123"


def html_of(resp) -> str:
    return resp.get_data(as_text=True)


def test_login_needs_the_csrf_token(app, make_clinic):
    access = make_clinic("North")
    client = app.test_client()
    resp = client.post("/portal/login", data={"email": access.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/portal/enrollments").status_code == 302  # still signed out


def test_login_logout_and_session_cookie_flags(app, make_clinic):
    access = make_clinic("North")
    portal = Portal(app.test_client(), access.email)
    resp = portal.login()
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/enrollments")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert portal.get("/portal/enrollments").status_code == 200
    # Sign out is a POST with the CSRF token; a bare POST changes nothing.
    assert portal.client.post("/portal/logout").status_code == 302
    assert portal.get("/portal/enrollments").status_code == 200
    portal.submit("/portal/enrollments", {}, action="/portal/logout")
    assert portal.get("/portal/enrollments").status_code == 302


def test_production_cookies_are_secure(database_url):
    from service import create_app

    app = create_app({"APP_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": "s" * 40,
                      "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_ACCOUNT_SID": "AC" + "9" * 32,
                      "PUBLIC_BASE_URL": "https://line.example.org", "TWILIO_FROM_NUMBER": "+18005550199",
                      "METRICS_TOKEN": "m" * 32, "PROGRAM_CONTACT": "help@mbcguide.org"})
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True
    app.extensions["db_engine"].dispose()


def test_login_redirect_never_leaves_the_portal(app, make_clinic):
    access = make_clinic("North")
    client = app.test_client()
    token = csrf_token(html_of(client.get("/portal/login")))
    resp = client.post("/portal/login?next=https://evil.example/x", data={"email": access.email, "password": PASSWORD,
                                                                         "csrf_token": token})
    assert resp.headers["Location"].endswith("/portal/enrollments")


def test_wrong_password_then_throttled_per_email_and_ip(app, make_clinic, db, clock):
    access = make_clinic("North")
    portal = Portal(app.test_client(), access.email)
    for _ in range(5):
        resp = portal.login("wrong password!")
        assert resp.status_code == 401 and "Wrong email or password" in html_of(resp)
    resp = portal.login()  # the right password, but too many failures from here
    assert resp.status_code == 429 and "Too many failed attempts" in html_of(resp)
    # Another address (IP) is not throttled by these failures.
    other = Portal(app.test_client(), access.email)
    page = other.client.get("/portal/login", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    ok = other.client.post("/portal/login", environ_base={"REMOTE_ADDR": "10.9.8.7"},
                           data={"email": access.email, "password": PASSWORD, "csrf_token": csrf_token(html_of(page))})
    assert ok.status_code == 302
    clock.advance(minutes=16)
    assert portal.login().status_code == 302
    assert db.count(LoginAttempt) == 0  # cleared by the successful sign-in


def test_unknown_email_is_refused_like_a_wrong_password(app, make_clinic):
    make_clinic("North")
    resp = Portal(app.test_client(), "nobody@north.example").login()
    assert resp.status_code == 401 and "Wrong email or password" in html_of(resp)


def test_enroll_form_derives_time_zone_and_sends_confirmation(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    page = html_of(portal.get("/portal/enrollments/new"))
    assert 'name="consent"' in page and 'value="hormone"' in page and ">Español<" in page
    resp = portal.submit("/portal/enrollments/new", {"phone": "(212) 555-0123", "locale": "es",
                                                     "categories": ["hormone", "bone"], "consent": "y"})
    assert resp.status_code == 302
    item = db.one(sa.select(Enrollment))
    assert (item.timezone, item.locale, item.categories, item.source) == ("America/New_York", "es", "hormone bone", "portal")
    assert item.consent_attested_by == "staff:clinic_admin@north.example"
    page = html_of(portal.get(resp.headers["Location"]))
    assert "Awaiting YES" in page and "+12125550123" in page and 'data-step="confirm"' in page


def test_enroll_form_time_zone_can_be_overridden(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en", "categories": "chemo",
                                              "timezone": "America/Phoenix", "start_date": "2026-10-30", "consent": "y"})
    item = db.one(sa.select(Enrollment))
    assert item.timezone == "America/Phoenix" and item.start_date.isoformat() == "2026-10-30"


def test_enroll_form_requires_the_patient_agreed_box(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    resp = portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en", "categories": "chemo"})
    assert resp.status_code == 400
    assert "Confirm that the patient agreed to get texts." in html_of(resp)
    assert db.count(Enrollment) == 0 and db.count(OutboundMessage) == 0


def test_enroll_form_shows_errors_next_to_fields(make_clinic, portal_for, db, twilio):
    portal = portal_for(make_clinic("North"))
    bad = portal.submit("/portal/enrollments/new", {"phone": "555", "locale": "en", "categories": "chemo", "consent": "y"})
    assert bad.status_code == 422 and "That is not a valid phone number." in html_of(bad)
    portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en", "categories": "chemo", "consent": "y"})
    dup = portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en", "categories": "bone", "consent": "y"})
    assert dup.status_code == 409 and "already enrolled" in html_of(dup)
    twilio.sms("hi", from_="+14155550124")
    twilio.sms("STOP", from_="+14155550124")
    out = portal.submit("/portal/enrollments/new", {"phone": "+14155550124", "locale": "en", "categories": "bone", "consent": "y"})
    assert out.status_code == 409 and "opted out" in html_of(out)
    assert db.count(Enrollment) == 1


def _csv(*lines: str):
    return (io.BytesIO(("\n".join(lines) + "\n").encode("utf-8")), "patients.csv")


def test_csv_import_enrolls_every_row(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    resp = portal.submit("/portal/enrollments/import", {
        "consent": "y",
        "file": _csv("Phone,Language,Categories,Start_Date,Timezone", f"{PHONE},en,hormone;cdk46,,",
                     "+12125550123,es,chemo,2026-10-01,", "+13125550123,en,bone,,America/Denver"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 302 and "imported=3" in resp.headers["Location"]
    rows = db.all(sa.select(Enrollment).order_by(Enrollment.id))
    assert [(r.locale, r.categories, r.timezone, r.source) for r in rows] == [
        ("en", "hormone cdk46", "America/Los_Angeles", "csv"), ("es", "chemo", "America/New_York", "csv"),
        ("en", "bone", "America/Denver", "csv")]
    assert [step for step, _ in queue_rows(db)] == ["confirm"] * 3
    assert "Imported 3 patients" in html_of(portal.get(resp.headers["Location"]))


def test_csv_with_one_bad_row_imports_nothing_and_reports_each_row(make_clinic, portal_for, db, api_for):
    access = make_clinic("North")
    api_for(access).enroll("+13125550123")  # already enrolled
    portal = portal_for(access)
    resp = portal.submit("/portal/enrollments/import", {
        "consent": "y",
        "file": _csv("phone,language,categories,start_date", f"{PHONE},en,hormone,", "12,en,chemo,",
                     "+12125550123,kl,chemo,", "+12125550124,en,astrology,", "+12125550125,en,bone,01/02/2026",
                     "+1 415 555 0123,en,bone,", "+13125550123,en,bone,"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 422
    page = html_of(resp)
    assert "Nothing was imported. 6 rows need fixing" in page
    report = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td></tr>", page)
    assert report == [("3", "That is not a valid phone number."),
                      ("4", "Unknown language “kl”: use one from the list above."),
                      ("5", "Unknown treatment “astrology”: use one from the list above."), ("6", "Write the date as YYYY-MM-DD."),
                      ("7", "This number is in the file twice."), ("8", "This patient is already enrolled.")]
    assert db.count(Enrollment) == 1 and len(queue_rows(db)) == 1  # only the one from before


def test_csv_needs_its_columns_and_the_agreement(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    resp = portal.submit("/portal/enrollments/import", {"consent": "y", "file": _csv("number,lang", "1,en")},
                         content_type="multipart/form-data")
    assert resp.status_code == 422 and "The file needs the columns phone, language, categories." in html_of(resp)
    resp = portal.submit("/portal/enrollments/import", {"file": _csv("phone,language,categories", f"{PHONE},en,bone")},
                         content_type="multipart/form-data")
    assert resp.status_code == 400 and db.count(Enrollment) == 0


def test_list_patient_page_and_stop(make_clinic, portal_for, api_for, twilio, db, app, clock):
    access = make_clinic("North")
    eid = api_for(access).enroll(PHONE, categories=["hormone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    confirm = queue_rows(db, enrollment_id=eid)[0][1]
    mark_sent(app, [confirm.id], clock())
    portal = portal_for(access)
    listing = html_of(portal.get("/portal/enrollments"))
    assert f'data-phone="{PHONE}" data-status="active"' in listing and "Hormone therapy" in listing
    page = html_of(portal.get(f"/portal/enrollments/{eid}"))
    steps = re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', page)
    assert steps[0] == ("confirm", "sent") and ("hormone.what", "queued") in steps and len(steps) == 6
    assert "English" in page and "America/Los_Angeles" in page
    assert "Confirmation (reply YES)" in page and "Hormone therapy: what to expect" in page

    portal.submit(f"/portal/enrollments/{eid}", {}, action=f"/portal/enrollments/{eid}/stop")
    assert enrollment(db, eid).status == "stopped"
    assert {row.status for _, row in queue_rows(db, enrollment_id=eid)} == {"sent", "cancelled"}
    audit = db.all(sa.select(AuditLog.action).where(AuditLog.enrollment_id == eid).order_by(AuditLog.id))
    assert audit == ["enroll", "confirm", "stop"]


def test_tasks_urgent_first_and_close(make_clinic, portal_for, api_for, twilio, db, app, clock):
    access = make_clinic("North")
    api_for(access).enroll(PHONE, categories=["chemo"], start_date="2026-10-01")
    twilio.sms("YES", from_=PHONE)
    checkin = [row for step, row in queue_rows(db, PHONE) if step == "common.checkin"][0]
    clock.advance(days=3)
    mark_sent(app, [checkin.id], clock())
    twilio.sms("2", from_=PHONE)
    twilio.sms("I can't breathe", from_=PHONE)
    portal = portal_for(access)
    page = html_of(portal.get("/portal/tasks"))
    order = re.findall(r'data-task="(\d+)"', page)
    urgent = db.one(sa.select(FollowUpTask.id).where(FollowUpTask.urgent.is_(True)))
    assert order[0] == str(urgent) and len(order) == 2
    assert "I can&#39;t breathe" in page and "Side effects bother the patient" in page
    portal.submit("/portal/tasks", {}, action=f"/portal/tasks/{urgent}/close")
    task = db.one(sa.select(FollowUpTask).where(FollowUpTask.id == urgent))
    assert (task.status, task.closed_by) == ("closed", access.email)
    page = html_of(portal.get("/portal/tasks"))
    assert re.findall(r'data-task="(\d+)"', page) == [o for o in order if o != str(urgent)]
    assert re.search(r'<table id="closed-tasks">.*<td>' + re.escape(access.email) + "</td>", page, flags=re.S)


def test_audit_log_shows_who_did_what(make_clinic, portal_for, api_for):
    access = make_clinic("North")
    api_for(access).enroll(PHONE)
    portal = portal_for(access)
    page = html_of(portal.get("/portal/audit"))
    assert "token:mbc_" in page and ">Enrolled a patient<" in page and f"staff:{access.email}" in page
    assert ">Signed in<" in page and 'data-action="sign_in"' in page and ">sign_in<" not in page


def test_dashboard_charts_are_inline_svg(make_clinic, portal_for, api_for, twilio, db, app, clock):
    access = make_clinic("North")
    api = api_for(access)
    api.enroll(PHONE, categories=["hormone"])
    api.enroll("+14155550124", categories=["bone"])
    twilio.sms("YES", from_=PHONE)
    twilio.sms("2", from_=PHONE)  # asks about hormone therapy (menu item 2)
    twilio.sms("STOP", from_="+14155550124")
    from service import db as dbmod

    with app.app_context(), dbmod.transaction() as sess:
        first = sess.scalars(sa.select(OutboundMessage).where(OutboundMessage.phone == PHONE)
                             .order_by(OutboundMessage.id)).all()
        first[0].status = "delivered"
        first[1].status, first[1].error_code = "undelivered", "30003"
    portal = portal_for(access)
    resp = portal.get("/portal/dashboard?days=90")
    page = html_of(resp)
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    for svg in svgs:  # drawn for the eye only: screen readers read the table that follows it
        root = ElementTree.fromstring(svg)
        assert root.get("aria-hidden") == "true" and root.get("viewBox")
    charts = {}
    for caption, body in re.findall(r'<table class="sr-only"><caption>(.*?)</caption><tbody>(.*?)</tbody>', page):
        charts[caption] = [f"{label}: {value}" for label, value in
                           re.findall(r'<tr><th scope="row">(.*?)</th><td>(\d+)</td></tr>', body)]
    assert len(charts) == len(svgs)
    # The second number opted out before confirming: never this clinic's patient, so its STOP is
    # neither in the funnel nor among the opt-outs (issue 17).
    assert charts["Enrollment funnel"] == ["All enrollments: 2", "Confirmed (YES): 1", "Completed: 0", "Opted out: 0",
                                           "Expired, no YES: 0"]
    assert charts["Top error codes"] == ["30003: 1"]
    assert "Delivered: 1" in charts["Texts by delivery status"] and "Not delivered: 1" in charts["Texts by delivery status"]
    assert charts["Opt-outs by week"] == []
    assert charts["Topics asked about"] == ["Hormone therapy: 1"]
    assert "Delivery rate: 50.0% of finished texts were delivered." in page
    assert "<strong>Last 90 days</strong>" in page


def test_dashboard_topics_count_calls_by_language_and_channel(make_clinic, portal_for, api_for, twilio, app, clock):
    from service import db as dbmod
    from service.clinics.stats import dashboard
    from tests.support.voice_caller import Call

    spanish_phone = "+14155550125"
    access = make_clinic("North")
    api = api_for(access)
    api.enroll(PHONE, categories=["hormone"])
    api.enroll(spanish_phone, locale="es", categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    twilio.sms("2", from_=PHONE)  # hormone therapy, by text
    call = Call(twilio, PHONE)
    call.start()  # the number's language: English
    for key in ("2", "1", "0", "3"):  # hormone therapy, its first part, the menu, CDK4/6 inhibitors
        call.press(key)
    spanish = Call(twilio, spanish_phone)
    spanish.start()
    spanish.say("quimioterapia")  # before the YES: not yet this clinic's patient, not counted
    clock.advance(minutes=1)
    twilio.sms("Sí", from_=spanish_phone)
    spanish = Call(twilio, spanish_phone)
    spanish.start()
    spanish.say("quimioterapia")
    stranger = Call(twilio, "+14155550199")  # not this clinic's patient: not on its dashboard
    stranger.start()
    stranger.press("1")
    stranger.press("2")

    with app.app_context(), dbmod.transaction() as sess:
        data = dashboard(sess, access.id, clock(), 30)
    assert data.topics == {"en": [("hormone", 3), ("cdk46", 1)], "es": [("chemo", 1)]}
    assert data.channels == {"en": {"sms": 1, "voice": 3}, "es": {"voice": 1}}

    page = html_of(portal_for(access).get("/portal/dashboard"))
    topics = page[page.index('<section id="topics">'):]
    assert re.findall(r"<h3>(.*?)</h3>", topics) == ["English", "Español"]
    assert "By text: 1 · On calls: 3" in topics and "By text: 0 · On calls: 1" in topics
    table = re.search(r'<table class="sr-only">.*?</table>', topics).group(0)
    bars = re.findall(r'<th scope="row">(.*?)</th><td>(\d+)</td>', table)
    assert bars == [("Hormone therapy", "3"), ("CDK4/6 inhibitors", "1")]


def test_portal_in_spanish(make_clinic, portal_for, api_for):
    access = make_clinic("North")
    api_for(access).enroll(PHONE)
    portal = portal_for(access)
    portal.get("/portal/lang/es?next=/portal/enrollments")
    page = html_of(portal.get("/portal/enrollments"))
    assert '<html lang="es">' in page and "Inscripciones" in page and "Esperando SÍ" in page
    assert "Terapia hormonal" in page  # treatment names from the patient catalog's Spanish
    form = html_of(portal.get("/portal/enrollments/new"))
    assert "El paciente aceptó recibir estos mensajes." in form
    # Accept-Language picks Spanish before anyone chooses.
    fresh = portal.client.application.test_client()
    assert "Iniciar sesión" in html_of(fresh.get("/portal/login", headers={"Accept-Language": "es-MX,es;q=0.9"}))


def test_every_portal_text_has_a_spanish_translation():
    from babel.messages.pofile import read_po

    from service.portal.i18n import extract, po_path

    with po_path("es").open("rb") as fh:
        spanish = {m.id: m for m in read_po(fh, locale="es") if m.id}
    missing = [m.id for m in extract() if m.id and (m.id not in spanish or not spanish[m.id].string
                                                    or spanish[m.id].fuzzy)]
    assert missing == []
