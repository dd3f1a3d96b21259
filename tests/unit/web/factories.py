"""Test data for the registry and the chat."""

from __future__ import annotations

from typing import Any


def bot_create(bot_id: str = "demo", **fields: Any):
    from bots.models import Bot

    values: dict[str, Any] = {
        "label": bot_id.title(),
        "kind": Bot.Kind.RASA,
        "socket_url": "http://127.0.0.1:5005",
    }
    values.update(fields)
    bot = Bot(id=bot_id, **values)
    bot.full_clean()
    bot.save()
    return bot
