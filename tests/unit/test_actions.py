"""The custom action and its service, against a real SQLite database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_bot.actions import services
from rasa_bot.actions.actions import SORRY_DB, ActionCheckOrderStatus


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'orders.sqlite3'}"
    monkeypatch.setenv("ACTIONS_DATABASE_URL", url)
    services.get_engine.cache_clear()
    yield url
    services.get_engine.cache_clear()


def tracker(text: str, entities: list[dict] | None = None, slots: dict | None = None) -> Tracker:
    """A tracker as the action server builds it from Rasa's request JSON."""
    return Tracker.from_dict(
        {
            "sender_id": "test",
            "slots": slots or {},
            "latest_message": {"text": text, "intent": {"name": "check_order_status"}, "entities": entities or []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = ActionCheckOrderStatus().run(dispatcher, t, {})
    return dispatcher.messages, events


def test_schema_and_demo_data_are_created_on_first_use(db):
    order = services.order_get("12345")
    assert order is not None and order.status == "shipped" and order.delivery_city == "Lisbon"
    assert services.order_get("nope") is None


def test_status_from_the_entity(db):
    messages, events = run(tracker("status of 48213", [{"entity": "order_id", "value": "48213"}]))
    assert "48213" in messages[0]["text"] and "processing" in messages[0]["text"]
    assert events == [{"event": "slot", "timestamp": None, "name": "order_id", "value": "48213"}]


def test_status_from_the_slot_when_no_entity(db):
    messages, _ = run(tracker("and its status?", slots={"order_id": "55120"}))
    assert "delivered" in messages[0]["text"]


def test_asks_for_the_number_when_none_given(db):
    messages, events = run(tracker("where is my order"))
    assert "order number" in messages[0]["text"] and events == []


def test_unknown_order_clears_the_slot(db):
    messages, events = run(tracker("status of 11111", [{"entity": "order_id", "value": "11111"}]))
    assert "couldn't find" in messages[0]["text"]
    assert events[0]["name"] == "order_id" and events[0]["value"] is None


def test_database_error_gives_a_polite_message(db, monkeypatch):
    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(services, "order_get", broken)
    messages, events = run(tracker("status of 12345", [{"entity": "order_id", "value": "12345"}]))
    assert messages[0]["text"] == SORRY_DB and events == []
