"""Rasa's REST channel, with the same conversation-bound tokens as the socket.io channel.

Stock ``rest`` lets any caller post as any ``sender``. Here the caller sends
``Authorization: Bearer <token>``; the conversation is the token's ``sub``, the
token must be for this bot (``aud`` = ``audience``, as on the socket.io channel), and
a ``sender`` naming another conversation is refused. Served at
``/webhooks/rest/webhook`` as before.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic.exceptions import Forbidden, Unauthorized
from sanic.exceptions import InvalidUsage as BadRequest  # named BadRequest in later Sanic releases
from sanic.request import Request

from chat_contract import DEFAULT_BOT_ID, MAX_MESSAGE_CHARS, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH
from chat_contract.limits import MessageRejected, parse_user_message
from chat_contract.tokens import TokenRejected, verify_token

from .secure_socketio import channel_audience

logger = logging.getLogger(__name__)


class SecureRestInput(RestInput):
    """REST input channel that requires a token bound to the conversation."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureRestInput:
        credentials = credentials or {}
        key = credentials.get("jwt_key")
        if not key or len(str(key)) < MIN_KEY_LENGTH:
            raise ValueError(f"secure REST channel: jwt_key must be set and at least {MIN_KEY_LENGTH} characters")
        max_token_lifetime = int(credentials.get("max_token_lifetime") or MAX_TOKEN_LIFETIME)
        if not 0 < max_token_lifetime <= MAX_TOKEN_LIFETIME:
            raise ValueError(
                f"secure REST channel: max_token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds"
            )
        return cls(
            jwt_key=str(key),
            audience=channel_audience(credentials, "secure REST channel"),
            max_token_lifetime=max_token_lifetime,
            max_message_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS),
        )

    def __init__(
        self,
        jwt_key: str,
        audience: str = DEFAULT_BOT_ID,
        max_token_lifetime: int = MAX_TOKEN_LIFETIME,
        max_message_chars: int = MAX_MESSAGE_CHARS,
    ) -> None:
        self.jwt_key = jwt_key
        self.audience = audience
        self.max_token_lifetime = max_token_lifetime
        self.max_message_chars = max_message_chars

    def _body(self, req: Request) -> dict:
        try:
            body = req.json
        except BadRequest:
            raise
        except Exception as exc:  # malformed JSON
            raise BadRequest("the body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    async def _extract_sender(self, req: Request) -> str | None:
        header = req.headers.get("authorization", "")
        try:
            grant = verify_token(header, key=self.jwt_key, audience=self.audience, max_lifetime=self.max_token_lifetime)
        except TokenRejected as exc:
            logger.warning("REST message refused from %s: %s", req.ip, exc)
            raise Unauthorized("a valid token is required", scheme="Bearer") from None
        sender = self._body(req).get("sender")
        if sender is not None and sender != grant.conversation_id:
            logger.warning("REST message refused from %s: sender is another conversation", req.ip)
            raise Forbidden("the token is for another conversation")
        return grant.conversation_id

    def _extract_message(self, req: Request) -> str | None:
        try:
            text, _, _ = parse_user_message(self._body(req), max_chars=self.max_message_chars)
        except MessageRejected as exc:
            raise BadRequest(exc.detail) from None
        return text

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = self._body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None
