"""Several bots in one browser (``make run-bots``'s stack): widgets side by side, the embed snippet, one bot down.

Headless Chromium against the real servers: demo (Rasa, default pipeline),
logreg (Rasa, logistic regression), faq (the scripted-bot server).
"""

from __future__ import annotations

import pytest

from tests.e2e.widget_page import PHONE, bot_says, say, wait_online

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def widget(page, bot: str):
    """One bot's widget on the page: the helpers of widget_page work inside it."""
    return page.locator(f'.chat[data-bot="{bot}"]')


def keep_local(page) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if "127.0.0.1" not in req.url else None)
    return outside


def test_two_bots_on_one_page_answer_independently(several_bots, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    outside = keep_local(page)
    page.goto(f"{several_bots.site_url}/bots/?bot=demo&bot=faq&bot=logreg")
    demo, faq, logreg = widget(page, "demo"), widget(page, "faq"), widget(page, "logreg")
    for chat in (demo, faq, logreg):
        wait_online(chat)
    assert page.locator(".chat").count() == 3 and page.locator("[id]").count() == 0  # no fixed ids

    say(demo, "what is the status of order 12345")
    say(faq, "how long does a refund take")
    bot_says(demo, "Lisbon")
    bot_says(faq, "Refunds reach your account")
    say(logreg, "hello")
    bot_says(logreg, "help")
    # each answer landed in its own widget only
    assert faq.locator(".msg--bot", has_text="Lisbon").count() == 0
    assert demo.locator(".msg--bot", has_text="Refunds reach").count() == 0
    assert logreg.locator(".msg").count() == 2
    page.screenshot(path=str(artifacts_dir / "several-bots-desktop.png"))

    # history is kept per bot and conversation: three keys, each restored into its own widget
    keys = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('chat:v2:')).sort()")
    assert [k.split(":")[2] for k in keys] == ["demo", "faq", "logreg"]
    page.reload()
    for chat in (demo, faq, logreg):
        wait_online(chat)
    assert demo.locator(".msg--bot", has_text="Lisbon").count() == 1
    assert faq.locator(".msg--bot", has_text="Refunds reach").count() == 1

    # a new conversation with one bot leaves the others' as they were
    faq.get_by_role("button", name="Start a new conversation").click()
    faq.locator(".msg").first.wait_for(state="detached")
    wait_online(faq)
    assert demo.locator(".msg--bot", has_text="Lisbon").count() == 1
    after = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('chat:v2:')).sort()")
    assert len(after) == 3 and after[0] == keys[0] and after[1] != keys[1] and after[2] == keys[2]
    assert outside == [], f"the page loaded something from outside: {outside}"
    context.close()


def test_the_embed_snippet_on_a_plain_page(several_bots, browser, artifacts_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    outside = keep_local(page)
    page.goto(f"{several_bots.site_url}/bots/demo/embed")
    assert page.locator(".chat").count() == 0  # the page has no chat of its own
    launcher = page.get_by_role("button", name="Chat: Customer service")
    launcher.wait_for()
    assert launcher.get_attribute("aria-expanded") == "false"

    # keyboard only: focus the button, open with Enter; the focus moves into the chat
    launcher.focus()
    page.keyboard.press("Enter")
    chat = widget(page, "demo")
    wait_online(chat)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.className") == "chat__input"
    page.keyboard.type("what is the status of order 12345")
    page.keyboard.press("Enter")
    bot_says(chat, "Lisbon")
    page.screenshot(path=str(artifacts_dir / "embed-desktop.png"))

    # a reload brings the chat back open, the conversation and its history with it
    page.reload()
    wait_online(chat)
    assert chat.locator(".msg--bot", has_text="Lisbon").count() == 1
    say(chat, "hello")
    bot_says(chat, "help")

    # Escape closes it and gives the focus back to the button
    chat.get_by_label("Your message").focus()
    page.keyboard.press("Escape")
    chat.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('chat-launcher')")
    assert launcher.get_attribute("aria-expanded") == "false"
    page.reload()
    launcher.wait_for()
    assert chat.is_hidden()  # closed stays closed
    assert outside == [], f"the page loaded something from outside: {outside}"
    context.close()


def test_the_embedded_chat_fills_a_phone_screen(several_bots, browser, artifacts_dir):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{several_bots.site_url}/bots/faq/embed")
    page.get_by_role("button", name="Chat: FAQ baseline").click()
    chat = widget(page, "faq")
    wait_online(chat)
    say(chat, "where is my order")
    bot_says(chat, "track your order")
    box = chat.bounding_box()
    assert box["width"] == pytest.approx(390, abs=1) and box["height"] == pytest.approx(844, abs=1)
    send = chat.get_by_role("button", name="Send").bounding_box()
    assert send["x"] + send["width"] <= 390 and send["y"] + send["height"] <= 844
    page.screenshot(path=str(artifacts_dir / "embed-phone.png"))
    context.close()


def test_a_bot_whose_server_is_down_is_offline_alone(several_bots, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{several_bots.site_url}/bots/?bot=demo&bot=faq")
    demo, faq = widget(page, "demo"), widget(page, "faq")
    wait_online(demo)
    wait_online(faq)
    server = several_bots.server("faq")
    server.stop()
    try:
        faq.locator(".chat__banner", has_text="Reconnecting").wait_for(timeout=20_000)
        assert faq.get_by_role("status").inner_text() == "Offline"
        assert faq.get_by_label("Your message").is_disabled()
        # the other bot is not affected
        assert demo.locator(".chat__banner").is_hidden()
        assert demo.get_by_role("status").inner_text() == "Online"
        say(demo, "what is the status of order 12345")
        bot_says(demo, "Lisbon")
    finally:
        server.start()
        server.wait_ready(60)
    wait_online(faq, timeout=60_000)  # and the widget comes back by itself
    say(faq, "how do I pay")
    bot_says(faq, "We accept cards")
    context.close()
