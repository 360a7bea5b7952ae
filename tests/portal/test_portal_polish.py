"""Portal polish (issue 18): times in the clinic's zone with the patient's where it differs, a
confirmed, danger-styled stop, the optional patient label, urgent tasks on the dashboard, stored
codes shown in the nurse's language, the clinic's time zone setting."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from service.models import AuditLog, Clinic, Enrollment
from tests.portal.test_portal import PHONE, html_of

from tests.support.clinics import enrollment


def test_times_in_the_clinic_zone_and_the_patients_where_it_differs(make_clinic, portal_for, api_for, twilio, clock):
    access = make_clinic("North", tz="America/Chicago")
    eid = api_for(access).enroll(PHONE, categories=["hormone"]).get_json()["id"]  # 415: Pacific
    twilio.sms("YES", from_=PHONE)
    page = html_of(portal_for(access).get(f"/portal/enrollments/{eid}"))
    assert " UTC" not in page
    enrolled = clock().astimezone(ZoneInfo("America/Chicago")).strftime("%Y-%m-%d %H:%M %Z")
    assert enrolled in page and ("CST" in enrolled or "CDT" in enrolled)
    assert re.search(r"\d\d:\d\d P[SD]T for the patient", page)  # series texts at 10:00 Pacific


def test_no_patient_time_when_the_zones_agree(make_clinic, portal_for, api_for, twilio):
    access = make_clinic("North", tz="America/Los_Angeles")
    eid = api_for(access).enroll(PHONE, categories=["hormone"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    assert "for the patient" not in html_of(portal_for(access).get(f"/portal/enrollments/{eid}"))


def test_stop_asks_first_and_is_a_danger_action(make_clinic, portal_for, api_for, db):
    access = make_clinic("North")
    eid = api_for(access).enroll(PHONE, sent=False).get_json()["id"]  # its confirmation still queued
    portal = portal_for(access)
    page = html_of(portal.get(f"/portal/enrollments/{eid}"))
    assert re.search(r'<a class="danger" id="stop" href="/portal/enrollments/%d/stop">' % eid, page)
    confirm = html_of(portal.get(f"/portal/enrollments/{eid}/stop"))
    assert "Stop this enrollment?" in confirm and "1 text waiting to be sent will be cancelled." in confirm
    assert enrollment(db, eid).status == "awaiting_yes"  # looking is not stopping
    resp = portal.submit(f"/portal/enrollments/{eid}/stop", {})
    assert resp.status_code == 302 and enrollment(db, eid).status == "stopped"
    page = html_of(portal.get(resp.headers["Location"]))
    assert "Enrollment stopped. No more texts will be sent to this patient." in page
    assert "(stopped by the clinic)" in page and "stopped_by_clinic" not in page
    assert portal.get(f"/portal/enrollments/{eid}/stop").status_code == 302  # nothing left to stop


def test_patient_label_is_optional_and_shown_to_the_clinic(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North"))
    form = html_of(portal.get("/portal/enrollments/new"))
    assert "Do not enter a full name, a diagnosis" in form and 'id="label"' in form
    assert not re.search(r'<input[^>]*id="label"[^>]*required', form)
    resp = portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en", "categories": "bone",
                                                      "consent": "y", "label": " MRN 4410 "})
    assert resp.status_code == 302
    assert db.one(sa.select(Enrollment.patient_label)) == "MRN 4410"
    assert "MRN 4410" in html_of(portal.get("/portal/enrollments"))
    resp = portal.submit("/portal/enrollments/new", {"phone": "+14155550124", "locale": "en", "categories": "bone",
                                                      "consent": "y", "label": "x" * 41})
    page = html_of(resp)
    assert resp.status_code == 400 and 'aria-invalid="true"' in page and 'aria-describedby="label-hint label-error"' in page


def test_treatment_checkboxes_are_not_each_required_and_errors_are_summarised(make_clinic, portal_for):
    portal = portal_for(make_clinic("North"))
    form = html_of(portal.get("/portal/enrollments/new"))
    assert not re.search(r'<input[^>]*name="categories"[^>]*required', form)
    resp = portal.submit("/portal/enrollments/new", {"phone": PHONE, "locale": "en"})
    page = html_of(resp)
    assert 'id="error-summary"' in page and 'href="#categories-0"' in page and 'href="#consent"' in page


def test_urgent_tasks_on_the_dashboard(make_clinic, portal_for, api_for, twilio):
    access = make_clinic("North")
    api_for(access).enroll(PHONE, categories=["chemo"])
    twilio.sms("YES", from_=PHONE)
    twilio.sms("I have a fever", from_=PHONE)
    page = html_of(portal_for(access).get("/portal/dashboard"))
    urgent = page[page.index('<section id="urgent"'):page.index("</section>")]
    assert PHONE in urgent and "Red-flag text" in urgent and "1 open task in all" in urgent


def test_spanish_shows_no_raw_codes(make_clinic, portal_for, api_for, twilio):
    access = make_clinic("North")
    eid = api_for(access).enroll(PHONE, categories=["chemo"]).get_json()["id"]
    twilio.sms("YES", from_=PHONE)
    twilio.sms("STOP", from_=PHONE)
    portal = portal_for(access)
    portal.get("/portal/lang/es")
    page = html_of(portal.get(f"/portal/enrollments/{eid}"))
    assert "el paciente envió STOP" in page and "opted_out" not in page.replace('status-', '')
    audit = html_of(portal.get("/portal/audit"))
    assert "Inscribió a un paciente" in audit and "El paciente respondió SÍ" in audit and "Inició sesión" in audit
    assert not re.search(r"<td>(enroll|confirm|opt_out|sign_in)</td>", audit)
    assert "Todas las inscripciones" in html_of(portal.get("/portal/dashboard"))


def test_clinic_admin_sets_the_time_zone(make_clinic, portal_for, db):
    access = make_clinic("North")
    portal = portal_for(access)
    assert 'value="America/New_York"' in html_of(portal.get("/portal/clinic"))
    bad = portal.submit("/portal/clinic", {"timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "Unknown time zone" in html_of(bad)
    resp = portal.submit("/portal/clinic", {"timezone": "America/Denver"})
    assert resp.status_code == 302
    assert db.one(sa.select(Clinic.timezone)) == "America/Denver"
    assert db.one(sa.select(AuditLog.detail).where(AuditLog.action == "set_timezone")) == "America/New_York -> America/Denver"
    assert "Times are now shown in America/Denver" in html_of(portal.get(resp.headers["Location"]))


def test_staff_cannot_change_the_clinic(make_clinic, portal_for, db):
    portal = portal_for(make_clinic("North", role="staff"))
    assert portal.get("/portal/clinic").status_code == 403
    assert portal.client.post("/portal/clinic", data={"timezone": "America/Denver"}).status_code == 403
    assert db.one(sa.select(Clinic.timezone)) == "America/New_York"
