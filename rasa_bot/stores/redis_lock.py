"""A Redis lock store whose every read-modify-write is one Redis transaction.

Rasa 3.6's ``RedisLockStore`` issues a ticket by reading the conversation's
lock, adding a ticket and writing it back, in three separate commands (the same
for finishing a ticket and for cleaning up). Two instances that receive a
message of the same conversation at the same moment can therefore both read
"no lock", both get ticket 0 and process the two messages at once; the SQL
tracker store then keeps the events of whichever saves first and silently
drops the other's (it appends only events past the stored count).
tests/integration/test_scale_out.py shows both: the stock store hands out the
same ticket twice and loses a turn; this one does neither.

Here each of those steps runs under ``WATCH``/``MULTI``/``EXEC`` and is retried
if another instance changed the lock in between. Configure it in
``endpoints-scale.yml`` as ``type: stores.redis_lock.AtomicRedisLockStore`` with the
same keys as Rasa's ``redis`` lock store. A waiting message is handed the lock
within milliseconds, not Rasa's one-second sleeps (stores/prompt_lock.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from .prompt_lock import PromptLockMixin


class AtomicRedisLockStore(PromptLockMixin, RedisLockStore):
    """Rasa's Redis lock store with atomic ticket issue, update, finish and clean-up."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        """Built by Rasa from ``endpoints.yml`` (``endpoint_config``) or directly with RedisLockStore's arguments."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _transaction(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, Any]]):
        """Apply ``change`` to the stored lock atomically; it returns (new lock or None to delete, result)."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    new, result = change(lock)
                    pipe.multi()
                    if new is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another instance changed the lock: read it again

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._transaction(conversation_id, change)
        except Exception as exc:  # as Rasa's: any failure is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._transaction(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._transaction(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish the ticket and delete the lock if nobody waits, in one step (Rasa does it in three)."""

        def change(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._transaction(conversation_id, change)
