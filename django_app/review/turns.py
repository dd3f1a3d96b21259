"""What a reviewer needs of one conversation, read from Rasa's tracker: pure functions, no Django, no I/O.

``review_turns`` turns a tracker (``GET /conversations/<id>/tracker``) into one :class:`ReviewTurn` per user
message: the text, the intent and confidence Rasa predicted, the two runners-up, the entities, and the actions
and bot replies that followed. ``conversation_flags`` sums up what the inbox sorts by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Rasa's intent when the NLU is unsure (FallbackClassifier), and the actions that answer a misunderstanding.
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_clarify", "action_default_fallback", "action_two_stage_fallback"})
HANDOFF_ACTION = "action_handoff"
#: Actions Rasa runs on every turn; not shown.
ROUTINE_ACTIONS = frozenset({"action_listen", "action_session_start"})
#: Below this confidence a message counts as "low confidence" in the inbox.
LOW_CONFIDENCE = 0.5


@dataclass
class ReviewTurn:
    """One user message and what followed it."""

    text: str
    timestamp: float | None = None
    intent: str = ""
    confidence: float | None = None
    runners_up: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    @property
    def fallback(self) -> bool:
        """Whether Rasa fell back or asked for clarification on this message."""
        return self.intent == FALLBACK_INTENT or any(a in FALLBACK_ACTIONS for a in self.actions)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _entities(parse: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ent in parse.get("entities") or []:
        if not isinstance(ent, dict) or not ent.get("entity"):
            continue
        item = {"entity": str(ent["entity"]), "value": str(ent.get("value", ""))}
        if isinstance(ent.get("start"), int) and isinstance(ent.get("end"), int):
            item.update(start=ent["start"], end=ent["end"])
        out.append(item)
    return out


def _runners_up(parse: dict[str, Any], intent: str, count: int = 2) -> list[dict[str, Any]]:
    ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, dict) and r.get("name")]
    # the FallbackClassifier puts nlu_fallback first; the runners-up are the intents below the prediction
    others = [r for r in ranking if r.get("name") not in (intent, FALLBACK_INTENT)]
    return [{"name": str(r["name"]), "confidence": _number(r.get("confidence"))} for r in others[:count]]


def review_turns(tracker: dict[str, Any]) -> list[ReviewTurn]:
    """The tracker's user messages in order, each with what Rasa predicted and did after it.

    The whole history, across ``restart`` events (the importer asks Rasa for every event), so a message keeps its
    position from one import to the next.
    """
    turns: list[ReviewTurn] = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent_data = parse.get("intent") or {}
            intent = str(intent_data.get("name") or "")
            turns.append(
                ReviewTurn(
                    text=str(event.get("text") or ""),
                    timestamp=_number(event.get("timestamp")),
                    intent=intent,
                    confidence=_number(intent_data.get("confidence")),
                    runners_up=_runners_up(parse, intent),
                    entities=_entities(parse),
                )
            )
        elif kind == "action" and turns and event.get("name") not in ROUTINE_ACTIONS:
            turns[-1].actions.append(str(event.get("name")))
        elif kind == "bot" and turns and event.get("text"):
            turns[-1].replies.append(str(event["text"]))
    return turns


@dataclass(frozen=True)
class Flags:
    """What the inbox sorts and filters a conversation by."""

    user_messages: int
    fallbacks: int
    low_confidence: int
    handoff: bool
    min_confidence: float | None
    intents: tuple[str, ...]

    def priority(self, *, annotations: int = 0, unsuccessful: bool = False) -> int:
        """Where the conversation goes in the inbox: misunderstandings and unhappy endings first."""
        return 3 * self.fallbacks + 2 * self.low_confidence + 3 * annotations + 5 * self.handoff + 4 * unsuccessful


def conversation_flags(turns: Iterable[ReviewTurn], *, low_confidence: float = LOW_CONFIDENCE) -> Flags:
    """Count fallbacks, low-confidence messages and the hand-over of a conversation's turns."""
    turns = list(turns)
    confidences = [t.confidence for t in turns if t.confidence is not None]
    intents = sorted({t.intent for t in turns if t.intent})
    return Flags(
        user_messages=len(turns),
        fallbacks=sum(t.fallback for t in turns),
        low_confidence=sum(1 for c in confidences if c < low_confidence),
        handoff=any(HANDOFF_ACTION in t.actions for t in turns),
        min_confidence=min(confidences) if confidences else None,
        intents=tuple(intents),
    )


def ended_unsuccessfully(turns: list[ReviewTurn]) -> bool:
    """A live conversation whose last message was not understood, or that ended with a hand-over."""
    return bool(turns) and (turns[-1].fallback or HANDOFF_ACTION in turns[-1].actions)
