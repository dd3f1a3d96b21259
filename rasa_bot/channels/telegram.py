"""Rasa's Telegram connector, off unless configured, refusing updates without Telegram's secret token header.

Rasa 3.6's ``TelegramInput`` (aiogram 2) trusts any POST to its webhook, asks Telegram who the bot is for every
update, answers an update type it does not know (a member joining, a poll) with a server error, and sets its
webhook at start-up from a throw-away event loop. This subclass:

- reads its settings from environment variables named in ``credentials.yml`` and is **off** (the webhook answers
  404) while ``TELEGRAM_BOT_TOKEN`` is unset, so ``make run`` needs nothing;
- refuses (403) any update whose ``X-Telegram-Bot-Api-Secret-Token`` header is not the secret given to
  ``setWebhook`` (``secret_token``): nobody else can post updates into a customer's conversation;
- takes text messages, edited messages and button presses (callback queries, answered so the button stops
  spinning); any other update is acknowledged (200) and ignored;
- registers its webhook (with the secret and the update types it takes) once the server runs, checks the bot's
  name against ``TELEGRAM_BOT_NAME`` once, and logs, rather than crashes, when Telegram cannot be reached;
- can talk to another Bot API server (``TELEGRAM_API_URL``: a local Bot API server, or the tests' stand-in).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

#: The header Telegram sends with every webhook update when ``setWebhook`` was given a ``secret_token``.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: Default names of the environment variables (``credentials.yml`` may name others).
ENV_DEFAULTS = {
    "access_token_env": "TELEGRAM_BOT_TOKEN",
    "verify_env": "TELEGRAM_BOT_NAME",
    "webhook_url_env": "TELEGRAM_WEBHOOK_URL",
    "secret_token_env": "TELEGRAM_WEBHOOK_SECRET",
    "api_url_env": "TELEGRAM_API_URL",
}
#: Telegram's rule for ``secret_token``: 1 to 256 characters, letters, digits, ``_`` and ``-``.
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{16,256}")
#: Telegram's limit on a button's ``callback_data``, in bytes.
CALLBACK_DATA_LIMIT = 64
#: Up to this many buttons share one row; more are stacked.
BUTTONS_PER_ROW = 3
#: The update types this channel takes; setWebhook asks Telegram for only these.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


class ProjectTelegramOutput(TelegramOutput):
    """Rasa's Telegram output, talking to the Bot API server at ``api_url`` (Telegram's by default).

    Buttons: more than :data:`BUTTONS_PER_ROW` are stacked one per row (Rasa puts them all in one row, unreadable
    on a phone), and a payload longer than Telegram's 64-byte ``callback_data`` loses its entities (``/intent``
    only) or, still too long, its button, instead of Telegram refusing the whole message.
    """

    def __init__(self, access_token: str | None, api_url: str | None = None) -> None:
        server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        Bot.__init__(self, access_token, server=server)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        fitting = []
        for button in buttons:
            payload = str(button.get("payload") or "")
            if len(payload.encode("utf-8")) > CALLBACK_DATA_LIMIT:
                short = payload.split("{", 1)[0]
                if not short or len(short.encode("utf-8")) > CALLBACK_DATA_LIMIT:
                    logger.warning("Telegram: button %r left out, its payload is over 64 bytes", button.get("title"))
                    continue
                logger.warning("Telegram: button %r sent as %s (payload over 64 bytes)", button.get("title"), short)
                button = {**button, "payload": short}
            fitting.append(button)
        if not fitting:
            await self.send_text_message(recipient_id, text)
            return
        kind = button_type or ("inline" if len(fitting) <= BUTTONS_PER_ROW else "vertical")
        await super().send_text_with_buttons(recipient_id, text, fitting, button_type=kind, **kwargs)


class SecureTelegramInput(TelegramInput):
    """Telegram webhook input: off without a token, secret header required, unknown updates ignored."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        names = {**ENV_DEFAULTS, **(credentials or {})}
        unknown = sorted(set(names) - set(ENV_DEFAULTS))
        if unknown:
            raise RasaException(f"telegram channel: unknown setting(s) {', '.join(unknown)} in credentials.yml")
        values = {key[: -len("_env")]: os.environ.get(str(env), "").strip() or None for key, env in names.items()}
        return cls(**values, env_names=names)

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str | None = None,
        api_url: str | None = None,
        env_names: dict[str, str] | None = None,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url
        self.enabled = bool(access_token)
        names = env_names or ENV_DEFAULTS
        if not self.enabled:
            logger.info("Telegram channel off (%s is not set)", names["access_token_env"])
            return
        if not secret_token or not SECRET_RE.fullmatch(secret_token):
            raise RasaException(
                f"telegram channel: {names['secret_token_env']} must be 16 to 256 letters, digits, '_' or '-' "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'); updates are checked against it"
            )
        if not verify:
            raise RasaException(
                f"telegram channel: {names['verify_env']} (the bot's username, from BotFather) is unset"
            )
        if webhook_url and not webhook_url.startswith("https://"):
            logger.warning("Telegram delivers webhooks only to https:// URLs, not %s", webhook_url)
        logger.info("Telegram channel on for @%s; updates without the secret token header are refused", verify)

    def get_output_channel(self) -> ProjectTelegramOutput:
        """The output channel (no network call here: the webhook is set once the server runs)."""
        return ProjectTelegramOutput(self.access_token, self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram = Blueprint("telegram_webhook", __name__)
        if not self.enabled:

            @telegram.route("/", methods=["GET"])
            async def off(_: Request) -> HTTPResponse:
                return response.json({"status": "off"})

            @telegram.route("/webhook", methods=["GET", "POST"])
            async def refused(_: Request) -> HTTPResponse:
                return response.text("the Telegram channel is off", status=404)

            return telegram

        out = self.get_output_channel()

        @telegram.listener("after_server_start")
        async def register(app: Any, loop: Any) -> None:  # noqa: ARG001 - Sanic's listener signature
            await self.register_webhook(out)

        @telegram.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), (self.secret_token or "").encode()):
                logger.warning("Telegram webhook: update refused, %s missing or wrong", SECRET_HEADER)
                return response.text("forbidden", status=403)
            try:
                update = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return response.text("not JSON", status=400)
            if not isinstance(update, dict):
                return response.text("not a Telegram update", status=400)
            parsed = self.parse_update(update)
            if parsed is None:
                logger.debug("Telegram update ignored (keys: %s)", ", ".join(sorted(update)))
                return response.text("ignored")
            sender_id, text, callback_id = parsed
            if callback_id is not None:
                try:
                    await out.request("answerCallbackQuery", {"callback_query_id": callback_id})
                except Exception as exc:  # noqa: BLE001 - the button's spinner is cosmetic
                    logger.debug("answerCallbackQuery failed: %s", exc)
            try:
                await on_new_message(
                    UserMessage(text, out, sender_id, input_channel=self.name(), metadata=self.get_metadata(request))
                )
            except Exception:  # Telegram retries an update answered with an error: log it and acknowledge
                logger.exception("Telegram update from chat %s failed", sender_id)
            return response.text("success")

        return telegram

    @staticmethod
    def parse_update(update: dict[str, Any]) -> tuple[str, str, str | None] | None:
        """``(chat id, text, callback query id or None)`` of an update this channel takes, else None."""
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            message = callback.get("message") if isinstance(callback.get("message"), dict) else {}
            chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
            data = callback.get("data")
            chat_id = chat.get("id", (callback.get("from") or {}).get("id"))
            if isinstance(data, str) and data and chat_id is not None:
                return str(chat_id), data, str(callback.get("id", ""))
            return None
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
            return None
        chat_id = message["chat"].get("id")
        text = message.get("text")
        location = message.get("location")
        if isinstance(text, str) and text.strip() and chat_id is not None:
            # Telegram's /start (sent when a customer opens the bot) is a greeting, not an intent name
            return str(chat_id), ("hello" if text.split("@")[0].strip() == "/start" else text), None
        if isinstance(location, dict) and chat_id is not None:
            return str(chat_id), json.dumps({"lng": location.get("longitude"), "lat": location.get("latitude")}), None
        return None

    async def register_webhook(self, out: ProjectTelegramOutput) -> bool:
        """Check the bot's name and set the webhook (with the secret), once; False (logged) when Telegram fails."""
        try:
            me = await out.get_me()
            if me.username != self.verify:
                logger.warning(
                    "Telegram: the token belongs to @%s, not @%s (TELEGRAM_BOT_NAME)", me.username, self.verify
                )
            if not self.webhook_url:
                logger.info(
                    "Telegram: no webhook URL set; set it with setWebhook and the secret token (docs/telegram.md)"
                )
                return False
            await out.request(
                "setWebhook",
                {
                    "url": self.webhook_url,
                    "secret_token": self.secret_token,
                    "allowed_updates": json.dumps(ALLOWED_UPDATES),
                },
            )
        except Exception as exc:  # noqa: BLE001 - no network must not stop the other channels
            logger.warning("Telegram: could not set the webhook (%s); the channel still takes updates", exc)
            return False
        logger.info("Telegram webhook set to %s", self.webhook_url)
        return True
