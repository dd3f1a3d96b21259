"""Checking the widget's JWTs: pure functions, no Rasa, no I/O."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

#: Conversation ids Django issues are 32 hex characters; accept a safe superset.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{8,128}")


class TokenRejected(Exception):
    """A token that must not open or continue a conversation. The message never contains the token."""


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: one conversation, until ``expires_at``."""

    conversation_id: str
    expires_at: int

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


def verify_token(
    token: Any,
    *,
    key: str,
    algorithm: str = "HS256",
    max_lifetime: int = 900,
    leeway: int = 5,
    now: float | None = None,
) -> Grant:
    """Check a token and return the conversation it grants.

    The algorithm is pinned (a token's own ``alg`` header is not trusted, so
    ``none`` and algorithm confusion fail), ``exp`` and ``sub`` are required,
    ``exp`` may be at most ``max_lifetime`` seconds away, and ``nbf``/``iat``
    in the future are refused.

    Raises:
        TokenRejected: With a reason fit for a log line.
    """
    if not isinstance(token, str) or not token:
        raise TokenRejected("no token")
    if token.lower().startswith("bearer "):
        token = token[7:]
    if len(token) > 4096:
        raise TokenRejected("token too long")
    current = time.time() if now is None else now
    try:
        claims: Mapping[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            # exp is checked strictly (no leeway: an expired token never connects);
            # nbf and iat get ``leeway`` for clock skew between Django and Rasa, below.
            options={"require": ["exp", "sub"], "verify_iat": False, "verify_nbf": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("bad signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected(f"missing claim {exc.claim!r}") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"invalid token ({type(exc).__name__})") from exc
    exp = claims["exp"]
    if not isinstance(exp, int | float) or exp - current > max_lifetime + leeway:
        raise TokenRejected(f"exp more than {max_lifetime} s away")
    for claim in ("nbf", "iat"):
        value = claims.get(claim)
        if value is not None and (not isinstance(value, int | float) or value - current > leeway):
            raise TokenRejected(f"token not yet valid ({claim} in the future)")
    sub = claims["sub"]
    if not isinstance(sub, str) or not CONVERSATION_ID.fullmatch(sub):
        raise TokenRejected("sub is not a conversation id")
    return Grant(conversation_id=sub, expires_at=int(exp))
