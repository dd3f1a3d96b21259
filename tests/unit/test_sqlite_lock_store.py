"""The SQLite lock store: one message of a conversation at a time, across processes, handed over promptly."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from rasa_bot.stores import prompt_lock
from rasa_bot.stores.sqlite_lock import SQLiteLockStore, current_owner, owner_alive

FORK = multiprocessing.get_context("fork")  # the children share the imported Rasa; spawn would re-import it


def _issue_many(path: str, conversation: str, count: int, start, out) -> None:
    store = SQLiteLockStore(db=path)
    start.wait()
    out.put([store.issue_ticket(conversation) for _ in range(count)])


def test_processes_never_share_a_ticket(tmp_path):
    path, processes, each = str(tmp_path / "locks.sqlite3"), 4, 150
    start, out = FORK.Event(), FORK.Queue()
    children = [FORK.Process(target=_issue_many, args=(path, "c1", each, start, out)) for _ in range(processes)]
    for child in children:
        child.start()
    start.set()  # all at once
    tickets = [n for _ in children for n in out.get(timeout=60)]
    for child in children:
        child.join(30)
    assert sorted(tickets) == list(range(processes * each))  # each number once: no ticket handed out twice


def _increment_under_lock(path: str, counter: str, conversation: str, turns: int, start) -> None:
    """Read a counter, yield to the event loop, write it back + 1: only correct if the lock excludes others."""
    store = SQLiteLockStore(db=path)

    async def main() -> None:
        for _ in range(turns):
            async with store.lock(conversation):
                db = sqlite3.connect(counter, timeout=30, isolation_level=None)
                (value,) = db.execute("SELECT value FROM counter").fetchone()
                await asyncio.sleep(0.001)
                db.execute("UPDATE counter SET value = ?", (value + 1,))
                db.close()

    start.wait()
    asyncio.run(main())


def test_processes_take_turns_on_one_conversation(tmp_path):
    path, counter = str(tmp_path / "locks.sqlite3"), str(tmp_path / "counter.sqlite3")
    db = sqlite3.connect(counter, isolation_level=None)
    db.execute("CREATE TABLE counter (value INTEGER)")
    db.execute("INSERT INTO counter VALUES (0)")
    db.close()
    start = FORK.Event()
    children = [FORK.Process(target=_increment_under_lock, args=(path, counter, "c1", 40, start)) for _ in range(3)]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    (value,) = sqlite3.connect(counter).execute("SELECT value FROM counter").fetchone()
    assert value == 3 * 40  # no increment lost: never two holders at once
    assert SQLiteLockStore(db=path).get_lock("c1") is None  # every ticket finished, the lock is gone


def test_tasks_of_one_process_take_turns_and_are_woken_without_polling(tmp_path, monkeypatch):
    # polls so rare that only the wake-up on release can hand the lock over within the test's time
    monkeypatch.setattr(prompt_lock, "FIRST_POLL_S", 60.0)
    monkeypatch.setattr(prompt_lock, "LONGEST_POLL_S", 60.0)
    store = SQLiteLockStore(db=str(tmp_path / "locks.sqlite3"))
    order: list[str] = []

    async def message(name: str, hold: float) -> None:
        async with store.lock("c1", wait_time_in_seconds=60):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def main() -> None:
        first = asyncio.create_task(message("first", 0.2))
        await asyncio.sleep(0.05)  # the second arrives while the first is being answered
        await asyncio.wait_for(asyncio.gather(first, message("second", 0)), 20)

    asyncio.run(main())
    assert order == ["first in", "first out", "second in", "second out"]


def test_expired_waiting_ticket_is_refused_not_served_unlocked(tmp_path):
    store = SQLiteLockStore(db=str(tmp_path / "locks.sqlite3"))

    async def main() -> None:
        holder = store.issue_ticket("c1", lock_lifetime=60)
        with pytest.raises(LockError):
            async with store.lock("c1", lock_lifetime=0.05):  # expires while the holder keeps the lock
                pytest.fail("went ahead while another message held the conversation")
        store.cleanup("c1", holder)

    asyncio.run(asyncio.wait_for(main(), 20))
    assert store.get_lock("c1") is None


def _take_ticket_and_die(path: str) -> None:
    SQLiteLockStore(db=path).issue_ticket("c1", lock_lifetime=3600)
    os._exit(0)  # killed while answering: the ticket is never finished


def test_ticket_of_a_dead_process_does_not_block_the_conversation(tmp_path):
    path = str(tmp_path / "locks.sqlite3")
    child = FORK.Process(target=_take_ticket_and_die, args=(path,))
    child.start()
    child.join(30)
    store = SQLiteLockStore(db=path)
    lock = store.get_lock("c1")
    assert lock is not None and lock.tickets[0].has_expired()  # its owner is gone

    async def main() -> int:
        async with store.lock("c1") as lock:
            return lock.now_serving

    # the dead process's ticket lasts an hour; the conversation goes on at once
    assert asyncio.run(asyncio.wait_for(main(), 20)) == 0
    assert owner_alive(current_owner())


def test_rasa_builds_it_from_endpoints_and_allows_several_workers(tmp_path, monkeypatch):
    config = EndpointConfig(
        type="rasa_bot.stores.sqlite_lock.SQLiteLockStore", db=str(tmp_path / "sub" / "locks.sqlite3")
    )
    store = LockStore.create(config)
    assert type(store).__name__ == "SQLiteLockStore"
    assert store.issue_ticket("c1") == 0 and store.issue_ticket("c1") == 1
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(config) == 2  # Rasa refuses 2 workers with its in-memory store
    assert number_of_sanic_workers(EndpointConfig(type="in_memory")) == 1


def test_missing_path_is_a_clear_error():
    with pytest.raises(ValueError, match="needs `db`"):
        SQLiteLockStore(endpoint_config=EndpointConfig(type="rasa_bot.stores.sqlite_lock.SQLiteLockStore"))


def test_same_ticket_order_as_rasa(tmp_path):
    """Issue, finish the head, issue again: numbers and head as Rasa's in-memory store gives them."""
    from rasa.core.lock_store import InMemoryLockStore

    ours, rasa = SQLiteLockStore(db=str(tmp_path / "locks.sqlite3")), InMemoryLockStore()
    for store in (ours, rasa):
        assert [store.issue_ticket("c1") for _ in range(3)] == [0, 1, 2]
        store.finish_serving("c1", 0)
        assert store.get_lock("c1").now_serving == 1
        assert store.issue_ticket("c1") == 3
        for n in (1, 2, 3):
            store.cleanup("c1", n)
        assert store.get_lock("c1") is None
        assert not store.is_someone_waiting("c1")
