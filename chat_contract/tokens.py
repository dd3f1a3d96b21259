"""The widget's JWTs: signed by Django, checked by every bot server. Pure functions, no I/O.

A token grants one conversation (``sub``) with one bot (``aud``, the bot's id in
the registry) until ``exp``. Each bot server accepts only its own audience, so a
token issued for bot A is refused by bot B even when both share a secret, and a
conversation id is never valid on another bot's server.

A JWT's claims are readable by whoever holds it. Where the bot must stay anonymous
(a blind study), ``aud`` is an opaque audience instead: a keyed hash of the bot id
under the bot's secret (``opaque_audience``), which the bot's server recomputes and
nobody without the secret can map back to a bot.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from .constants import JWT_ALGORITHM, MAX_TOKEN_LIFETIME

#: Conversation ids Django issues are 32 hex characters; accept a safe superset.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_-]{8,128}")
#: Bot ids are slugs (the registry's primary key).
BOT_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,48}[a-z0-9])?")


class TokenRejected(Exception):
    """A token that must not open or continue a conversation. The message never contains the token."""


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: one conversation with one bot, until ``expires_at``."""

    conversation_id: str
    bot_id: str
    expires_at: int

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


def new_conversation_id() -> str:
    """A fresh, unguessable conversation (Rasa sender) id."""
    return uuid.uuid4().hex


def opaque_audience(bot_id: str, secret: str) -> str:
    """The ``aud`` of a token that must not name its bot: ``x-`` and 32 hex digits of HMAC-SHA256(secret, bot id).

    Only a holder of the bot's secret can tell which bot it stands for (the bot's server recomputes it).
    """
    digest = hmac.new(secret.encode("utf-8"), b"chat-contract-aud:" + bot_id.encode("utf-8"), hashlib.sha256)
    return "x-" + digest.hexdigest()[:32]


def issue_token(
    conversation_id: str,
    *,
    bot_id: str,
    secret: str,
    lifetime: int,
    now: float | None = None,
    anonymous: bool = False,
) -> tuple[str, int]:
    """Sign a token for one conversation with one bot.

    Args:
        conversation_id: Becomes the ``sub`` claim.
        bot_id: Becomes the ``aud`` claim: only that bot's server accepts the token.
        anonymous: ``aud`` is the bot's opaque audience (``opaque_audience``) instead of its id, so the token,
            which its holder can decode, does not name the bot (blind studies).
        secret: The bot's HS256 key (``RASA_JWT_SECRET`` or the variable its registry entry names).
        lifetime: Seconds until ``exp``.
        now: The current time (for tests).

    Returns:
        The token and its expiry as a Unix timestamp.
    """
    issued = int(now if now is not None else time.time())
    expires = issued + lifetime
    aud = opaque_audience(bot_id, secret) if anonymous else bot_id
    payload = {"sub": conversation_id, "aud": aud, "iat": issued, "exp": expires}
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM), expires


def verify_token(
    token: Any,
    *,
    key: str,
    audience: str | Collection[str],
    algorithm: str = JWT_ALGORITHM,
    max_lifetime: int = MAX_TOKEN_LIFETIME,
    leeway: int = 5,
    now: float | None = None,
) -> Grant:
    """Check a token and return the conversation and bot it grants.

    The algorithm is pinned (a token's own ``alg`` header is not trusted, so
    ``none`` and algorithm confusion fail), ``exp``, ``sub`` and ``aud`` are
    required, ``aud`` must be one string naming a bot this server serves
    (``audience``), by its id or by its opaque audience under ``key``, ``exp``
    may be at most ``max_lifetime`` seconds away, and ``nbf``/``iat`` in the
    future are refused.

    Args:
        token: What the client sent (a ``Bearer `` prefix is stripped).
        key: The HS key.
        audience: The bot id this server serves, or the set of them (the scripted-bot server serves several).
        algorithm: The one algorithm accepted.
        max_lifetime: Seconds ``exp`` may be away at most.
        leeway: Clock skew allowed for ``nbf`` and ``iat`` (never for ``exp``).
        now: The current time (for tests).

    Raises:
        TokenRejected: With a reason fit for a log line.
    """
    audiences = {audience} if isinstance(audience, str) else set(audience)
    if not audiences:
        raise ValueError("verify_token needs the audience (bot id) this server serves")
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
            # nbf and iat get ``leeway`` for clock skew between Django and the bot, below;
            # aud is checked below (exactly one bot, not PyJWT's any-of-a-list).
            options={"require": ["exp", "sub", "aud"], "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("bad signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected(f"missing claim {exc.claim!r}") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"invalid token ({type(exc).__name__})") from exc
    aud = claims["aud"]
    if isinstance(aud, str) and aud not in audiences and aud.startswith("x-"):
        aud = next((a for a in audiences if hmac.compare_digest(opaque_audience(a, key), aud)), aud)
    if not isinstance(aud, str) or aud not in audiences:
        shown = aud if isinstance(aud, str) and BOT_ID.fullmatch(aud) else "?"
        raise TokenRejected(f"token for another bot (aud {shown!r})")
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
    return Grant(conversation_id=sub, bot_id=aud, expires_at=int(exp))
