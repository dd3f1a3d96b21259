"""Custom-action and form turns give the same replies and events with the project's action calls as with Rasa's.

Two real stacks, the same trained model: the shared one (the channel's defaults:
responses checked by a prebuilt validator, one kept-alive HTTP session to the
action server) and one whose credentials turn both off (Rasa 3.6's own calls).
The same conversation goes through both; every reply (text and buttons) and
every event Rasa stored must be the same (channels/action_calls.py, issue 13).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.chat_client import ChatClient, fetch_token
from tests.conftest import RunningStack, launch_stack

pytestmark = pytest.mark.integration

#: Greeting, the cancel form (start, a shipped order refused by its validation, an open one, "no"),
#: the address form (start, an order, an address refused, "stop"), custom actions reading the database.
#: Two conversations: the channel allows a burst of 10 messages on one connection.
CONVERSATIONS = [
    ["hello", "I want to cancel my order", "12345", "48213", "no", "what is the status of order 55120"],
    [
        "I want to change my delivery address",
        "80002",
        "somewhere",
        "stop",
        "where is my refund for order 55120",
        "I need an invoice",
        "00108",
    ],
]
CHANNEL = "rasa_bot.channels.secure_socketio.SecureSocketIOInput"
#: What differs between two runs of the same conversation: when, the ids Rasa draws, and which server
#: process loaded the model (Rasa stamps each user event with the loaded model's id).
VOLATILE = {"timestamp", "message_id", "model_id"}


@pytest.fixture(scope="module")
def rasa_calls_stack(demo_bot, tmp_path_factory) -> RunningStack:
    """The stack with Rasa's own calls to the action server (both options off), same model."""
    bot_dir, model = demo_bot
    copy = Path(shutil.copytree(bot_dir, tmp_path_factory.mktemp("rasa-calls") / "bot"))
    credentials = yaml.safe_load((copy / "credentials.yml").read_text())
    credentials[CHANNEL].update(fast_action_response_check=False, keep_action_connections=False)
    (copy / "credentials.yml").write_text(yaml.safe_dump(credentials))
    with launch_stack((copy, model), tmp_path_factory.mktemp("rasa-calls-state")) as running:
        yield running


def converse(stack: RunningStack, conversation: list[str]) -> tuple[str, list[list[dict]]]:
    """Run ``conversation``; its id and every turn's replies as the client got them."""
    token = fetch_token(stack.site_url)
    chat = ChatClient(stack.rasa_url, stack.site_url)
    chat.connect(token.token, token.session_id)
    turns = []
    try:
        for text in conversation:
            chat.sio.emit("user_uttered", {"message": text, "session_id": token.session_id})
            chat.done.get(timeout=30)  # bot_done: after every reply of the turn and the tracker saved
            replies = []
            while not chat.replies.empty():
                replies.append(chat.replies.get_nowait())  # the whole message: text, buttons, ...
            turns.append(replies)
    finally:
        chat.close()
    return token.session_id, turns


def without_volatile(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def stored_events(stack: RunningStack, conversation: str) -> list[dict]:
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation,)).fetchall()
    return [without_volatile(json.loads(data)) for (data,) in rows]


def test_custom_action_and_form_turns_are_the_same_with_rasas_action_calls(running_stack, rasa_calls_stack):
    ours, rasas, ours_events, rasas_events = [], [], [], []
    for conversation in CONVERSATIONS:
        ours_id, ours_turns = converse(running_stack, conversation)
        rasas_id, rasas_turns = converse(rasa_calls_stack, conversation)
        ours += ours_turns
        rasas += rasas_turns
        ours_events += stored_events(running_stack, ours_id)
        rasas_events += stored_events(rasa_calls_stack, rasas_id)
    assert ours == rasas
    assert all(len(turn) >= 1 for turn in ours)  # every message answered
    said = [r.get("text", "") for turn in ours for r in turn]
    # the turns really ran custom actions and both forms, against the action server's database
    assert "Do you really want to cancel order 48213?" in said
    assert any("12345 is already shipped" in t for t in said)
    assert any("won't cancel order 48213" in t for t in said)
    assert any("new delivery address for order 80002" in t for t in said)
    assert any("55120" in t and "delivered" in t for t in said)
    assert any("refund of 49.90" in t for t in said)
    assert any("Invoice #00108" in t for t in said)
    assert len(ours_events) > 4 * sum(map(len, CONVERSATIONS))
    assert ours_events == rasas_events
    actions = {e.get("name") for e in ours_events if e.get("event") == "action"}
    assert {"action_cancel_order_start", "cancel_order_form", "action_cancel_order"} <= actions
    assert {"action_change_address_start", "change_address_form", "action_check_order_status"} <= actions
    assert {"action_track_refund", "action_get_invoice", "action_inform_number"} <= actions


def test_the_stacks_run_the_calls_they_are_configured_with(running_stack, rasa_calls_stack):
    ours = running_stack.log("Rasa server")
    rasas = rasa_calls_stack.log("Rasa server")
    assert "responses checked by a prebuilt validator" in ours
    assert "share one kept-alive HTTP session" in ours
    assert "prebuilt validator" not in rasas and "kept-alive" not in rasas
