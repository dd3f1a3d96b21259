"""The widget's socket.io protocol, server side: one implementation for every bot server.

Rasa's channel (rasa_bot/channels/secure_socketio.py, on Sanic) and the scripted-bot server
(scripted_bots/server.py, on aiohttp) both register these handlers on their python-socketio
``AsyncServer``; they differ only in how a message is answered (``answer``) and in the room a
conversation's replies go to (``room``). The rules, written once:

- ``connect``: the token (``auth.token``) is checked by ``verify`` (chat_contract.tokens: algorithm
  pinned, ``exp``/``sub``/``aud`` required, ``aud`` a bot this server serves); refused connections
  get socket.io's ``ConnectionRefusedError("unauthorized")``.
- ``session_request`` → ``session_confirm``: only for the conversation the token names.
- ``refresh_token`` → ``token_refreshed``: only a token for the same bot and conversation.
- the user-message event (``user_uttered`` by default): an expired token, the rate limit, a malformed
  or oversized message, or a message for another conversation is refused with ``chat_error``
  (``{"code", "message"}``); refusals that mean a misbehaving client also disconnect it.

Imported only by the bot servers (it needs python-socketio); the rest of chat_contract stays pure.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from .constants import MAX_MESSAGE_CHARS
from .limits import MessageRejected, RateLimiter, parse_user_message
from .tokens import Grant, TokenRejected

logger = logging.getLogger(__name__)


@dataclass
class Connection:
    """One socket: the grant of its token (replaced by a refresh), its rate limiter, whether it joined its room."""

    grant: Grant
    limiter: RateLimiter
    joined: bool = False


#: ``answer(text, grant, metadata)``: produce the bot's replies for one accepted message.
Answer = Callable[[str, Grant, dict], Awaitable[None]]


@dataclass
class ChatSocketProtocol:
    """The protocol's handlers and their state for one ``AsyncServer`` (and namespace).

    Args:
        sio: The server the handlers are registered on (``register``).
        verify: Checks a token and returns its grant (raises ``TokenRejected``).
        answer: Answers an accepted message; called after every check passed.
        room: The room a conversation's replies go to (every socket of the conversation joins it).
        namespace: The socket.io namespace (None: the default one).
        user_message_evt: The event clients send messages with.
        max_message_chars: Longest message accepted.
        rate_limit_burst, rate_limit_per_second: The token bucket of each socket.
    """

    sio: AsyncServer
    verify: Callable[[Any], Grant]
    answer: Answer
    room: Callable[[Grant], str] = field(default=lambda grant: grant.conversation_id)
    namespace: str | None = None
    user_message_evt: str = "user_uttered"
    max_message_chars: int = MAX_MESSAGE_CHARS
    rate_limit_burst: float = 10
    rate_limit_per_second: float = 1.0
    connections: dict[str, Connection] = field(default_factory=dict)

    def register(self) -> None:
        """Register the protocol's handlers on ``sio``."""
        ns = self.namespace
        self.sio.on("connect", namespace=ns)(self.on_connect)
        self.sio.on("disconnect", namespace=ns)(self.on_disconnect)
        self.sio.on("session_request", namespace=ns)(self.on_session_request)
        self.sio.on("refresh_token", namespace=ns)(self.on_refresh_token)
        self.sio.on(self.user_message_evt, namespace=ns)(self.on_user_message)

    async def emit(self, event: str, data: Any, room: str) -> None:
        await self.sio.emit(event, data, room=room, namespace=self.namespace)

    async def refuse(self, sid: str, code: str, detail: str, *, disconnect: bool = False) -> None:
        """Tell the client why (``chat_error``) and, for a misbehaving one, disconnect it."""
        logger.warning("socket.io %s refused (%s): %s", sid, code, detail)
        await self.emit("chat_error", {"code": code, "message": detail}, room=sid)
        if disconnect:
            await self.sio.disconnect(sid, namespace=self.namespace)

    async def _join(self, sid: str, conn: Connection) -> None:
        joined = self.sio.enter_room(sid, self.room(conn.grant), namespace=self.namespace)
        if inspect.isawaitable(joined):  # python-socketio >= 5.10
            await joined
        conn.joined = True

    async def _current(self, sid: str) -> Connection | None:
        conn = self.connections.get(sid)
        if conn is None:
            return None
        if conn.grant.expired():
            expired = "the token has expired; reconnect with a fresh one"
            await self.refuse(sid, "token_expired", expired, disconnect=True)
            return None
        return conn

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            grant = self.verify(token)
        except TokenRejected as exc:
            logger.warning("socket.io connection refused from %s: %s", environ.get("REMOTE_ADDR", "?"), exc)
            raise SocketRefused("unauthorized") from None
        self.connections[sid] = Connection(grant, RateLimiter(self.rate_limit_burst, self.rate_limit_per_second))
        return True

    async def on_disconnect(self, sid: str) -> None:
        self.connections.pop(sid, None)

    async def on_session_request(self, sid: str, data: Any = None) -> None:
        conn = await self._current(sid)
        if conn is None:
            return
        if data is not None and not isinstance(data, dict):
            await self.refuse(sid, "bad_request", "session_request payload must be an object")
            return
        wanted = (data or {}).get("session_id") or conn.grant.conversation_id
        if wanted != conn.grant.conversation_id:
            await self.refuse(sid, "forbidden", "session_request for another conversation", disconnect=True)
            return
        await self._join(sid, conn)
        await self.emit("session_confirm", conn.grant.conversation_id, room=sid)

    async def on_refresh_token(self, sid: str, data: Any = None) -> None:
        conn = self.connections.get(sid)
        if conn is None:
            return
        try:
            grant = self.verify(data.get("token") if isinstance(data, dict) else None)
        except TokenRejected as exc:
            await self.refuse(sid, "unauthorized", f"refresh refused: {exc}", disconnect=True)
            return
        if (grant.bot_id, grant.conversation_id) != (conn.grant.bot_id, conn.grant.conversation_id):
            await self.refuse(sid, "forbidden", "refresh token for another conversation", disconnect=True)
            return
        conn.grant = grant
        await self.emit("token_refreshed", {"expires_at": grant.expires_at}, room=sid)

    async def on_user_message(self, sid: str, data: Any = None) -> None:
        conn = await self._current(sid)
        if conn is None:
            return
        if not conn.limiter.allow():
            await self.refuse(sid, "rate_limited", "too many messages; wait a moment")
            return
        try:
            text, session_id, metadata = parse_user_message(data, max_chars=self.max_message_chars)
        except MessageRejected as exc:
            await self.refuse(sid, exc.code, exc.detail)
            return
        if session_id is not None and session_id != conn.grant.conversation_id:
            await self.refuse(sid, "forbidden", "message for another conversation", disconnect=True)
            return
        if not conn.joined:
            await self._join(sid, conn)
        await self.answer(text, conn.grant, metadata)
