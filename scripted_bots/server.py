"""The socket.io server of scripted bots: the widget's protocol, the Rasa channel's rules.

Where it lives and why: scripted bots are served by their own small process
(python-socketio on aiohttp, both already in the Rasa environment), not inside
Django, because the site runs under WSGI (runserver, gunicorn), which cannot
hold websockets; and not inside Rasa, because a baseline must not depend on a
trained model. The launcher starts it like the Rasa servers (its own port, a
health URL at ``/``, stopped with the rest); the registry's entry for a scripted
bot names its class and the URL the browser reaches this server at.

For the widget it is indistinguishable from the project's Rasa channel
(rasa_bot/channels/secure_socketio.py): both register the handlers of
chat_contract/socket_protocol.py, so the same events (``session_request`` ->
``session_confirm``, ``user_uttered`` -> ``bot_uttered``... ``bot_done``,
``refresh_token`` -> ``token_refreshed``, ``chat_error`` with the same codes), the
same token checks (chat_contract.tokens: algorithm pinned, ``exp``/``sub``/``aud``
required, ``aud`` one of the bots this server serves, ``sub`` the only
conversation the connection may join), the same input limits and rate limit
(chat_contract/limits.py, pure functions), and the same Origin check.

One server may serve several bots (``--bot ID=dotted.Class``, repeated); a
connection talks to the bot its token's ``aud`` names, and one instance of the
bot's class per conversation keeps that conversation's state.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import socketio
from aiohttp import web

from chat_contract import BOT_ID, MAX_MESSAGE_CHARS, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH
from chat_contract.socket_protocol import ChatSocketProtocol
from chat_contract.tokens import Grant, verify_token

from .base import ScriptedBot, ScriptedBotError, resolve

logger = logging.getLogger("scripted_bots.server")

SORRY_TEXT = "Sorry, something went wrong on our side and I couldn't finish that. Please try again in a moment."


@dataclass(frozen=True)
class ServerConfig:
    """What one scripted-bot server serves and how strictly."""

    bots: dict[str, type[ScriptedBot]]
    jwt_secret: str
    allowed_origins: tuple[str, ...] = ()
    max_message_chars: int = MAX_MESSAGE_CHARS
    max_token_lifetime: int = MAX_TOKEN_LIFETIME
    rate_limit_burst: float = 10
    rate_limit_per_second: float = 1.0

    def __post_init__(self) -> None:
        if not self.bots:
            raise ValueError("a scripted-bot server needs at least one bot")
        for bot_id in self.bots:
            if not BOT_ID.fullmatch(bot_id):
                raise ValueError(f"bot id {bot_id!r}: lower-case letters, digits, - and _ only")
        if len(self.jwt_secret) < MIN_KEY_LENGTH:
            raise ValueError(f"the JWT secret must be at least {MIN_KEY_LENGTH} characters")


def create_app(config: ServerConfig) -> web.Application:
    """The aiohttp application: socket.io at ``/socket.io/``, a health check at ``/``.

    Tests run it in-process (``aiohttp.web.AppRunner``); ``main`` serves it.
    """
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=list(config.allowed_origins))
    app = web.Application()
    sio.attach(app)
    conversations: dict[tuple[str, str], ScriptedBot] = {}

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "bots": sorted(config.bots)})

    app.router.add_get("/", health)

    def verify(token: Any) -> Grant:
        return verify_token(
            token, key=config.jwt_secret, audience=set(config.bots), max_lifetime=config.max_token_lifetime
        )

    def room(grant: Grant) -> str:
        return f"{grant.bot_id}:{grant.conversation_id}"

    async def answer(text: str, grant: Grant, _: dict) -> None:
        key = (grant.bot_id, grant.conversation_id)
        bot = conversations.get(key)
        if bot is None:
            bot = conversations[key] = config.bots[grant.bot_id](grant.conversation_id)
        started = time.monotonic()
        try:
            replies = list(bot.reply(text)) or [{"text": SORRY_TEXT}]
        except Exception:
            logger.exception("bot %s failed on a message of conversation %s", grant.bot_id, grant.conversation_id)
            replies = [{"text": SORRY_TEXT}]
        for message in replies:
            await sio.emit("bot_uttered", message, room=room(grant))
        await sio.emit("bot_done", {}, room=room(grant))
        logger.debug("bot %s answered in %.1f ms", grant.bot_id, (time.monotonic() - started) * 1000)

    # The widget's protocol (tokens, session, refresh, limits, refusals), shared with the Rasa channel.
    ChatSocketProtocol(
        sio,
        verify=verify,
        answer=answer,
        room=room,
        max_message_chars=config.max_message_chars,
        rate_limit_burst=config.rate_limit_burst,
        rate_limit_per_second=config.rate_limit_per_second,
    ).register()

    return app


def parse_bots(values: list[str]) -> dict[str, type[ScriptedBot]]:
    """``ID=dotted.Class`` arguments as {bot id: registered class}."""
    bots: dict[str, type[ScriptedBot]] = {}
    for value in values:
        bot_id, sep, path = value.partition("=")
        if not sep or not BOT_ID.fullmatch(bot_id):
            raise ValueError(f"--bot {value!r}: expected ID=dotted.Class with a bot id such as echo")
        if bot_id in bots:
            raise ValueError(f"--bot {value!r}: bot {bot_id!r} given twice")
        try:
            bots[bot_id] = resolve(path)
        except ScriptedBotError as exc:
            raise ValueError(f"--bot {value!r}: {exc}") from None
    return bots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripted_bots",
        description="Serve scripted bots to the chat widget over socket.io (the Rasa channel's protocol).",
    )
    parser.add_argument(
        "--bot",
        action="append",
        required=True,
        metavar="ID=dotted.Class",
        help="a bot to serve: its id in the site's registry and its registered class "
        "(e.g. echo=scripted_bots.baselines.EchoBot); repeat for several",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument(
        "--jwt-secret-env",
        default="RASA_JWT_SECRET",
        help="environment variable holding the HS256 key the site signs these bots' tokens with "
        "(default RASA_JWT_SECRET; never on the command line)",
    )
    parser.add_argument(
        "--allowed-origins",
        default=os.environ.get("SITE_ORIGINS", ""),
        help="comma-separated origins whose pages may connect (default: $SITE_ORIGINS)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        bots = parse_bots(args.bot)
        secret = os.environ.get(args.jwt_secret_env, "")
        if not secret:
            raise ValueError(f"{args.jwt_secret_env} is not set (the bots' JWT secret; see .env.example)")
        origins = tuple(o.strip().rstrip("/") for o in args.allowed_origins.split(",") if o.strip())
        config = ServerConfig(bots=bots, jwt_secret=secret, allowed_origins=origins)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    served = ", ".join(f"{bot_id} ({cls.__name__})" for bot_id, cls in bots.items())
    logger.info("scripted-bot server on http://%s:%d serving %s", args.host, args.port, served)
    web.run_app(create_app(config), host=args.host, port=args.port, print=None, handle_signals=True)
    return 0
