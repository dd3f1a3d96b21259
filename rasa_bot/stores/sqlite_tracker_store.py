"""Rasa's SQL tracker store, tuned for SQLite.

Stock ``SQLTrackerStore`` on SQLite opens a new connection for every message
and commits with a full fsync in rollback-journal mode; on 2 cores that was
about a third of the Rasa server's time per message (py-spy, see docs/web.md).
This subclass keeps one pooled connection and sets:

* ``journal_mode=WAL``: readers and the writer don't block each other, commits
  append to the log;
* ``synchronous=NORMAL``: in WAL mode a commit survives a crash of the process
  (the conversation is never lost when Rasa dies); only a power cut can undo
  the last commits;
* ``busy_timeout``: waits for a lock instead of failing.

Reading and writing events is plain SQL on Rasa's own ``events`` table (no
ORM objects, no per-call statement compilation); only the ``id`` and ``data``
columns are read back, and events are rebuilt through a type-name -> class
table made once (stock Rasa walks all Event subclasses for every event it
loads: another sixth of the server's time). The stored rows (JSON text) of
recently active conversations are kept in memory and reused while the database
holds exactly as many events for the conversation as the cache, ending with
the same row (one indexed query: count and last id), so a write by anyone else
is never missed. The cache holds strings, not Event objects: strings are
invisible to the garbage collector, whereas thousands of conversations' worth
of events made every full collection walk millions of objects (stalls of a
second and more under load). The result is the same tracker; a test compares
it with stock Rasa's.

Trackers are :class:`~.history_tracker.HistoryTracker` objects, which keep their
history's replay and dialogue states between calls instead of working them
out from the first event every time. The trackers of the conversations that
wrote last (up to ``LIVE_EVENTS`` events in all) are kept too, as built from
their rows and extended with each save's new rows (read back from their JSON,
as a fresh load would read them), under the same check as the rows: a message
of such a conversation gets a copy of its tracker, without reading, decoding
or replaying its history. Other conversations are loaded from their rows as
before. ``keep_history: false`` in the endpoint's settings gives plain
``DialogueStateTracker`` objects and keeps no trackers (as before this was added).

Configure in ``endpoints.yml``::

    tracker_store:
      type: stores.sqlite_tracker_store.SQLiteTrackerStore
      db: path/to/tracker.sqlite3
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker

from .history_tracker import HistoryTracker

#: How many conversations' events are kept in memory (as stored text).
CACHED_CONVERSATIONS = 2000
#: How many events the conversations kept as live trackers may hold in all. Events are Python objects the
#: garbage collector walks (about 15 per event); stored text is not, hence the two limits.
LIVE_EVENTS = 20_000
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000")
SESSION_STARTED = SessionStarted.type_name
# Stock ``_event_query`` as plain SQL on Rasa's ``events`` table: the events from the latest
# ``session_started`` on (all of them if there is none), in insertion order. Plain SQL skips
# SQLAlchemy's per-call statement compilation and ORM flush (a fifth of the server's time).
_LATEST = (
    "WITH latest(start) AS (SELECT max(timestamp) FROM events WHERE sender_id = ? AND type_name = ?) "
    "{select} FROM events, latest WHERE sender_id = ? AND (latest.start IS NULL OR timestamp >= latest.start)"
)
COUNT_LATEST_SESSION = _LATEST.format(select="SELECT count(*), max(events.id)")
SELECT_LATEST_SESSION = _LATEST.format(select="SELECT events.id, data") + " ORDER BY events.id"
LAST_ID = "SELECT max(id) FROM events WHERE sender_id = ?"
SELECT_ALL_SESSIONS = "SELECT id, data FROM events WHERE sender_id = ? ORDER BY id"
INSERT_EVENT = (
    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES (?, ?, ?, ?, ?, ?)"
)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


@lru_cache(maxsize=1)
def _event_classes() -> dict[str, type[Event]]:
    """Event type name -> class, as ``Event.resolve_by_type`` finds it (first match wins)."""
    table: dict[str, type[Event]] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    return table


def deserialise_events(serialised: list[dict[str, Any]]) -> list[Event]:
    """``rasa.shared.core.events.deserialise_events``, with the class lookup made once."""
    classes = _event_classes()
    out = []
    for parameters in serialised:
        name = parameters.get("event")
        cls = classes.get(name) if name is not None else None
        built = cls._from_parameters(parameters) if cls is not None else Event.from_parameters(parameters)
        if built:
            out.append(built)
    return out


class SQLiteTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` on SQLite with WAL, ``synchronous=NORMAL`` and a pooled connection."""

    def __init__(
        self,
        domain: Any = None,
        db: str = "rasa.db",
        event_broker: Any = None,
        keep_history: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("dialect", None)
        kwargs.pop("host", None)  # Rasa passes the endpoint's url as host; SQLite has none
        super().__init__(domain=domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=1,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", _set_pragmas)
        self.sessionmaker = sessionmaker(bind=self.engine)
        # sender_id -> (id of its last row, the rows of its latest session as stored: JSON text)
        self._cache: OrderedDict[str, tuple[int | None, list[str]]] = OrderedDict()
        # sender_id -> the tracker of exactly those rows (never handed out: retrieve gives copies)
        self._live: OrderedDict[str, HistoryTracker] = OrderedDict()
        self._live_events = 0
        self.keep_history = keep_history
        self._tracker_class = HistoryTracker if keep_history else DialogueStateTracker

    def init_tracker(self, sender_id: str) -> DialogueStateTracker:
        """A new conversation's tracker, as Rasa's but keeping its history's derived data."""
        return self._tracker_class(sender_id, self.domain.slots, max_event_history=self.max_event_history)

    def _remember(
        self, sender_id: str, last_id: int | None, rows: list[str], live: HistoryTracker | None = None
    ) -> None:
        self._forget_live(sender_id)
        self._cache[sender_id] = (last_id, rows)
        self._cache.move_to_end(sender_id)
        while len(self._cache) > CACHED_CONVERSATIONS:
            self._forget_live(self._cache.popitem(last=False)[0])
        if live is not None and self.keep_history and len(live.events) == len(rows):
            self._live[sender_id] = live
            self._live_events += len(rows)
            while self._live_events > LIVE_EVENTS and self._live:
                self._forget_live(next(iter(self._live)))

    def _forget_live(self, sender_id: str) -> None:
        live = self._live.pop(sender_id, None)
        if live is not None:
            self._live_events -= len(live.events)

    def _latest(self, connection: Any, sender_id: str) -> tuple[int, int | None]:
        """How many events the latest session of ``sender_id`` has (what ``_event_query`` selects), and its last id.

        Any write by anyone (an appended event, a new session) changes the last id.
        """
        count, last_id = connection.exec_driver_sql(COUNT_LATEST_SESSION, (sender_id, SESSION_STARTED, sender_id)).one()
        return count, last_id

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        with self.engine.connect() as connection:
            cached = None if fetch_events_from_all_sessions else self._cache.get(sender_id)
            if cached is not None and self._latest(connection, sender_id) == (len(cached[1]), cached[0]):
                rows = cached[1]
                live = self._live.get(sender_id)
                if live is not None:  # built from exactly these rows
                    self._live.move_to_end(sender_id)
                    return live.copy()
            else:
                query, parameters = (
                    (SELECT_ALL_SESSIONS, (sender_id,))
                    if fetch_events_from_all_sessions
                    else (SELECT_LATEST_SESSION, (sender_id, SESSION_STARTED, sender_id))
                )
                found = connection.exec_driver_sql(query, parameters).all()
                rows = [data for (_, data) in found]
                if not fetch_events_from_all_sessions:
                    self._remember(sender_id, found[-1][0] if found else None, rows)
            events = deserialise_events([json.loads(data) for data in rows])
        if not self.domain or not events:
            return None
        tracker = self._tracker_class.from_events(sender_id, events, self.domain.slots)
        if fetch_events_from_all_sessions or not self.keep_history:
            return tracker
        self._remember(sender_id, self._cache[sender_id][0], rows, tracker)
        return tracker.copy()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stock ``save`` (append the events the database lacks), then remember the stored session."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        cached = self._cache.pop(sender_id, None)
        live = self._live.get(sender_id)
        self._forget_live(sender_id)
        with self.engine.begin() as connection:  # one transaction: count, append, commit
            stored, last_id = self._latest(connection, sender_id)
            new = list(itertools.islice(tracker.events, stored, len(tracker.events)))
            rows = []
            for evt in new:
                data = evt.as_dict()
                rows.append(
                    (
                        sender_id,
                        evt.type_name,
                        data.get("timestamp"),
                        data.get("parse_data", {}).get("intent", {}).get("name"),
                        data.get("name"),
                        json.dumps(data),
                    )
                )
            if rows:
                connection.exec_driver_sql(INSERT_EVENT, rows)
            # The cache stays exact only if it held what the database held and no new session began;
            # otherwise the next retrieve reads the database.
            exact = cached is not None and cached[0] == last_id and len(cached[1]) == stored
            if not exact or any(isinstance(evt, SessionStarted) for evt in new):
                return
            if rows:  # only then is the new last id needed
                last_id = connection.exec_driver_sql(LAST_ID, (sender_id,)).scalar_one()
        new_rows = [row[-1] for row in rows]
        if live is not None:  # what a load would add: the new rows, decoded
            for evt in deserialise_events([json.loads(data) for data in new_rows]):
                live.update(evt)
        self._remember(sender_id, last_id, cached[1] + new_rows, live)
