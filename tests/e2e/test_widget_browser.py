"""A person's view: headless Chromium opens the page, types, and sees the bot answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_visitor_chats_in_the_widget(running_stack, browser, artifacts_dir):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    failed: list[str] = []
    page.on("requestfailed", lambda req: failed.append(req.url))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if "127.0.0.1" not in req.url else None)
    page.goto(f"{running_stack.site_url}/")
    page.get_by_role("status").filter(has_text="Online").wait_for(timeout=30_000)

    box = page.get_by_label("Your message")
    box.fill("I want to cancel my order")
    box.press("Enter")
    page.locator(".msg--user", has_text="I want to cancel my order").wait_for()
    reply = page.locator(".msg--bot").first
    reply.wait_for(timeout=20_000)
    assert "cancel" in reply.inner_text().lower()

    box.fill("what is the status of order 12345")
    page.get_by_role("button", name="Send").click()
    page.locator(".msg--bot", has_text="Lisbon").wait_for(timeout=20_000)

    page.screenshot(path=str(artifacts_dir / "widget-desktop.png"), full_page=True)
    assert external == [], f"the page loaded something from outside: {external}"
    assert failed == [], f"requests failed: {failed}"
    page.close()
