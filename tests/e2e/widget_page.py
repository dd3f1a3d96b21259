"""Chromium settings and the steps a person takes in the chat widget, shared by the browser tests."""

from __future__ import annotations

import os

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
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def wait_online(page, timeout: float = 30_000) -> None:
    page.get_by_role("status").filter(has_text="Online").wait_for(timeout=timeout)


def say(page, text: str) -> None:
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    page.locator(".msg--user", has_text=text).last.wait_for()


def bot_says(page, text: str, timeout: float = 20_000):
    found = page.locator(".msg--bot", has_text=text).last
    found.wait_for(timeout=timeout)
    return found


def open_chat(browser, site_url: str, **context):
    """A new page (in its own context) on the site, once the widget says it is online."""
    page = browser.new_context(**context).new_page()
    page.goto(f"{site_url}/")
    wait_online(page)
    return page
