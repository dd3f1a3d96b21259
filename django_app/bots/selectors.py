"""Reads of the bot registry."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Bot


def bot_get_enabled(bot_id: str) -> Bot | None:
    """The enabled bot with this id, or None."""
    return Bot.objects.filter(id=bot_id, enabled=True).first()


def bots_enabled(ids: list[str] | None = None) -> QuerySet[Bot]:
    """Enabled bots, by id; only those named (in that order is up to the caller) when ``ids`` is given."""
    bots = Bot.objects.filter(enabled=True)
    return bots.filter(id__in=ids) if ids is not None else bots
