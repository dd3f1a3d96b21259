"""Rasa served by two processes (RASA_WORKERS=2): both answer, and a conversation is still one message at a time."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.chat_client import ChatClient, fetch_token
from tests.conftest import launch_stack

pytestmark = pytest.mark.integration

# each gets exactly one reply from the demo bot (bench/bench_load.py uses the same)
MESSAGES = ["hello", "what payment methods do you accept", "how long does delivery take", "I want a refund"]


@pytest.fixture(scope="module")
def two_workers(demo_bot, tmp_path_factory):
    with launch_stack(demo_bot, tmp_path_factory.mktemp("two-workers"), RASA_WORKERS="2") as running:
        yield running


def turns(tracker_db, conversation: str) -> list[tuple[str, str | None]]:
    """The conversation's user and bot events, in the order they were stored."""
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT type_name, json_extract(data, '$.text') FROM events "
            "WHERE sender_id = ? AND type_name IN ('user', 'bot') ORDER BY id",
            (conversation,),
        ).fetchall()
    return [(kind, text) for kind, text in rows]


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_each_worker_loads_the_model(two_workers):
    """The launcher's ready means both processes loaded the model; each then tunes its collector."""
    log_path = two_workers.stack["Rasa server"].log_path
    assert log_path.read_text(errors="replace").count("Rasa server is up and running.") == 2

    def tuned() -> int:  # the channel's after_server_start listener, once per process
        return len(
            re.findall(r"garbage collector tuned for serving, model loaded", log_path.read_text("utf-8", "replace"))
        )

    wait_for(lambda: tuned() >= 2)
    assert tuned() == 2


def test_many_conversations_at_once_each_answered(two_workers):
    def conversation(_: int) -> tuple[str, list[str]]:
        chat = ChatClient(two_workers.rasa_url, two_workers.site_url)
        token = fetch_token(two_workers.site_url)
        try:
            chat.connect(token.token, token.session_id)
            return token.session_id, [chat.ask(text)["text"] for text in MESSAGES]
        finally:
            chat.close()

    with ThreadPoolExecutor(12) as pool:
        done = list(pool.map(conversation, range(12)))
    for session_id, replies in done:
        assert all(replies)
        stored = turns(two_workers.tracker_db, session_id)
        # every message and its one reply stored, in order: nothing lost or interleaved
        assert [text for kind, text in stored if kind == "user"] == MESSAGES
        assert [kind for kind, _ in stored] == ["user", "bot"] * len(MESSAGES)
        assert [text for kind, text in stored if kind == "bot"] == replies


def test_tabs_of_one_conversation_on_both_workers_take_turns(two_workers):
    """Four tabs of one visitor send at the same moment; the tabs' sockets land on either process.

    The lock store makes the processes take turns: each message is answered
    after the previous one is stored. Without it two processes would read the
    same tracker and the later save would drop part of the other's turn.
    """
    http = requests.Session()
    token = fetch_token(two_workers.site_url, http)
    tabs = [ChatClient(two_workers.rasa_url, two_workers.site_url) for _ in MESSAGES]
    try:
        for tab in tabs:
            tab.connect(token.token, token.session_id)
        start = threading.Barrier(len(tabs))

        def send(pair: tuple[ChatClient, str]) -> dict:
            tab, text = pair
            start.wait()
            return tab.ask(text)

        with ThreadPoolExecutor(len(tabs)) as pool:
            list(pool.map(send, zip(tabs, MESSAGES, strict=True)))
        # a tab also hears the replies to its sibling tabs on the same process, so its ask() can
        # return before its own message is answered: wait for the tracker to hold every turn
        wait_for(lambda: len(turns(two_workers.tracker_db, token.session_id)) >= 2 * len(MESSAGES))
    finally:
        for tab in tabs:
            tab.close()
    stored = turns(two_workers.tracker_db, token.session_id)
    assert sorted(text for kind, text in stored if kind == "user") == sorted(MESSAGES)
    assert [kind for kind, _ in stored] == ["user", "bot"] * len(MESSAGES)  # one turn after another


def test_the_lock_file_is_empty_when_all_is_answered(two_workers):
    with sqlite3.connect(two_workers.tracker_db.with_name("locks.sqlite3")) as db:
        assert db.execute("SELECT count(*) FROM tickets").fetchone() == (0,)
