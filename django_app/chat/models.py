"""Conversations: each bound to one bot for good."""

from __future__ import annotations

from django.db import models


class Conversation(models.Model):
    """A conversation id the site issued, and the one bot it belongs to.

    Its id is the ``sub`` of every token issued for it, and its bot the ``aud``:
    the site never signs a token that names this conversation with another bot,
    and each bot's server accepts only tokens of its own audience.
    """

    id = models.CharField(primary_key=True, max_length=64)
    bot = models.ForeignKey("bots.Bot", on_delete=models.PROTECT, related_name="conversations")
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.id} with {self.bot_id}"
