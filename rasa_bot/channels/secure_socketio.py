"""A socket.io channel whose tokens are bound to one conversation.

Stock Rasa 3.6 checks the JWT only on ``connect`` and lets the client pick any
``session_id`` afterwards, so any token holder can join any conversation. This
channel extends Rasa's :class:`SocketIOInput` and:

* accepts a connection only with a valid token (algorithm pinned, ``exp``,
  ``sub`` and ``aud`` required, ``exp`` at most ``max_token_lifetime`` away) issued
  for this bot: ``aud`` must be the channel's ``audience`` (the bot's id in the
  site's registry; ``demo`` when not configured), so a token for another bot is
  refused even when the bots share a secret (chat_contract/tokens.py);
* accepts ``session_request`` and ``user_uttered`` only for the conversation the
  token names (``sub``), and refuses everything after the token expires unless
  the client sent a fresh one with ``refresh_token``;
* refuses oversized, non-object or wrongly typed payloads and floods beyond a
  per-connection rate, answering with a ``chat_error`` event;
* always answers: if handling a message produced no reply (an action server
  that is down, say), the user gets a polite message; if it is slow, a notice.
  The user's message is in the tracker either way;
* joins rooms correctly whatever python-socketio version is installed (newer
  ones made ``enter_room`` a coroutine that stock Rasa never awaits);
* once the server has started (the model is loaded), tunes the garbage
  collector for serving (:func:`tune_collector_for_serving`): each full
  collection stalled every conversation for 250-300 ms on 2 cores
  (docs/rasa_bot.md, "Serving speed"); runs the model graph node after
  node instead of through dask (channels/graph_runner.py); and makes calls to
  the action server cheap: responses checked by a validator built once instead
  of re-checking the schema (about 30 ms per call), one kept-alive HTTP session
  instead of one per call, closed when the server stops (channels/action_calls.py);
  and lets the rule and memoization policies read only the last states of a
  conversation, which decide their predictions (channels/policy_windows.py).

Tokens never appear in logs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.engine.runner.dask import DaskGraphRunner
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from chat_contract import BOT_ID, DEFAULT_BOT_ID, JWT_ALGORITHMS, MAX_MESSAGE_CHARS, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH
from chat_contract.socket_protocol import ChatSocketProtocol, Connection
from chat_contract.tokens import Grant, verify_token

from .action_calls import (
    FULL_HISTORY_ACTIONS,
    HISTORY_TURNS,
    ActionServerSession,
    HistoryWindow,
    install_response_check,
    share_action_session,
    window_action_history,
)
from .graph_runner import SequentialGraphRunner
from .log_level import import_numpy_distutils_log_keeping_the_level
from .policy_windows import install_policy_windows

logger = logging.getLogger(__name__)
import_numpy_distutils_log_keeping_the_level()  # before a model loads it and silences Rasa's INFO lines

ALLOWED_ALGORITHMS = JWT_ALGORITHMS
DEFAULTS: dict[str, Any] = {
    "max_message_chars": MAX_MESSAGE_CHARS,
    "max_token_lifetime": MAX_TOKEN_LIFETIME,
    "rate_limit_burst": 10,
    "rate_limit_per_second": 1.0,
    "slow_notice_seconds": 5.0,
    "tune_garbage_collector": True,
    "sequential_graph_runner": True,
    "fast_action_response_check": True,
    "keep_action_connections": True,
    "policy_windows": True,
    "action_history_turns": HISTORY_TURNS,
    "full_history_actions": ",".join(sorted(FULL_HISTORY_ACTIONS)),
    "sorry_text": "Sorry, something went wrong on our side and I couldn't finish that. "
    "Your message is saved; please try again in a moment.",
    "slow_text": "This is taking a little longer than usual. One moment, please…",
}


def _typed(value: Any, default: Any) -> Any:
    """``value`` as the type of ``default`` (values may come from the environment: "false", "no", "off", "0")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default  # a key left empty keeps its default
    if isinstance(default, bool) and isinstance(value, str):
        return value.strip().lower() not in {"false", "no", "off", "0"}
    return type(default)(value)


#: Allocations between two young-generation collections (CPython's default: 700).
SERVING_GC_THRESHOLD0 = 10_000


def tune_collector_for_serving() -> int:
    """Freeze the start-up heap and collect the young generation less often. Returns the frozen objects.

    * Collect once, then move every object alive now (Rasa, TensorFlow, the
      loaded model: they live as long as the process) to the collector's
      permanent generation, so full collections no longer walk them.
    * A message allocates thousands of short-lived objects (parse data, events,
      states). With CPython's default threshold (700) a collection runs several
      times per message and promotes the objects of the messages in flight to
      older generations, where only an expensive full collection frees them;
      at 10,000 most of them die young, freed by reference counting.

    Measured on 2 cores, 100 msg/s offered: p99 from 313 to 60 ms (docs/rasa_bot.md).

    Frozen objects are still freed by reference counting, but reference cycles
    among them never are: a model replaced at run time (``PUT /model``) keeps its
    cycles in memory. Restart the server to change models, or turn this off.
    """
    gc.collect()
    gc.freeze()
    _, threshold1, threshold2 = gc.get_threshold()
    gc.set_threshold(SERVING_GC_THRESHOLD0, threshold1, threshold2)
    return gc.get_freeze_count()


class _CountingOutput(SocketIOOutput):
    """Rasa's socket.io output, counting what it sends so the channel knows whether the bot answered."""

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        self.sent += 1
        await super()._send_message(socket_id, response)


def channel_audience(credentials: dict[str, Any], channel: str) -> str:
    """The bot id a channel accepts tokens for: ``audience`` in credentials.yml (``demo`` when absent or empty)."""
    audience = str(credentials.get("audience") or DEFAULT_BOT_ID).strip()
    if not BOT_ID.fullmatch(audience):
        raise ValueError(
            f"{channel}: audience must be a bot id (lower-case letters, digits, - and _), not {audience!r} "
            "(set RASA_BOT_ID to the bot's id in the site's registry)"
        )
    return audience


def _origins(value: Any) -> list[str]:
    if not value:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [o.strip().rstrip("/") for o in items if o and o.strip()]


class SecureSocketIOInput(SocketIOInput):
    """Rasa's socket.io input channel with conversation-bound tokens and input limits."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureSocketIOInput:
        credentials = credentials or {}
        key = credentials.get("jwt_key")
        if not key or len(str(key)) < MIN_KEY_LENGTH:
            raise ValueError(
                f"secure socket.io channel: jwt_key must be set and at least {MIN_KEY_LENGTH} characters "
                "(set RASA_JWT_SECRET; see .env.example)"
            )
        audience = channel_audience(credentials, "secure socket.io channel")
        method = credentials.get("jwt_method", "HS256")
        if method not in ALLOWED_ALGORITHMS:
            raise ValueError(f"secure socket.io channel: jwt_method must be one of {ALLOWED_ALGORITHMS}")
        options = {name: _typed(credentials.get(name, default), default) for name, default in DEFAULTS.items()}
        if not 0 < options["max_token_lifetime"] <= MAX_TOKEN_LIFETIME:
            raise ValueError(
                f"secure socket.io channel: max_token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds"
            )
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            jwt_key=str(key),
            jwt_method=method,
            audience=audience,
            metadata_key=credentials.get("metadata_key", "metadata"),
            allowed_origins=_origins(credentials.get("allowed_origins")),
            **options,
        )

    def __init__(
        self,
        *,
        jwt_key: str,
        audience: str = DEFAULT_BOT_ID,
        allowed_origins: list[str] | None = None,
        max_message_chars: int = DEFAULTS["max_message_chars"],
        max_token_lifetime: int = DEFAULTS["max_token_lifetime"],
        rate_limit_burst: float = DEFAULTS["rate_limit_burst"],
        rate_limit_per_second: float = DEFAULTS["rate_limit_per_second"],
        slow_notice_seconds: float = DEFAULTS["slow_notice_seconds"],
        tune_garbage_collector: bool = DEFAULTS["tune_garbage_collector"],
        sequential_graph_runner: bool = DEFAULTS["sequential_graph_runner"],
        fast_action_response_check: bool = DEFAULTS["fast_action_response_check"],
        keep_action_connections: bool = DEFAULTS["keep_action_connections"],
        policy_windows: bool = DEFAULTS["policy_windows"],
        action_history_turns: int = DEFAULTS["action_history_turns"],
        full_history_actions: str = DEFAULTS["full_history_actions"],
        sorry_text: str = DEFAULTS["sorry_text"],
        slow_text: str = DEFAULTS["slow_text"],
        **kwargs: Any,
    ) -> None:
        kwargs["session_persistence"] = True  # a conversation is a room; the token names it
        super().__init__(jwt_key=jwt_key, **kwargs)
        self.audience = audience
        self.allowed_origins = allowed_origins or []
        self.max_message_chars = max_message_chars
        self.max_token_lifetime = max_token_lifetime
        self.rate_limit_burst = rate_limit_burst
        self.rate_limit_per_second = rate_limit_per_second
        self.slow_notice_seconds = slow_notice_seconds
        self.tune_garbage_collector = tune_garbage_collector
        self.sequential_graph_runner = sequential_graph_runner
        self.fast_action_response_check = fast_action_response_check
        self.keep_action_connections = keep_action_connections
        self.policy_windows = policy_windows
        if action_history_turns < 0:
            raise ValueError(f"action_history_turns must be 0 (every event) or more, not {action_history_turns}")
        full = frozenset(name.strip() for name in full_history_actions.split(",") if name.strip())
        self.action_window = HistoryWindow(action_history_turns, full) if action_history_turns else None
        self.action_session: ActionServerSession | None = None
        self.sorry_text = sorry_text
        self.slow_text = slow_text
        self.connections: dict[str, Connection] = {}  # by socket id (the protocol keeps them here)

    def _verify(self, token: Any) -> Grant:
        return verify_token(
            token,
            key=self.jwt_key,
            audience=self.audience,
            algorithm=self.jwt_algorithm,
            max_lifetime=self.max_token_lifetime,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # With origins configured, engine.io checks the Origin header of every
        # connection (websocket included); clients that send none (servers) pass.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.allowed_origins or [])
        bp = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        logger.info("socket.io channel: tokens for bot %r only (their aud)", self.audience)
        self.sio = sio
        ns = self.namespace

        @bp.listener("after_server_start")
        async def tune_for_serving(app: Any, *_: Any) -> None:
            # after_server_start runs once Rasa's before_server_start listeners have loaded the agent
            if self.fast_action_response_check and install_response_check():
                logger.info("action server responses checked by a prebuilt validator (channels/action_calls.py)")
            agent = getattr(app.ctx, "agent", None)
            if self.keep_action_connections and agent is not None:
                self.action_session = share_action_session(agent)
                if self.action_session is not None:
                    logger.info("calls to the action server share one kept-alive HTTP session")
            window = self.action_window
            if window is not None and agent is not None and window_action_history(agent, window):
                logger.info(
                    "custom actions get the events of the last %d turns (all of them: %s)",
                    window.turns,
                    ", ".join(sorted(window.full)) or "none",
                )
            if not (self.tune_garbage_collector or self.sequential_graph_runner or self.policy_windows):
                return
            if agent is None or not agent.is_ready():
                logger.warning("no model loaded at start: the garbage collector and graph runner are left as they are")
                return
            if self.sequential_graph_runner and isinstance(agent.processor.graph_runner, DaskGraphRunner):
                agent.processor.graph_runner = SequentialGraphRunner.replacing(agent.processor.graph_runner)
                logger.info("model graph runs node after node (channels/graph_runner.py), not through dask")
            if self.policy_windows and (windowed := install_policy_windows(agent)):
                logger.info("policies read only the states they use: %s (channels/policy_windows.py)", windowed)
            if not self.tune_garbage_collector:
                return
            frozen = tune_collector_for_serving()
            logger.info(
                "garbage collector tuned for serving, model loaded: %d start-up objects frozen, thresholds %s",
                frozen,
                gc.get_threshold(),
            )

        @bp.listener("after_server_stop")
        async def close_action_session(*_: Any) -> None:
            if self.action_session is not None:
                await self.action_session.close()

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def answer(text: str, grant: Grant, metadata: dict) -> None:
            await self._answer(sio, on_new_message, text, grant.conversation_id, metadata)

        # The widget's protocol (tokens, session, refresh, limits, refusals): chat_contract/socket_protocol.py,
        # shared with the scripted-bot server. A conversation's room is its id.
        protocol = ChatSocketProtocol(
            sio,
            verify=self._verify,
            answer=answer,
            namespace=ns,
            user_message_evt=self.user_message_evt,
            max_message_chars=self.max_message_chars,
            rate_limit_burst=self.rate_limit_burst,
            rate_limit_per_second=self.rate_limit_per_second,
            connections=self.connections,
        )
        protocol.register()

        return bp

    async def _answer(
        self,
        sio: AsyncServer,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        conversation: str,
        metadata: dict,
    ) -> None:
        output = _CountingOutput(sio, self.bot_message_evt)
        message = UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata)
        started = time.monotonic()
        task = asyncio.ensure_future(on_new_message(message))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.slow_notice_seconds)
            if not done and output.sent == 0:
                await output.send_text_message(conversation, self.slow_text)
            await task
        except Exception:
            logger.exception("handling a message of conversation %s failed", conversation)
        if output.sent == 0 or (task.done() and not task.cancelled() and task.exception() is not None):
            logger.warning(
                "conversation %s: no reply after %.1f s; sent the apology", conversation, time.monotonic() - started
            )
            await output.send_text_message(conversation, self.sorry_text)
        await sio.emit("bot_done", {}, room=conversation, namespace=self.namespace)
