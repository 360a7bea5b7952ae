"""axe-core (WCAG 2.1 AA rules, the copy bundled with axe-playwright-python: no download) on every
portal and simulator page, in English and in Spanish, in Debian's Chromium, against the living
demo clinic (seed-demo). Any serious or critical violation fails, with the rule and the elements."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from service.clinics.commands import DEMO_EMAIL, DEMO_PASSWORD
from service.models import Enrollment
from tests.conftest import require
from tests.support.browser import chromium_available, chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AXE = Axe()
OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
           "resultTypes": ["violations"]}


def serious(page) -> list[str]:
    found = AXE.run(page, options=OPTIONS).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def demo(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    rows = db.all(sa.select(Enrollment).order_by(Enrollment.id))
    return {status: next(e.id for e in rows if e.status == status) for status in ("active", "awaiting_yes", "completed")}


def portal_pages(demo: dict) -> list[tuple[str, str | None]]:
    """(path, what to do there first) for every portal page."""
    return [
        ("/portal/enrollments", None),
        ("/portal/enrollments?status=active", None),
        (f"/portal/enrollments/{demo['active']}", None),
        (f"/portal/enrollments/{demo['completed']}", None),
        (f"/portal/enrollments/{demo['awaiting_yes']}/stop", None),
        ("/portal/enrollments/new", None),
        ("/portal/enrollments/new", "submit-empty"),
        ("/portal/enrollments/import", None),
        ("/portal/enrollments/import", "import-bad"),
        ("/portal/tasks", None),
        ("/portal/dashboard", None),
        ("/portal/audit", None),
        ("/portal/clinic", None),
        ("/portal/no-such-page", None),
    ]


def _act(page, action: str | None) -> None:
    if action == "submit-empty":
        page.click("button.primary")
        page.wait_for_selector("#error-summary")
    elif action == "import-bad":
        page.set_input_files("#file", files=[{"name": "p.csv", "mimeType": "text/csv",
                                               "buffer": b"phone,language,categories\n12,xx,yy\n"}])
        page.check("#consent")
        page.click("button.primary")
        page.wait_for_selector("#report")


@pytest.mark.parametrize("locale", ["en", "es"])
def test_every_portal_page_has_no_serious_violation(live_server, demo, locale):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    problems: dict[str, list[str]] = {}
    titles = set()
    with chromium_page() as page:
        page.goto(f"{live_server}/portal/lang/{locale}")
        problems["login"] = serious(page)
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", "wrong password")
        page.click("button.primary")
        page.wait_for_selector("p.error")
        problems["login failed"] = serious(page)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button.primary")
        page.wait_for_url("**/portal/enrollments")
        assert page.locator("html").get_attribute("lang") == locale
        for path, action in portal_pages(demo):
            page.goto(live_server + path)
            _act(page, action)
            problems[f"{path} {action or ''}".strip()] = serious(page)
            titles.add(page.title())
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(titles) >= 10  # every page has its own title


def test_simulator_and_start_page_have_no_serious_violation(live_server, demo):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    problems = {}
    with chromium_page() as page:
        page.goto(f"{live_server}/")
        problems["start page"] = serious(page)
        page.goto(f"{live_server}/simulator")
        page.fill("#sms-body", "MENU")
        page.press("#sms-body", "Enter")
        page.wait_for_selector("#thread li.in")
        page.fill("#sms-body", "STOP")
        page.press("#sms-body", "Enter")
        page.fill("#sms-body", "MENU")
        page.press("#sms-body", "Enter")
        page.wait_for_selector("#thread li.held")
        problems["messages"] = serious(page)
        page.click("#tab-call")
        page.click("#call-start")
        page.wait_for_selector("#call-log li.say")
        problems["call"] = serious(page)
    assert {k: v for k, v in problems.items() if v} == {}


def test_no_sideways_scrolling_on_a_small_phone(live_server, demo):
    """320 CSS pixels (WCAG 1.4.10 reflow): the dashboard's charts shrink instead of scrolling."""
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with chromium_page(viewport=(320, 640)) as page:
        page.goto(f"{live_server}/portal/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("button.primary")
        page.wait_for_url("**/portal/enrollments")
        page.goto(f"{live_server}/portal/dashboard")
        widths = page.evaluate("() => [...document.querySelectorAll('svg.chart')].map(s => s.getBoundingClientRect().right)")
        assert widths and max(widths) <= 320
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320


def test_the_skip_link_moves_focus_to_the_content(live_server, demo):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with chromium_page() as page:
        page.goto(f"{live_server}/portal/login")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        assert re.search(r"#main$", page.url)
        assert page.evaluate("() => document.activeElement.id") == "main"


def test_the_check_catches_what_the_issue_found():
    """The old .muted grey (#718096, 4.0:1) and a checkbox group without labels fail the check."""
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with chromium_page() as page:
        page.set_content('<html lang="en"><head><title>t</title></head><body><main><h1>x</h1>'
                         '<p style="color:#718096;font-size:14px">Leave empty for today.</p>'
                         '<input type="checkbox" name="categories"></main></body></html>')
        found = " ".join(serious(page))
        assert "color-contrast" in found and "label" in found
