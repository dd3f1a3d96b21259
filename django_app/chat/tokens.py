"""Signing the short-lived JWTs that let a browser talk to Rasa's socket.io channel."""

from __future__ import annotations

import time
import uuid

import jwt

ALGORITHM = "HS256"


def new_conversation_id() -> str:
    """A fresh, unguessable conversation (Rasa sender) id."""
    return uuid.uuid4().hex


def issue_token(conversation_id: str, *, secret: str, lifetime: int, now: float | None = None) -> tuple[str, int]:
    """Sign a token for one conversation.

    Args:
        conversation_id: Becomes the ``sub`` claim.
        secret: The HS256 key shared with Rasa (``RASA_JWT_SECRET``).
        lifetime: Seconds until ``exp``.
        now: The current time (for tests).

    Returns:
        The token and its expiry as a Unix timestamp.
    """
    issued = int(now if now is not None else time.time())
    expires = issued + lifetime
    payload = {"sub": conversation_id, "iat": issued, "exp": expires}
    return jwt.encode(payload, secret, algorithm=ALGORITHM), expires
