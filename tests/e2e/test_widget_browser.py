"""A person's view: headless Chromium uses the widget as a customer would.

Types, clicks the bot's buttons, reloads (history and conversation kept), sees
the widget reconnect by itself after Rasa restarts, starts a new chat, and
saves desktop and phone screenshots under test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.e2e.widget_page import PHONE, bot_says, say, wait_online

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_customer_conversation_in_the_widget(private_stack, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if "127.0.0.1" not in req.url else None)
    page.goto(f"{private_stack.site_url}/")
    wait_online(page)

    say(page, "what is the status of order 12345")
    bot_says(page, "Lisbon")

    # A form with buttons: cancel an order, confirm by clicking.
    say(page, "I want to cancel my order")
    bot_says(page, "Which order")
    say(page, "80002")
    question = bot_says(page, "cancel order 80002")
    question.get_by_role("button", name="Yes, cancel it").click()
    page.locator(".msg--user", has_text="Yes, cancel it").wait_for()
    bot_says(page, "order 80002 is cancelled")
    assert question.get_by_role("button", name="No, keep it").is_disabled()  # a choice is made once
    assert page.locator(".msg__time").count() >= 8  # every message carries its time
    page.screenshot(path=str(artifacts_dir / "widget-desktop.png"))

    # A reload continues the same conversation, history included.
    page.reload()
    wait_online(page)
    assert page.locator(".msg--bot", has_text="order 80002 is cancelled").count() == 1
    say(page, "hello")
    bot_says(page, "help")  # the greeting answers; same conversation, server-side too

    # Rasa restarts: the widget shows it is reconnecting, then comes back by itself.
    rasa = private_stack.stack["Rasa server"]
    rasa.stop()
    page.locator(".chat__banner", has_text="Reconnecting").wait_for(timeout=20_000)
    assert page.get_by_label("Your message").is_disabled()
    rasa.start()
    rasa.wait_ready(180)
    wait_online(page, timeout=90_000)
    say(page, "what is the status of order 55120")
    bot_says(page, "delivered")

    # New chat: an empty log and a new conversation.
    page.get_by_role("button", name="Start a new conversation").click()
    page.locator(".msg").first.wait_for(state="detached")
    wait_online(page)
    say(page, "hello")
    bot_says(page, "help")
    assert page.locator(".msg--bot", has_text="80002").count() == 0
    assert outside == [], f"the page loaded something from outside: {outside}"
    context.close()


def test_phone_sized_screen(running_stack, browser, artifacts_dir):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{running_stack.site_url}/")
    wait_online(page)
    say(page, "what is the status of order 12345")
    bot_says(page, "Lisbon")
    chat_box = page.locator(".chat").bounding_box()
    assert chat_box["width"] == pytest.approx(390, abs=1)  # the widget fills the phone's screen
    send_box = page.get_by_role("button", name="Send").bounding_box()
    assert send_box["x"] + send_box["width"] <= 390 and send_box["y"] + send_box["height"] <= 844
    page.screenshot(path=str(artifacts_dir / "widget-phone.png"))
    context.close()


def test_keyboard_only_use(running_stack, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{running_stack.site_url}/")
    wait_online(page)
    assert page.evaluate("document.activeElement.className") == "chat__input"  # focus lands in the message box
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    bot_says(page, "help")
    page.keyboard.press("Shift+Tab")  # back to the log, which is focusable and labelled for screen readers
    assert page.evaluate("document.activeElement.getAttribute('role')") == "log"
    assert page.get_by_role("log", name="Conversation").count() == 1
    context.close()
