"""A study in headless Chromium against real servers: two Rasa bots (with their HTTP API) and the scripted FAQ bot.

Four participants: one fails the quiz (and cannot retry from a new tab), two pass and have two conversations each
with the bots they are assigned (never the same one twice), label every reply, reload mid-chat and continue, answer
the questionnaires and get the completion code; the quotas (demo 2, logreg 1, faq 1) are then full, and the fourth
is told so. The exports hold exactly what was
entered, with Rasa's intents and actions read from its tracker and the message transforms' before and after; no
page shows a bot's name.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest

from launcher import paths
from launcher.build import rasa_env
from tests.e2e.widget_page import PHONE, say, wait_online
from tests.stacks import several_bots_stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

STUDY_YAML = """\
slug: e2e
title: Which assistant helps best?
blind: true
assignment: balanced
bots:
  - {bot: demo, quota: 2}
  - {bot: logreg, quota: 1}
  - {bot: faq, quota: 1}
scenarios:
  - id: status
    text: Ask for the status of your order 12345.
    success: {action: action_check_order_status}
limits: {min_turns: 1, max_turns: 4, max_conversations: 2, idle_timeout_minutes: 30}
consent:
  version: e2e-1
  text: We store your messages and answers for research.
  checkboxes: [I am 18 or older, I agree to take part]
instructions: Chat as a customer would, label each reply, then end the chat.
quiz:
  pass_mark: 1
  questions:
    - text: Who do you pretend to be?
      options: [A customer, A shop employee]
      answer: A customer
annotation:
  required: true
  labels: [all good, wrong answer, did not understand me]
questionnaire:
  - id: helpful
    type: likert
    text: How helpful was the assistant?
    scale: 5
    labels: [Not helpful at all, Very helpful]
  - id: solved
    type: choice
    text: Was your problem solved?
    options: ["Yes", "No"]
  - id: comments
    type: text
    text: Anything else?
    required: false
transforms:
  user: [lowercase]
  bot: [sentences, lowercase]
completion:
  code: E2E-CODE-7
  url: https://example.org/complete?cc=E2E-CODE-7
"""
#: Names participants must never see in a blind study.
BOT_NAMES = ("Customer service", "FAQ baseline", "logistic regression", "demo", "logreg", "faq")


@dataclass
class StudyStack:
    site_url: str
    env: dict[str, str]
    state: Path

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [paths.tool("python"), "manage.py", *args],
            cwd=paths.DJANGO_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="module")
def study_stack(demo_bot: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudyStack]:
    """``make run-bots``'s stack of its own (the demo bot's HTTP API on, with a token) with a study loaded."""
    state = tmp_path_factory.mktemp("study")
    extra = {"STUDIES_ID_KEY": secrets.token_urlsafe(32)}
    with several_bots_stack(demo_bot, state, extra_env=extra, rasa_api=True) as bots:
        manage_env = {**rasa_env(bots.env), "DJANGO_SETTINGS_MODULE": "config.settings.production"}
        running = StudyStack(site_url=bots.site_url, env=manage_env, state=state)
        study_file = state / "study.yml"
        study_file.write_text(STUDY_YAML, encoding="utf-8")
        loaded = running.manage("load_study", str(study_file))
        assert "created: study 'e2e' with bots demo (2), logreg (1), faq (1)" in loaded
        yield running


class Participant:
    """One person in their own browser context; every page they see is kept to check for bot names."""

    def __init__(self, browser, site_url: str, pid: str, keyboard: bool = False, **context) -> None:
        self.keyboard = keyboard
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.page.on("request", lambda r: self.outside.append(r.url) if "127.0.0.1" not in r.url else None)
        self.seen: list[str] = []
        # what the site's JSON endpoints told the page (the widget's settings, its tokens), decoded tokens included
        self.answers: list[str] = []
        self.page.on("response", self._keep_json)
        self.site_url = site_url
        self.pid = pid

    def press(self, button, navigates: bool = True) -> None:
        """A button, by keyboard (focus, Enter) for a keyboard-only participant; waits for the next page."""
        if not self.keyboard:
            button.click()
        elif navigates:
            button.focus()
            with self.page.expect_navigation():
                self.page.keyboard.press("Enter")
        else:
            button.focus()
            self.page.keyboard.press("Enter")

    def tick(self, box) -> None:
        """A checkbox or radio, by keyboard (focus, Space) for a keyboard-only participant."""
        if self.keyboard:
            box.focus()
            self.page.keyboard.press("Space")
            assert box.is_checked()
        else:
            box.check()

    def keep(self) -> None:
        self.page.wait_for_load_state()
        self.seen.append(self.page.content())

    def arrive(self) -> None:
        self.page.goto(f"{self.site_url}/study/e2e/?PROLIFIC_PID={self.pid}&STUDY_ID=s1&SESSION_ID=x")
        self.keep()

    def consent(self) -> None:
        # keyboard only: tab to each box, tick it with the space bar, then the button with Enter
        boxes = self.page.get_by_role("checkbox")
        for i in range(boxes.count()):
            boxes.nth(i).focus()
            self.page.keyboard.press("Space")
        self.page.get_by_role("button", name="I agree, continue").focus()
        self.page.keyboard.press("Enter")
        self.page.get_by_role("heading", name="A short quiz").wait_for()
        self.keep()

    def quiz(self, answer: str) -> None:
        self.tick(self.page.get_by_role("radio", name=answer))
        self.press(self.page.get_by_role("button", name="Submit answers"))
        self.keep()

    def chat(self, text: str, screenshot: Path, start: str) -> None:
        page = self.page
        self.press(page.get_by_role("button", name=start))
        page.get_by_role("heading", name="Your task").wait_for()
        wait_online(page)
        self.keep()
        say(page, text)
        page.locator(".msg--bot").first.wait_for(timeout=30_000)
        page.locator(".chat__typing").wait_for(state="hidden", timeout=30_000)
        page.locator(".study__annotate").wait_for()
        # the next message waits for the reply's labels
        say_blocked = page.get_by_label("Your message")
        say_blocked.fill("one more")
        say_blocked.press("Enter")
        page.locator(".study__turns", has_text="Please label").wait_for()
        assert page.locator(".msg--user").count() == 1
        page.screenshot(path=str(screenshot), full_page=True)
        self.label_all()
        # a reload mid-chat continues the same conversation: its history, and what is still to be labelled
        page.reload()
        wait_online(page)
        assert page.locator(".msg--user", has_text=text).count() == 1
        assert "Messages sent: 1" in page.locator(".study__turns").inner_text()
        self.keep()
        self.press(page.get_by_role("button", name="End the chat"))
        page.get_by_role("heading", name="About your chat with").wait_for()
        self.keep()

    def _keep_json(self, response) -> None:
        if not response.url.endswith(("/widget.json", "/token")) or response.status != 200:
            return
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - not JSON: nothing to keep
            return
        self.answers.append(json.dumps(body))
        if isinstance(body.get("token"), str):
            self.answers.append(json.dumps(jwt.decode(body["token"], options={"verify_signature": False})))

    def label_all(self) -> None:
        panel = self.page.locator(".study__annotate")
        while True:
            try:
                panel.wait_for(state="visible", timeout=3_000)
            except Exception:  # noqa: BLE001 - no reply left to label
                return
            self.tick(panel.get_by_role("checkbox", name="all good"))
            before = panel.locator(".study__quoted").inner_text()
            self.press(panel.get_by_role("button", name="Save labels"), navigates=False)
            self.page.wait_for_function(
                "([b]) => { const p = document.querySelector('.study__annotate');"
                " return p.hidden || p.querySelector('.study__quoted').textContent !== b; }",
                arg=[before],
            )

    def questionnaire(self, helpful: str, solved: str, comments: str, then: str) -> None:
        page = self.page
        self.tick(page.get_by_role("radio", name=helpful, exact=False).first)
        self.tick(page.get_by_role("radio", name=solved, exact=True))
        page.get_by_label("Anything else?").fill(comments)
        self.press(page.get_by_role("button", name="Submit"))
        page.get_by_role("heading", name=then).wait_for()
        self.keep()


def test_three_participants_and_the_exports(study_stack, browser, artifacts_dir):
    site = study_stack.site_url

    # 1: fails the quiz, politely; a new tab (or coming back) cannot retry
    failing = Participant(browser, site, "FAIL-1", viewport={"width": 1280, "height": 900})
    failing.arrive()
    failing.consent()
    failing.quiz("A shop employee")
    assert "not the right fit" in failing.page.content()
    retry = failing.context.new_page()
    retry.goto(f"{site}/study/e2e/quiz")
    assert "not the right fit" in retry.content() and "Submit answers" not in retry.content()
    failing.context.close()

    # 2 and 3: pass, have two conversations each (a bot they had is never given again while another has places):
    # chat, label, reload, end, answer; then the code (3 on a phone, keyboard only)
    entered = []
    for pid, context, answers in (
        ("PASS-2", {"viewport": {"width": 1280, "height": 900}}, [("4", "Yes", "quick and clear"), ("5", "Yes", "")]),
        ("PASS-3", PHONE, [("2", "No", ""), ("3", "No", "it did not know")]),
    ):
        person = Participant(browser, site, pid, keyboard=pid == "PASS-3", **context)  # 3: keyboard only
        person.arrive()
        person.consent()
        person.quiz("A customer")
        person.page.get_by_role("heading", name="Instructions").wait_for()
        person.press(person.page.get_by_role("button", name="Start"))
        for number, (helpful, solved, comments) in enumerate(answers):
            start = "Start the conversation" if number == 0 else "Start another conversation"
            person.chat("What is the STATUS of order 12345", artifacts_dir / f"study-chat-{pid}.png", start)
            if pid == "PASS-3":
                width = person.page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, "the questionnaire is wider than the phone"
            person.page.screenshot(path=str(artifacts_dir / f"study-questionnaire-{pid}.png"), full_page=True)
            last = number == len(answers) - 1
            person.questionnaire(
                helpful, solved, comments, "Thank you for taking part!" if last else "Thank you for that conversation"
            )
            entered.append((helpful, solved, comments))
        assert "E2E-CODE-7" in person.page.content()
        person.page.screenshot(path=str(artifacts_dir / f"study-done-{pid}.png"))
        assert any('"aud": "x-' in a for a in person.answers), "no token was seen"
        for html in person.seen + person.answers:
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)  # random letters
            for name in BOT_NAMES:
                assert not re.search(rf"\b{name}\b", text), f"{name!r} shown to a participant"
        assert person.outside == [], f"the page loaded something from outside: {person.outside}"
        person.context.close()

    # the quotas (demo 2, logreg 1, faq 1) are full: the next participant is told so
    late = Participant(browser, site, "LATE-4", viewport={"width": 1280, "height": 900})
    late.arrive()
    late.consent()
    late.quiz("A customer")
    late.page.get_by_role("button", name="Start").click()
    assert "all the conversations it needs" in late.page.content()
    late.context.close()

    # the exports hold exactly what was entered
    out = study_stack.state / "exports"
    out.mkdir()
    study_stack.manage("export_study", "e2e", "--out", str(out))
    conversations = list(csv.DictReader(io.StringIO((out / "e2e.conversations.csv").read_text())))
    assert sorted(r["bot"] for r in conversations) == ["demo", "demo", "faq", "logreg"]
    assert sorted((r["q_helpful"], r["q_solved"], r["q_comments"]) for r in conversations) == sorted(entered)
    by_participant = {}
    for r in conversations:
        by_participant.setdefault(r["participant"], []).append(r["bot"])
    assert all(len(set(bots)) == 2 for bots in by_participant.values())  # never the same bot twice
    assert all(r["consent_version"] == "e2e-1" and r["quiz_score"] == "1" for r in conversations)
    for r in conversations:
        if r["bot"] == "faq":
            assert r["success"] == ""  # scripted: no tracker
        else:
            assert r["tracker_error"] == "" and r["success"] in ("true", "false")
    assert all(r["success"] == "true" for r in conversations if r["bot"] == "demo")
    messages = list(csv.DictReader(io.StringIO((out / "e2e.messages.csv").read_text())))
    assert messages and all(m["labels"] == "all good" for m in messages)
    # the transforms: the bot got the message lower-cased, the participant saw its replies lower-cased
    assert all(m["user_text"] == "what is the status of order 12345" for m in messages)
    assert all(m["user_text_before_transforms"] == "What is the STATUS of order 12345" for m in messages)
    assert all(m["text"] == m["text"].lower() for m in messages)
    # every reply the page recorded is the one Rasa's tracker holds (the split pieces of one reply counted as one)
    assert all(m["tracker_text"] == "" for m in messages)
    demo_rows = [m for m in messages if m["bot"] == "demo"]
    assert demo_rows and demo_rows[0]["user_intent"] and "action_check_order_status" in demo_rows[0]["actions"]
    assert any("lisbon" in m["text"] and "Lisbon" in m["text_before_transforms"] for m in demo_rows)
    records = [json.loads(line) for line in (out / "e2e.conversations.jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["messages"][0]["sender"] == "user" for r in records)
    assert all(m["intent"] for r in records if r["bot"] == "logreg" for m in r["messages"] if m["sender"] == "user")
    everything = "".join(p.read_text() for p in out.iterdir())
    for pid in ("FAIL-1", "PASS-2", "PASS-3", "LATE-4"):
        assert pid not in everything

    # deleting one participant's data on request: gone from the next export
    assert "deleted 1" in study_stack.manage("delete_participant", "PASS-2", "--study", "e2e")
    study_stack.manage("export_study", "e2e", "--out", str(out))
    assert len((out / "e2e.conversations.jsonl").read_text().splitlines()) == 2
