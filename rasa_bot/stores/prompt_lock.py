"""Wait for a conversation's lock in milliseconds, not in whole seconds.

Rasa processes the messages of one conversation one at a time: each takes a
ticket from the lock store and waits until it is the first. Rasa 3.6's
``LockStore._acquire_lock`` checks, and then sleeps one full second
(``wait_time_in_seconds=1``) before it checks again. A message that arrives
while the previous one of its conversation is still being answered (a visitor
who sends two lines quickly, or any backlog under load) therefore waits at
least a second, even though the other message was done after 20 ms. Under an
open-loop load that turns a short stall into seconds of tail latency: the next
message of each delayed conversation collides and sleeps a second too.

:class:`PromptLockMixin` keeps Rasa's tickets and their order and changes only
the wait: a waiter in the same process is woken the moment the ticket ahead of
it is finished, and a waiter in another process (another Sanic worker, another
instance) polls from 5 ms up to ``wait_time_in_seconds`` (at most 50 ms).
Expired tickets are removed only when one is found at the head (Rasa writes the
lock back on every poll).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError

logger = logging.getLogger(__name__)

#: First and longest pause between two looks at the lock of a waiting message.
FIRST_POLL_S = 0.005
LONGEST_POLL_S = 0.05


class PromptLockMixin:
    """Mixed in before a ``rasa.core.lock_store.LockStore``: same tickets, prompt hand-over."""

    def _releases(self) -> dict[str, tuple[asyncio.Event, int]]:
        """conversation id -> (event set when a ticket of it is finished here, how many wait on it)."""
        return self.__dict__.setdefault("_prompt_lock_releases", {})

    def _released(self, conversation_id: str) -> None:
        entry = self._releases().pop(conversation_id, None)
        if entry is not None:
            entry[0].set()

    async def _pause(self, conversation_id: str, seconds: float) -> None:
        """Sleep ``seconds`` or until a ticket of the conversation is finished in this process."""
        releases = self._releases()
        event, waiting = releases.get(conversation_id, (None, 0))
        if event is None:
            event = asyncio.Event()
        releases[conversation_id] = (event, waiting + 1)
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        finally:
            current = releases.get(conversation_id)
            if current is not None and current[0] is event:
                if current[1] <= 1:
                    del releases[conversation_id]
                else:
                    releases[conversation_id] = (event, current[1] - 1)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Rasa's ``LockStore.lock``; ``wait_time_in_seconds`` caps the pause between two looks."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            finally:
                self._released(conversation_id)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        pause = FIRST_POLL_S
        longest = max(FIRST_POLL_S, min(LONGEST_POLL_S, wait_time_in_seconds))
        while True:
            lock = self.get_lock(conversation_id)
            mine = next((t for t in lock.tickets if t.number == ticket), None) if lock is not None else None
            if mine is None or mine.has_expired():
                # as Rasa: a ticket that expired while waiting is dropped - never go ahead unlocked
                if mine is not None:
                    self.update_lock(conversation_id)
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if not lock.is_locked(ticket):
                return lock
            if lock.tickets[0].has_expired():  # the message ahead died or hangs: drop its ticket
                self.update_lock(conversation_id)
            await self._pause(conversation_id, pause)
            pause = min(pause * 2, longest)
