"""The living demo clinic in Chromium, as a nurse meets it after `make run`: dashboard charts with
data and an urgent task, closing a task, a CSV import from the downloaded template, times in the
clinic's zone (and the patient's where it differs), the confirmed stop, and the browser phone
showing a demo patient's texts with their due times and why a reply was held back.

With UPDATE_SCREENSHOT=1 it rewrites one screenshot per portal page in docs/ (docs/portal-*.png);
otherwise the screenshots go under the test's tmp_path, so a test run never dirties the checkout.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest
from playwright.sync_api import expect

from service.clinics.commands import DEMO_EMAIL, DEMO_PASSWORD
from tests.conftest import require
from tests.support.browser import chromium_available, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def shoot(tmp_path):
    def shot(page, name: str) -> pathlib.Path:
        path = DOCS / f"{name}.png" if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        return path

    return shot


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/portal/login")
    page.fill("#email", DEMO_EMAIL)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/portal/enrollments")


def chart(page, caption: str) -> dict[str, int]:
    rows = page.locator("table.sr-only", has=page.locator("caption", has_text=caption)).first.locator("tbody tr")
    return {rows.nth(i).locator("th").inner_text(): int(rows.nth(i).locator("td").inner_text())
            for i in range(rows.count())}


def test_the_demo_portal(live_server, demo, shoot):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with chromium_page() as page:
        page.goto(f"{live_server}/portal/login")
        shoot(page, "portal-login")
        sign_in(page, live_server)
        expect(page.locator("#enrollments tbody tr")).to_have_count(8)
        expect(page.locator("#enrollments")).to_contain_text("MRN 40112")
        shoot(page, "portal-enrollments")

        # Dashboard: charts with numbers, the urgent task on top.
        page.click("text=Dashboard")
        funnel = chart(page, "Enrollment funnel")
        assert funnel["All enrollments"] == 8 and funnel["Confirmed (YES)"] == 6 and funnel["Opted out"] == 1
        delivery = chart(page, "Texts by delivery status")
        assert delivery["Delivered"] > 20 and delivery["Not delivered"] >= 1
        assert sum(chart(page, "Top error codes").values()) >= 1
        expect(page.locator("#urgent li")).to_have_count(1)
        expect(page.locator("#urgent")).to_contain_text("fever")
        expect(page.locator("#delivery")).to_contain_text("Delivery rate:")
        shoot(page, "portal-dashboard")

        # Tasks: urgent first; closing one moves it to "Recently closed".
        page.click("nav >> text=Follow-up tasks")
        rows = page.locator("#open-tasks tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.first.locator(".badge")).to_have_text("Urgent")
        shoot(page, "portal-tasks")
        rows.nth(1).locator("button").click()
        expect(page.locator("#open-tasks tbody tr")).to_have_count(2)
        expect(page.locator("#closed-tasks tbody tr")).to_have_count(1)

        # A patient page: times in the clinic's zone (Pacific, like the patient's).
        page.click("nav >> text=Enrollments")
        page.locator("#enrollments tr", has_text="MRN 40178").locator("a").first.click()
        expect(page.locator("#status")).to_have_text("Active")
        times = page.locator("#messages tbody tr td:nth-child(3)").all_inner_texts()
        assert times and all(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d P[SD]T", t) for t in times)
        expect(page.locator("#messages")).not_to_contain_text("for the patient")
        shoot(page, "portal-patient")
        patient = page.url

        # The clinic moves to Eastern time: times follow, the patient's own Pacific time is added.
        page.click("text=Clinic settings")
        page.fill("#timezone", "America/New_York")
        page.click("button.primary")
        expect(page.locator("main")).to_contain_text("Times are now shown in America/New_York")
        shoot(page, "portal-clinic-settings")
        page.goto(patient)
        expect(page.locator("#messages")).to_contain_text(re.compile(r"\d\d:\d\d E[SD]T"))
        expect(page.locator("#messages")).to_contain_text(re.compile(r"\d\d:\d\d P[SD]T for the patient"))

        # Stop asks first.
        page.click("#stop")
        expect(page.locator("h1")).to_have_text("Stop this enrollment?")
        shoot(page, "portal-stop")
        page.click("#cancel-stop")
        expect(page.locator("#status")).to_have_text("Active")

        # CSV import from the downloaded template, as is.
        page.click("nav >> text=Import CSV")
        expect(page.locator("#languages")).to_contain_text("Español")
        expect(page.locator("#treatments")).to_contain_text("Chemotherapy")
        shoot(page, "portal-import")
        with page.expect_download() as info:
            page.click("#template")
        template = pathlib.Path(info.value.path()).read_bytes()
        assert template.startswith(b"phone,language,categories")
        page.set_input_files("#file", files=[{"name": "patients.csv", "mimeType": "text/csv", "buffer": template}])
        page.check("#consent")
        page.click("button.primary")
        page.wait_for_url("**/portal/enrollments?imported=2*")
        expect(page.locator("#imported")).to_contain_text("Imported 2 patients")
        expect(page.locator("#enrollments tbody tr")).to_have_count(10)

        page.click("nav >> text=Enroll a patient")
        shoot(page, "portal-enroll")
        page.click("nav >> text=Audit log")
        expect(page.locator("#audit")).to_contain_text("Enrolled a patient")
        shoot(page, "portal-audit")

        # The same portal in Spanish.
        page.click("text=Español")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.goto(f"{live_server}/portal/dashboard")
        expect(page.locator("#funnel")).to_contain_text("Todas las inscripciones")
        shoot(page, "portal-dashboard-es")


def test_the_browser_phone_shows_due_times_and_why_it_held_back(live_server, demo, shoot):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with chromium_page() as page:
        # Be a demo patient (confirmed three days ago): their texts so far and those still due.
        page.add_init_script("sessionStorage.setItem('mbc-sim-phone', '+15105550106')")
        page.goto(f"{live_server}/simulator")
        thread = page.get_by_test_id("thread")
        expect(thread.locator("li.queued").first).to_contain_text(re.compile(r"queued text \(enrollment\) · due "))
        expect(thread.locator("li.sent").first).to_contain_text("delivered")
        page.fill("#sms-body", "STOP")
        page.press("#sms-body", "Enter")
        expect(thread.locator("li.in", has_text="You will get no more texts")).not_to_have_count(0)
        page.fill("#sms-body", "MENU")
        page.press("#sms-body", "Enter")
        expect(thread.locator("li.held")).to_contain_text("held back: this number opted out")
        # STOP cancelled the queued series texts: the page shows them cancelled, without reloading.
        expect(thread.locator("li.queued")).to_have_count(0)
        shoot(page, "browser-phone-held-back")
