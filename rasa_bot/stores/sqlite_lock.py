"""A lock store in a SQLite file: one conversation's messages one at a time, across processes.

Rasa runs several Sanic workers (``SANIC_WORKERS``) only with a lock store that
all of them share; its in-memory store is per process, so Rasa refuses, and
Redis is one more server to run. This store keeps Rasa's ticket locks in a
small SQLite file on the host, so the workers of one Rasa server (or several
Rasa servers on one host) serialise each conversation without anything else
running. Every change is one ``BEGIN IMMEDIATE`` transaction (SQLite's write
lock), so two processes can never take the same ticket; reads see the last
commit (WAL).

A ticket belongs to the process that took it. A process that dies while it
holds one (killed, crashed) would otherwise block its conversation until the
ticket expires (Rasa's lock lifetime, 60 s): here a ticket of a process that no
longer runs counts as expired at once (Linux: pid and start time from
``/proc``; elsewhere only the lifetime applies).

For servers on several hosts use Redis (``endpoints-scale.yml``). Configure in
``endpoints.yml``::

    lock_store:
      type: stores.sqlite_lock.SQLiteLockStore
      db: path/to/locks.sqlite3
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from .prompt_lock import PromptLockMixin

logger = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tickets ("
    " conversation_id TEXT NOT NULL, number INTEGER NOT NULL, expires REAL NOT NULL, owner TEXT NOT NULL,"
    " PRIMARY KEY (conversation_id, number)) WITHOUT ROWID"
)
SELECT_TICKETS = "SELECT number, expires, owner FROM tickets WHERE conversation_id = ? ORDER BY number"
INSERT_TICKET = "INSERT INTO tickets (conversation_id, number, expires, owner) VALUES (?, ?, ?, ?)"
DELETE_TICKET = "DELETE FROM tickets WHERE conversation_id = ? AND number = ?"
DELETE_TICKETS = "DELETE FROM tickets WHERE conversation_id = ?"


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None if it does not run or /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19].decode() if len(fields) > 19 else None  # field 22 of stat(5)


@cache
def _owner(pid: int) -> str:
    """This process as a ticket's owner: pid and start time (a recycled pid is another owner)."""
    return f"{pid}:{_start_time(pid) or '?'}"


def current_owner() -> str:
    return _owner(os.getpid())  # after a fork the child has a pid of its own


_HAS_PROC = Path("/proc/self/stat").exists()


def owner_alive(owner: str) -> bool:
    """Whether the process that took a ticket still runs (True when that cannot be told)."""
    if owner == current_owner():
        return True
    pid, _, started = owner.partition(":")
    if not _HAS_PROC or started == "?":
        return True
    return _start_time(int(pid)) == started


class SQLiteLockStore(PromptLockMixin, LockStore):
    """Rasa's ticket locks in a SQLite file shared by the processes of one host."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, db: str | None = None, **_: Any) -> None:
        """Built by Rasa from ``endpoints.yml`` (``endpoint_config`` with ``db``) or directly with ``db``."""
        if endpoint_config is not None:
            db = endpoint_config.kwargs.get("db", db)
        if not db:
            raise ValueError("SQLiteLockStore needs `db`: the path of its SQLite file (endpoints.yml, lock_store)")
        self.path = str(db)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._write() as db_:
            db_.execute(SCHEMA)
        super().__init__()

    # -- connections: one per thread and process (sqlite3 connections must not cross a fork) -------------
    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != pid:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, pid
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: no other process reads a half-made change or writes in between."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _lock_from(conversation_id: str, rows: list[tuple[int, float, str]]) -> TicketLock | None:
        """The rows as Rasa's lock; a ticket whose process is gone shows as expired."""
        if not rows:
            return None
        alive: dict[str, bool] = {}
        tickets = deque()
        for number, expires, owner in rows:
            if owner not in alive:
                alive[owner] = owner_alive(owner)
            tickets.append(Ticket(number, expires if alive[owner] else 0.0))
        return TicketLock(conversation_id, tickets)

    def _drop_stale(self, conn: sqlite3.Connection, conversation_id: str) -> list[tuple[int, float, str]]:
        """Delete the conversation's expired tickets and those of dead processes; the rest, in order."""
        rows = conn.execute(SELECT_TICKETS, (conversation_id,)).fetchall()
        lock = self._lock_from(conversation_id, rows)
        if lock is None:
            return []
        now = time.time()
        stale = [t.number for t in lock.tickets if t.expires < now]
        if stale:
            conn.executemany(DELETE_TICKET, [(conversation_id, n) for n in stale])
            logger.debug(f"Dropped {len(stale)} stale ticket(s) of conversation '{conversation_id}'.")
        return [row for row in rows if row[0] not in stale]

    # -- LockStore --------------------------------------------------------------------------------------
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        rows = self._connection().execute(SELECT_TICKETS, (conversation_id,)).fetchall()
        return self._lock_from(conversation_id, rows)

    def delete_lock(self, conversation_id: str) -> None:
        # one statement commits on its own (autocommit), atomically
        deleted = self._connection().execute(DELETE_TICKETS, (conversation_id,)).rowcount
        self._log_deletion(conversation_id, deleted > 0)

    def save_lock(self, lock: TicketLock) -> None:
        owner = current_owner()
        with self._write() as conn:
            conn.execute(DELETE_TICKETS, (lock.conversation_id,))
            conn.executemany(INSERT_TICKET, [(lock.conversation_id, t.number, t.expires, owner) for t in lock.tickets])

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Drop stale tickets and take the next number, in one write transaction."""
        try:
            with self._write() as conn:
                rows = self._drop_stale(conn, conversation_id)
                number = rows[-1][0] + 1 if rows else 0
                conn.execute(INSERT_TICKET, (conversation_id, number, time.time() + lock_lifetime, current_owner()))
            return number
        except Exception as exc:  # as Rasa's: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        with self._write() as conn:
            self._drop_stale(conn, conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        # one statement commits on its own (autocommit), atomically: no transaction around it
        self._connection().execute(DELETE_TICKET, (conversation_id, ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish the ticket; the lock is gone when its last ticket is (one statement, atomic)."""
        self.finish_serving(conversation_id, ticket_number)

    def is_someone_waiting(self, conversation_id: str) -> bool:
        row = (
            self._connection()
            .execute("SELECT 1 FROM tickets WHERE conversation_id = ? LIMIT 1", (conversation_id,))
            .fetchone()
        )
        return row is not None
