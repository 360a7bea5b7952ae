"""The clinic portal in headless Chromium against a live server: sign in, enroll one patient and
a CSV of several, see them awaiting YES, and see one turn active after the patient's signed YES."""

from __future__ import annotations


import pytest

from tests.support.clinics import PASSWORD, send_confirmations
from tests.conftest import require
from tests.support.browser import chromium_available, chromium_page

pytestmark = pytest.mark.browser

PATIENT = "+14155550123"
CSV = "phone,language,categories,start_date\n+12125550101,es,chemo,\n+12125550102,en,hormone;cdk46,\n+13125550103,en,bone,2026-10-20\n"




def test_sign_in_enroll_import_and_see_yes_turn_active(live_server, make_clinic, twilio, app):  # noqa: F811
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    access = make_clinic("Bayview Cancer Center")
    with chromium_page() as page:
        page.goto(f"{live_server}/portal/login")
        page.fill("#email", access.email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/portal/enrollments")

        page.click("text=Enroll a patient")
        page.fill("#phone", "(415) 555-0123")
        page.select_option("#locale", "en")
        page.check("input[name=categories][value=hormone]")
        page.click("button.primary")
        page.wait_for_selector("text=The patient agreed")  # still on the form: the box was not ticked
        assert "Confirm that the patient agreed to get texts." in page.content()
        page.check("#consent")
        page.click("button.primary")
        page.wait_for_url("**/portal/enrollments/*?created=1")
        assert page.inner_text("#status") == "Awaiting YES"
        patient_page = page.url

        page.click("text=Import CSV")
        page.set_input_files("#file", files=[{"name": "patients.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
        page.check("#consent")
        page.click("button.primary")
        page.wait_for_url("**/portal/enrollments?imported=3")
        rows = page.locator("#enrollments tbody tr")
        assert rows.count() == 4
        assert [rows.nth(i).get_attribute("data-status") for i in range(4)] == ["awaiting_yes"] * 4
        assert page.locator("#enrollments .status-awaiting_yes").first.inner_text() == "Awaiting YES"

        # The worker sends the confirmation; the patient texts YES to the program number and
        # Twilio posts the signed webhook.
        send_confirmations(app)
        reply = twilio.sms("YES", from_=PATIENT)
        assert reply.status == 200 and "signed up" in reply.text

        page.goto(patient_page)
        assert page.inner_text("#status") == "Active"
        steps = page.locator("#messages tbody tr")
        assert steps.count() == 6 and steps.first.get_attribute("data-step") == "confirm"
        page.goto(f"{live_server}/portal/enrollments")
        statuses = sorted(page.locator("#enrollments tbody tr").nth(i).get_attribute("data-status") for i in range(4))
        assert statuses == ["active", "awaiting_yes", "awaiting_yes", "awaiting_yes"]
