"""The tuned SQLite tracker store gives exactly the trackers stock Rasa's SQL store gives."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event

from rasa_bot.stores.sqlite_tracker_store import SQLiteTrackerStore

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, check_order_status]
entities: [order_id]
slots:
  order_id:
    type: text
    mappings: [{type: from_entity, entity: order_id}]
responses:
  utter_greet: [{text: "hi"}]
"""
)


def turn(tracker: DialogueStateTracker, text: str, intent: str, t: float) -> None:
    tracker.update(
        UserUttered(text, {"name": intent, "confidence": 0.9}, [{"entity": "order_id", "value": "123"}], timestamp=t)
    )
    tracker.update(SlotSet("order_id", "123", timestamp=t + 0.1))
    tracker.update(ActionExecuted("utter_greet", timestamp=t + 0.2))
    tracker.update(BotUttered("hi", {"buttons": None}, timestamp=t + 0.3))
    tracker.update(ActionExecuted("action_listen", timestamp=t + 0.4))


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def stores(tmp_path):
    path = str(tmp_path / "tracker.sqlite3")
    return SQLiteTrackerStore(domain=DOMAIN, db=path), SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=path), path


def test_same_tracker_as_stock(stores):
    ours, stock, _ = stores
    tracker = DialogueStateTracker.from_events("c1", [ActionExecuted("action_session_start", timestamp=1.0)])
    tracker.update(SessionStarted(timestamp=1.1))
    turn(tracker, "hello", "greet", 2.0)
    run(ours.save(tracker))
    tracker = run(ours.retrieve("c1"))  # as Rasa does for each message: retrieve, update, save
    turn(tracker, "status of 123", "check_order_status", 3.0)
    run(ours.save(tracker))
    a, b = run(ours.retrieve("c1")), run(stock.retrieve("c1"))
    assert list(a.events) == list(b.events) == list(tracker.events)
    assert a.current_state() == b.current_state()
    assert a.get_slot("order_id") == "123"


def test_sees_what_another_writer_added(stores):
    ours, stock, _ = stores
    tracker = DialogueStateTracker.from_events("c2", [])
    turn(tracker, "hello", "greet", 1.0)
    run(ours.save(tracker))
    assert len(run(ours.retrieve("c2")).events) == 5  # now cached
    other = run(stock.retrieve("c2"))
    turn(other, "again", "greet", 2.0)
    run(stock.save(other))  # another process writes
    assert list(run(ours.retrieve("c2")).events) == list(other.events)


def test_only_the_latest_session_is_loaded(stores):
    ours, stock, _ = stores
    tracker = DialogueStateTracker.from_events("c3", [])
    turn(tracker, "hello", "greet", 1.0)
    tracker.update(ActionExecuted("action_session_start", timestamp=5.0))
    tracker.update(SessionStarted(timestamp=5.1))
    turn(tracker, "back again", "greet", 6.0)
    run(ours.save(tracker))
    a, b = run(ours.retrieve("c3")), run(stock.retrieve("c3"))
    assert list(a.events) == list(b.events)
    assert isinstance(a.events[0], SessionStarted) and len(a.events) == 6
    assert len(list(run(ours.retrieve_full_tracker("c3")).events)) == len(tracker.events)


def test_wal_journal(stores):
    ours, _, path = stores
    run(ours.save(DialogueStateTracker.from_events("c4", [UserUttered("hi", timestamp=1.0)])))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rows_are_what_stock_rasa_writes(stores):
    """Same columns as stock's ORM insert, so stock Rasa (or `rasa export`) reads the database unchanged."""
    ours, stock, path = stores
    for store, sender in ((ours, "ours"), (stock, "stock")):
        tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_session_start", timestamp=1.0)])
        tracker.update(SessionStarted(timestamp=1.1))
        turn(tracker, "hello", "greet", 2.0)
        run(store.save(tracker))
    with sqlite3.connect(path) as db:
        rows = {
            sender: db.execute(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = ? "
                "ORDER BY id",
                (sender,),
            ).fetchall()
            for sender in ("ours", "stock")
        }
    assert len(rows["ours"]) == 7 and rows["ours"] == rows["stock"]
    assert rows["ours"][2][:4] == ("user", 2.0, "greet", None)


def test_an_active_conversation_is_read_once_and_kept_as_text(stores):
    ours, stock, _ = stores
    statements: list[str] = []
    sa_event.listen(ours.engine, "before_cursor_execute", lambda _c, _k, sql, *_: statements.append(sql))
    tracker = DialogueStateTracker.from_events("c5", [ActionExecuted("action_session_start", timestamp=1.0)])
    tracker.update(SessionStarted(timestamp=1.1))
    turn(tracker, "hello", "greet", 2.0)
    run(ours.save(tracker))
    for step in range(3):  # retrieve, update, save: as Rasa does for each message
        tracker = run(ours.retrieve("c5"))
        turn(tracker, f"status of {step}", "check_order_status", 3.0 + step)
        run(ours.save(tracker))
    reads = [sql for sql in statements if " data FROM " in sql]  # reads of the events themselves
    assert len(reads) == 1  # the first retrieve; later ones only count the rows
    assert list(run(ours.retrieve("c5")).events) == list(run(stock.retrieve("c5")).events) == list(tracker.events)
    # the cache holds the stored JSON text: strings, which the garbage collector never walks
    _, rows = ours._cache["c5"]
    assert all(type(row) is str for row in rows) and len(rows) == len(tracker.events)


def test_a_new_session_by_another_writer_is_seen_even_with_as_many_events(stores):
    ours, stock, _ = stores
    tracker = DialogueStateTracker.from_events("c6", [])
    turn(tracker, "hello", "greet", 1.0)
    run(ours.save(tracker))
    assert len(run(ours.retrieve("c6")).events) == 5  # cached: 5 rows
    other = run(stock.retrieve("c6"))  # another process starts a new session of 5 events
    other.update(ActionExecuted("action_session_start", timestamp=10.0))
    other.update(SessionStarted(timestamp=10.1))
    other.update(ActionExecuted("action_listen", timestamp=10.2))
    other.update(UserUttered("new day", {"name": "greet", "confidence": 0.9}, timestamp=10.3))
    other.update(ActionExecuted("utter_greet", timestamp=10.4))
    other.update(BotUttered("hi", {"buttons": None}, timestamp=10.5))
    run(stock.save(other))
    mine, theirs = run(ours.retrieve("c6")), run(stock.retrieve("c6"))
    assert len(mine.events) == 5 and isinstance(mine.events[0], SessionStarted)
    assert list(mine.events) == list(theirs.events)
