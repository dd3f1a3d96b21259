"""What the site and every bot server agree on: token claims, limits, default ports.

Django (which signs tokens), Rasa's input channels and the project's scripted-bot
server (which check them) and the launcher all import these values from here,
so each is written once. The package is pure Python (PyJWT only): no Django, no
Rasa, safe to import anywhere.
"""

from .constants import (
    DEFAULT_BOT_ID,
    DEFAULT_PORTS,
    JWT_ALGORITHM,
    JWT_ALGORITHMS,
    MAX_MESSAGE_CHARS,
    MAX_TOKEN_LIFETIME,
    MIN_KEY_LENGTH,
    MIN_TOKEN_LIFETIME,
    RUN_BOTS_PORTS,
)
from .tokens import BOT_ID, CONVERSATION_ID, Grant, TokenRejected, issue_token, new_conversation_id, verify_token

__all__ = [
    "BOT_ID",
    "CONVERSATION_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_PORTS",
    "JWT_ALGORITHM",
    "JWT_ALGORITHMS",
    "MAX_MESSAGE_CHARS",
    "MAX_TOKEN_LIFETIME",
    "MIN_KEY_LENGTH",
    "MIN_TOKEN_LIFETIME",
    "RUN_BOTS_PORTS",
    "Grant",
    "TokenRejected",
    "issue_token",
    "new_conversation_id",
    "verify_token",
]
