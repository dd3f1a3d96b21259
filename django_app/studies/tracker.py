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


def tracker_fetch(
    *, api_url: str, token: str | None, conversation_id: str, timeout: float = 10.0, include_events: str | None = None
) -> dict[str, Any]:
    """The tracker of one conversation from Rasa's HTTP API (``GET /conversations/<id>/tracker``).

    ``include_events``: Rasa's parameter of that name (``ALL``: the events before a restart too; Rasa's default,
    ``AFTER_RESTART``, when None).

    Raises:
        TrackerUnavailable: The server did not answer, refused, or answered something that is not a tracker.
    """
    params = {"token": token} if token else {}
    if include_events:
        params["include_events"] = include_events
    query = urllib.parse.urlencode(params)
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


def bot_replies(tracker: dict[str, Any]) -> list[str]:
    """The bot's replies in order (after the last restart), as Rasa recorded them; ``""`` for one without text."""
    replies: list[str] = []
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "bot":
            replies.append(str(event.get("text") or ""))
        elif kind == "restart":
            replies = []
    return replies


def _squash(text: str) -> str:
    return "".join(text.lower().split())


def reply_groups(shown: list[tuple[str, str]]) -> list[list[int]]:
    """Which of the bot messages a page recorded came from one reply: lists of positions in ``shown``.

    ``shown`` holds ``(text, before_transforms)`` of the bot messages in order. A study's ``sentences`` transform
    shows one reply as several messages, each recorded with the whole reply as ``before_transforms``; consecutive
    pieces of one reply are grouped until their texts (case and spaces aside) make up the whole reply.
    """
    groups: list[list[int]] = []
    covered = ""
    for i, (text, before) in enumerate(shown):
        if groups and before and shown[groups[-1][-1]][1] == before and covered != _squash(before):
            groups[-1].append(i)
            covered += _squash(text)
        else:
            groups.append([i])
            covered = _squash(text)
    return groups


def reply_differences(shown: list[tuple[str, str]], replies: list[str]) -> tuple[dict[int, str], str]:
    """Compare what a page recorded for the bot's messages with the tracker's replies.

    Returns:
        ``{position in shown: the tracker's reply}`` for each recorded message whose reply differs from the
        tracker's, and a sentence describing the differences (empty when they agree).
    """
    groups = reply_groups(shown)
    differing: dict[int, str] = {}
    for group, reply in zip(groups, replies, strict=False):
        text, before = shown[group[0]]
        if (before or text) != reply:
            differing.update({i: reply for i in group})
    problems = []
    if len(groups) != len(replies):
        problems.append(f"the page recorded {len(groups)} bot replies, Rasa's tracker has {len(replies)}")
    if differing:
        first = min(differing)
        problems.append(f"{len(differing)} bot messages differ from the tracker's replies (the first at #{first})")
    return differing, "; ".join(problems)


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
