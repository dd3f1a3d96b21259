"""The review inbox in headless Chromium against the real stack: a conversation the bot misunderstood is imported,
found in the admin's inbox by its fallback, corrected and marked reviewed by a staff member in the browser; the
correction is exported beside the corpus, the bot retrained, and the message is then classified as the reviewer
said, and the conversation's saved test story passes ``rasa test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher import paths
from launcher.build import convert, copy_bot_sources, train
from launcher.nlu_eval import evaluate_nlu
from tests.chat_client import ChatClient, fetch_token
from tests.review_stack import manage, staff_user, story_report

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_reviewer_corrects_a_misunderstood_message(running_stack, browser, artifacts_dir: Path, tmp_path: Path):
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

    # exported, retrained: the message is now what the reviewer said; the saved story passes
    bot_dir = copy_bot_sources(tmp_path / "bot")
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    manage(running_stack, "review_export", "--bot-dir", str(bot_dir))
    model = train(bot_dir)
    probe = tmp_path / "probe.yml"
    probe.write_text(  # two intents: rasa test nlu writes no report for one
        'version: "3.1"\nnlu:\n- intent: complaint\n  examples: |\n    - zxq blorp wibble\n'
        "- intent: greet\n  examples: |\n    - hello\n"
    )
    assert evaluate_nlu(model, bot_dir, probe, tmp_path / "probe").accuracy == 1.0
    report, failed = story_report(running_stack, bot_dir, model, tmp_path / "stories", token.session_id)
    assert report["accuracy"] == 1.0, failed

    # the shared stack's inbox as it was (the review loop's test exports every correction)
    drop = f"from review.models import ReviewConversation as R; R.objects.filter(chat_id={token.session_id!r}).delete()"
    manage(running_stack, "shell", "-c", drop)
