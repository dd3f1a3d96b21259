"""The review inbox in headless Chromium against the real stack: a conversation the bot misunderstood is imported,
found in the admin's inbox by its fallback, corrected and marked reviewed by a staff member in the browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chat_client import ChatClient, fetch_token
from tests.review_stack import manage, staff_user

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_reviewer_corrects_a_misunderstood_message(running_stack, browser, artifacts_dir: Path):
    token = fetch_token(running_stack.site_url)
    client = ChatClient(running_stack.rasa_url, origin=running_stack.site_url)
    try:
        client.connect(token.token, token.session_id)
        client.ask("hello")
        client.ask("zxq blorp wibble")  # nothing the bot knows: a fallback
    finally:
        client.close()
    manage(running_stack, "review_import", "--conversation", token.session_id)
    username, password = staff_user(running_stack)

    page = browser.new_page()
    try:
        page.goto(f"{running_stack.site_url}/admin/login/?next=/admin/review/reviewconversation/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/review/reviewconversation/")
        page.click("text=Fallback or clarification")
        page.click(f"a:text-is('{token.session_id}')")
        message = page.locator("#message-1")
        message.locator(".predicted").wait_for()
        assert "fallback / clarification" in message.locator(".predicted").inner_text()
        message.locator("input[name$='-intent']").fill("Not A Safe Name")
        message.locator("button:text('Save correction')").click()
        assert "is not safe" in page.locator(".messagelist").inner_text()
        page.locator("#message-1 input[name$='-intent']").fill("complaint")
        page.locator("#message-1 button:text('Save correction')").click()
        assert "Message 2: saved." in page.locator(".messagelist").inner_text()
        assert f"{username}: complaint" in page.locator("#message-1 .corrections").inner_text()
        page.locator("input[name=tags]").fill("gibberish")
        page.click("button:text('Save tags')")
        page.click("button:text('Mark reviewed')")
        assert "Marked reviewed." in page.locator(".messagelist").inner_text()
        page.screenshot(path=str(artifacts_dir / "review-conversation.png"), full_page=True)
    finally:
        page.close()
    check = (
        "from review.models import Correction as C, ReviewConversation as R;"
        f"r = R.objects.get(chat_id={token.session_id!r});"
        "print(r.reviewed, [t.name for t in r.tags.all()],"
        " [c.intent for c in C.objects.filter(message__conversation=r)])"
    )
    assert (
        manage(running_stack, "shell", "-c", check).stdout.strip().splitlines()[-1]
        == "True ['gibberish'] ['complaint']"
    )
    # the shared stack's inbox as it was (the review loop's test exports every correction)
    drop = f"from review.models import ReviewConversation as R; R.objects.filter(chat_id={token.session_id!r}).delete()"
    manage(running_stack, "shell", "-c", drop)
