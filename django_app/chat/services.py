"""Starting conversations and signing their tokens: what the chat views (and the studies app) call.

``conversation_start(bot=...)`` is the one way a conversation begins: a new
unguessable id, recorded with its bot, and a token whose ``sub`` is that id and
whose ``aud`` is that bot. ``conversation_token`` signs a fresh token for an
existing conversation, always for the bot the conversation belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.models import Bot, BotUnavailable
from django.conf import settings

from chat_contract.tokens import issue_token, new_conversation_id

from .models import Conversation


@dataclass(frozen=True)
class ChatGrant:
    """What a widget needs to talk to a bot: the conversation, its bot, a signed token and its expiry."""

    conversation_id: str
    bot_id: str
    token: str
    expires_at: int

    def as_json(self) -> dict[str, object]:
        """The token endpoint's answer (``session_id`` is the conversation, as Rasa calls it)."""
        return {
            "token": self.token,
            "session_id": self.conversation_id,
            "bot": self.bot_id,
            "expires_at": self.expires_at,
        }


def _grant(conversation: Conversation, bot: Bot, anonymous: bool = False) -> ChatGrant:
    token, expires = issue_token(
        conversation.id,
        bot_id=bot.id,
        secret=bot.jwt_secret(),
        lifetime=settings.RASA_JWT_LIFETIME,
        anonymous=anonymous,
    )
    return ChatGrant(conversation_id=conversation.id, bot_id=bot.id, token=token, expires_at=expires)


def conversation_start(*, bot: Bot) -> ChatGrant:
    """Start a new conversation with ``bot`` and sign its first token.

    Raises:
        BotUnavailable: The bot is disabled, or its secret is not set (nothing is written then).
    """
    if not bot.enabled:
        raise BotUnavailable(f"bot {bot.id!r} is disabled")
    bot.jwt_secret()  # fail before writing anything
    conversation = Conversation.objects.create(id=new_conversation_id(), bot=bot)
    return _grant(conversation, bot)


def conversation_token(*, conversation: Conversation, anonymous: bool = False) -> ChatGrant:
    """A fresh token for an existing conversation, for the bot it belongs to.

    ``anonymous``: the token's ``aud`` is the bot's opaque audience, not its id (a blind study's participant can
    decode the token; it must not name the bot).

    Raises:
        BotUnavailable: Its bot is disabled or its secret is not set.
    """
    bot = conversation.bot
    if not bot.enabled:
        raise BotUnavailable(f"bot {bot.id!r} is disabled")
    return _grant(conversation, bot, anonymous=anonymous)
