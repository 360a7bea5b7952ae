"""The browser phone in Chromium: text and call the line through /simulator and check what shows.

Serves the app on a free local port (werkzeug, in a thread) and drives Debian's Chromium. With
UPDATE_SCREENSHOT=1 it rewrites docs/browser-phone.png, the screenshot the README shows; otherwise
it saves the screenshot under the test's tmp_path so a test run never dirties the checkout.
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

from service.content.voice import VOICES
from tests.conftest import require
from tests.support.browser import chromium_page

SCREENSHOT = pathlib.Path(__file__).parents[2] / "docs" / "browser-phone.png"




@pytest.mark.browser
def test_text_then_call_the_line_in_spanish(live_server, app, tmp_path):
    require(os.path.exists("/usr/bin/chromium"), "Chromium (/usr/bin/chromium) is needed for browser tests")
    from playwright.sync_api import expect

    voice = app.extensions["voice"].renderer
    sms = app.extensions["line"].renderer
    spanish = VOICES["es"]
    with chromium_page(viewport=(1280, 900)) as page:
        page.goto(live_server + "/simulator")
        expect(page.get_by_test_id("my-number")).to_have_text(re.compile(r"^\+1\d{3}55501\d\d$"))  # fictional

        # A text: the reply bubbles are the <Message> bodies of the real webhook.
        page.fill("#sms-body", "HOLA")
        page.click("#sms-send")
        thread = page.get_by_test_id("thread")
        expect(thread.locator("li.out")).to_have_text(["HOLA"])
        expect(thread.locator("li.in").first).to_have_text(sms.render_text("welcome", "es"))
        expect(page.get_by_test_id("documents")).to_contain_text("POST /twilio/sms → 200")

        # A call: the number now has Spanish stored, so the line answers in Spanish at once.
        page.click("#tab-call")
        page.click("#call-start")
        log = page.get_by_test_id("call-log")
        first = log.locator("li.say").first
        expect(first).to_contain_text(voice.line("es", "voice_welcome").text)
        expect(first.locator(".meta")).to_have_text(f"<Say> · {spanish.language} · {spanish.voice}")
        expect(page.get_by_test_id("call-status")).to_contain_text(f"a key or speech ({spanish.speech})")

        page.click('.key[data-key="2"]')
        expect(log.locator("li.you").last).to_have_text("You pressed 2")
        expect(log.locator("li.say", has_text=voice.line("es", "voice_text_option", key="9").text)).to_have_count(1)
        page.click('.key[data-key="1"]')
        expect(log.locator("li.say", has_text=voice.item_text("es", "hormone", 0).text)).to_have_count(1)
        page.click('.key[data-key="9"]')
        expect(log.locator("li.say", has_text=voice.line("es", "voice_texted").text)).to_have_count(1)

        page.fill("#speech-text", "quimioterapia")
        page.click("#speech-send")
        expect(log.locator("li.you").last).to_have_text("You said: “quimioterapia”")
        expect(log.locator("li.say", has_text=voice.line("es", "voice_item_option", label="Qué es", key=1).text)
               ).not_to_have_count(0)
        expect(page.get_by_test_id("documents")).to_contain_text(re.compile(r"POST /twilio/voice/input\?step=\d+ → 200"))
        shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / SCREENSHOT.name
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000

        # The "press 9" text shows in the thread as queued, in Spanish, with the SMS wording.
        page.click("#tab-messages")
        expect(thread.locator("li.queued")).to_have_count(1)
        expect(thread.locator("li.queued").first).to_contain_text(sms.item("es", "hormone", 0).split("\n")[0])

        page.click("#tab-call")
        page.click('.key[data-key="#"]')
        expect(log.locator("li.say").last).to_contain_text(voice.line("es", "voice_goodbye").text)
        expect(page.get_by_test_id("call-status")).to_have_text("Call ended")
        expect(page.locator('.key[data-key="1"]')).to_be_disabled()
