"""Trackers as Rasa's HTTP API returns them, for the review inbox's tests (shapes as Rasa 3.6 writes them)."""

from __future__ import annotations

from typing import Any

T0 = 1_764_676_800.0  # 2025-12-02 12:00 UTC


def user(text: str, intent: str, confidence: float, ranking: list[tuple[str, float]] = (), entities=(), t=0.0):
    return {
        "event": "user",
        "timestamp": T0 + t,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}]
            + [{"name": n, "confidence": c} for n, c in ranking],
            "entities": [
                {"entity": e, "start": s, "end": end, "value": text[s:end], "extractor": "CRFEntityExtractor"}
                for e, s, end in entities
            ],
        },
    }


def action(name: str, t: float = 0.0) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": T0 + t}


def bot(text: str, t: float = 0.0) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": T0 + t, "data": {}}


def session_start() -> list[dict[str, Any]]:
    return [action("action_session_start"), {"event": "session_started", "timestamp": T0}, action("action_listen")]


def misunderstood_tracker(sender: str = "c1") -> dict[str, Any]:
    """A greeting understood, an order-status question taken for a fallback, then a hand-over."""
    events = [
        *session_start(),
        user("hello there", "greet", 0.97, [("goodbye", 0.01), ("thank_you", 0.01)], t=1),
        action("utter_greet", 1),
        bot("Hi! How can I help?", 1),
        action("action_listen", 1),
        user(
            "wheres my parcel 5342765, mail me at jo@example.com",
            "nlu_fallback",
            0.3,
            [("check_order_status", 0.28), ("track_refund", 0.2), ("cancel_order", 0.1)],
            entities=[("order_id", 17, 24)],
            t=2,
        ),
        action("action_clarify", 2),
        bot("Did you mean: order status, or refund?", 2),
        action("action_listen", 2),
        user("talk to a human", "human_handoff", 0.41, [("greet", 0.2), ("goodbye", 0.1)], t=3),
        action("action_handoff", 3),
        bot("I have opened ticket 12 for you.", 3),
        action("action_listen", 3),
    ]
    return {"sender_id": sender, "events": events, "slots": {}}
