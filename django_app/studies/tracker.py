"""What Rasa predicted and did, read from its HTTP API (the tracker), and the scenarios' success checks.

``tracker_fetch`` is the only function here that does I/O; the rest are pure, so tests feed them trackers
captured from a real Rasa server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

#: Actions Rasa runs on every turn; not interesting in an export.
ROUTINE_ACTIONS = frozenset({"action_listen", "action_session_start"})


class TrackerUnavailable(Exception):
    """Rasa's HTTP API could not be read; the message says why."""


@dataclass
class UserTurn:
    """One user message as Rasa saw it, and the actions it ran in answer."""

    text: str
    intent: str = ""
    confidence: float | None = None
    actions: list[str] = field(default_factory=list)


def tracker_fetch(*, api_url: str, token: str | None, conversation_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The tracker of one conversation from Rasa's HTTP API (``GET /conversations/<id>/tracker``).

    Raises:
        TrackerUnavailable: The server did not answer, refused, or answered something that is not a tracker.
    """
    query = urllib.parse.urlencode({"token": token} if token else {})
    url = f"{api_url.rstrip('/')}/conversations/{urllib.parse.quote(conversation_id, safe='')}/tracker"
    if query:
        url += f"?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the registry's http(s) URL
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise TrackerUnavailable(f"Rasa's HTTP API answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TrackerUnavailable(f"Rasa's HTTP API is unreachable ({getattr(exc, 'reason', exc)})") from None
    except ValueError:
        raise TrackerUnavailable("Rasa's HTTP API answered something that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise TrackerUnavailable("Rasa's HTTP API answered something that is not a tracker")
    return data


def user_turns(tracker: dict[str, Any]) -> list[UserTurn]:
    """The tracker's user messages in order, with intent, confidence and the actions run after each."""
    turns: list[UserTurn] = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            confidence = intent.get("confidence")
            turns.append(
                UserTurn(
                    text=str(event.get("text") or ""),
                    intent=str(intent.get("name") or ""),
                    confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
                )
            )
        elif kind == "action" and turns and event.get("name") not in ROUTINE_ACTIONS:
            turns[-1].actions.append(str(event.get("name")))
        elif kind == "restart":
            turns = []
    return turns


def actions_run(tracker: dict[str, Any]) -> set[str]:
    """Every action the tracker records."""
    return {str(e.get("name")) for e in tracker.get("events") or [] if e.get("event") == "action"}


def success_check(*, action: str, slot: str, value: str, tracker: dict[str, Any]) -> bool:
    """Whether the conversation met its scenario's check: the action ran, and the slot holds the value (or any)."""
    ok = True
    if action:
        ok = action in actions_run(tracker)
    if slot:
        held = (tracker.get("slots") or {}).get(slot)
        ok = ok and held not in (None, "", []) and (not value or str(held) == value)
    return ok
