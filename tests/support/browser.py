"""Headless Debian Chromium for the browser tests (never a downloaded browser build)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM)


@contextmanager
def chromium_page(viewport=(1280, 900)):
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="mbc-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": viewport[0], "height": viewport[1]},
        )
        try:
            yield context.new_page()
        finally:
            context.close()
