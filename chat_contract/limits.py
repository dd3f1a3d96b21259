"""Validation and rate limiting of what a socket.io client sends: pure, no I/O."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any


class MessageRejected(Exception):
    """A client event that is refused; ``code`` goes back to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class RateLimiter:
    """Token bucket: ``burst`` messages at once, refilled at ``per_second``."""

    burst: float
    per_second: float
    tokens: float = field(default=-1.0)
    stamp: float = field(default=0.0)

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens, self.stamp = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def parse_user_message(data: Any, *, max_chars: int, max_metadata_bytes: int = 2048) -> tuple[str, str | None, dict]:
    """Check a ``user_uttered`` payload.

    Returns:
        The text, the session id the client named (or ``None``), and the metadata.

    Raises:
        MessageRejected: The payload is not an object, has wrong types, or is too large.
    """
    if not isinstance(data, dict):
        raise MessageRejected("bad_request", f"payload must be an object, got {type(data).__name__}")
    text = data.get("message")
    if not isinstance(text, str):
        raise MessageRejected("bad_request", "'message' must be a string")
    if len(text) > max_chars:
        raise MessageRejected("too_long", f"message has {len(text)} characters, at most {max_chars} are allowed")
    if not text.strip():
        raise MessageRejected("bad_request", "'message' is empty")
    session_id = data.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        raise MessageRejected("bad_request", "'session_id' must be a string")
    metadata = data.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise MessageRejected("bad_request", "'metadata' must be an object")
    if len(json.dumps(metadata, default=str)) > max_metadata_bytes:
        raise MessageRejected("too_long", f"metadata larger than {max_metadata_bytes} bytes")
    return text, session_id, metadata
