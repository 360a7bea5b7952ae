"""Clinical review in headless Chromium against a live server: a reviewer signs in, filters the
Spanish CDK4/6 texts, approves one with the keyboard and one with the button, and sees progress."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from service import db as dbmod
from service.clinics.accounts import create_staff
from service.models import ContentReview
from tests.support.clinics import PASSWORD
from tests.conftest import require
from tests.support.browser import chromium_available, chromium_page

pytestmark = pytest.mark.browser

REVIEWER = "dr.ruiz@program.example"


def test_a_reviewer_approves_texts_with_the_keyboard_and_the_button(live_server, app, db):
    require(chromium_available(), "Debian chromium at /usr/bin/chromium")
    with app.app_context(), dbmod.transaction() as sess:
        create_staff(sess, None, REVIEWER, PASSWORD, "reviewer")
    keys = [k for k in app.extensions["line"].renderer.content.texts if k.startswith("topic.cdk46.")]
    with chromium_page() as page:
        page.goto(f"{live_server}/portal/login")
        page.fill("#email", REVIEWER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/portal/review")  # a reviewer lands on the review pages

        page.select_option("#f-locale", "es")
        page.select_option("#f-topic", "cdk46")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/portal/review?locale=es&status=&topic=cdk46")
        assert page.locator("#texts tbody tr").count() == len(keys)

        page.click("#start")
        page.wait_for_url(f"**/portal/review/es/{keys[0]}?*")
        assert page.inner_text("#english").strip() == app.extensions["line"].renderer.content.texts[keys[0]].text
        page.keyboard.press("a")  # approve with the keyboard: the next text opens
        page.wait_for_url(f"**/portal/review/es/{keys[1]}?*")
        page.click("#approve")
        page.wait_for_url(f"**/portal/review/es/{keys[2]}?*")
        page.keyboard.press("k")  # back to the one just approved
        page.wait_for_url(f"**/portal/review/es/{keys[1]}?*")
        assert "Approved" in page.inner_text("#status") and REVIEWER in page.inner_text("#status")

        page.goto(f"{live_server}/portal/review?locale=es")
        assert page.inner_text("#progress tr[data-locale=es] .approved") == "2"
    rows = [(r.key, r.reviewer, r.decision) for r in db.all(sa.select(ContentReview).order_by(ContentReview.id))]
    assert rows == [(keys[0], REVIEWER, "approved"), (keys[1], REVIEWER, "approved")]
