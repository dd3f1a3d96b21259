"""HistoryTracker answers exactly as Rasa's DialogueStateTracker, after every event of many conversations."""

from __future__ import annotations

import copy
import dataclasses
import random

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_UNLIKELY_INTENT_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_bot.stores.history_tracker import HistoryTracker

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, cancel_order, inform, deny, affirm]
entities: [order_id, city]
slots:
  order_id: {type: text, mappings: [{type: from_entity, entity: order_id}]}
  city: {type: categorical, values: [lisbon, porto], mappings: [{type: from_entity, entity: city}]}
  confirmed: {type: bool, mappings: [{type: custom}]}
  count: {type: float, initial_value: 1.0, mappings: [{type: custom}]}
  quiet: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  requested_slot: {type: text, mappings: [{type: custom}]}
forms:
  cancel_form: {required_slots: [order_id]}
  address_form: {required_slots: [city]}
responses:
  utter_greet: [{text: "hi"}]
  utter_ask: [{text: "which?"}]
actions: [action_check, action_done]
"""
)
RULE_ONLY = {"rule_only_slots": ["confirmed"], "rule_only_loops": ["address_form"]}
ACTIONS = [
    "utter_greet",
    "utter_ask",
    "action_check",
    "action_done",
    "cancel_form",
    "address_form",
    ACTION_LISTEN_NAME,
    ACTION_UNLIKELY_INTENT_NAME,
]
INTENTS = ["greet", "cancel_order", "inform", "deny", "affirm", None]


def make_event(rng: random.Random, t: float):
    """One random event of a kind Rasa writes into trackers."""
    kind = rng.choices(
        [
            "user",
            "action",
            "bot",
            "slot",
            "loop",
            "rewind",
            "undo",
            "restart",
            "session",
            "reset",
            "followup",
            "interrupt",
            "reject",
            "define",
            "entities",
            "pause",
        ],
        weights=[12, 16, 6, 6, 4, 1.5, 1, 0.5, 0.5, 0.5, 1, 1, 1, 2, 1, 0.5],
    )[0]
    if kind == "user":
        intent = rng.choice(INTENTS)
        entities = rng.choice(
            [
                [],
                [{"entity": "order_id", "value": "12"}],
                [{"entity": "city", "value": "porto"}],
                [{"entity": "order_id", "value": "1", "role": "old"}],
            ]
        )
        text = rng.choice(["hello", "order 12", "", None, "porto"])
        return UserUttered(text, {"name": intent, "confidence": 0.9} if intent else {}, entities, timestamp=t)
    if kind == "action":
        return ActionExecuted(
            rng.choice(ACTIONS),
            policy=rng.choice([None, "policy_1_RulePolicy"]),
            hide_rule_turn=rng.random() < 0.4,
            timestamp=t,
        )
    if kind == "bot":
        return BotUttered(rng.choice(["hi", "which?"]), timestamp=t)
    if kind == "slot":
        name = rng.choice(["order_id", "city", "confirmed", "count", "quiet", "requested_slot", "unknown"])
        value = {
            "order_id": ["12", None],
            "city": ["porto", "lisbon", "faro", None],
            "confirmed": [True, False, None],
            "count": [2.0, 0.0, None],
            "quiet": ["x"],
            "requested_slot": ["order_id", None],
            "unknown": [1],
        }[name]
        return SlotSet(name, rng.choice(value), timestamp=t)
    if kind == "loop":
        return ActiveLoop(rng.choice(["cancel_form", "address_form", None]), timestamp=t)
    if kind == "rewind":
        return UserUtteranceReverted(timestamp=t)
    if kind == "undo":
        return ActionReverted(timestamp=t)
    if kind == "restart":
        return Restarted(timestamp=t)
    if kind == "session":
        return SessionStarted(timestamp=t)
    if kind == "reset":
        return AllSlotsReset(timestamp=t)
    if kind == "followup":
        return FollowupAction(rng.choice(["action_check", "utter_greet"]), timestamp=t)
    if kind == "interrupt":
        return LoopInterrupted(rng.random() < 0.5, timestamp=t)
    if kind == "reject":
        return ActionExecutionRejected(rng.choice(["cancel_form", "address_form"]), timestamp=t)
    if kind == "define":
        return DefinePrevUserUtteredFeaturization(rng.random() < 0.5, timestamp=t)
    if kind == "entities":
        return EntitiesAdded([{"entity": "city", "value": "porto"}], timestamp=t)
    return ConversationPaused(timestamp=t) if rng.random() < 0.5 else ConversationResumed(timestamp=t)


def stock_view(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A plain tracker with the same events, for Rasa's own methods (which read only the events)."""
    plain = DialogueStateTracker(tracker.sender_id, tracker.slots.values())
    plain.events.extend(tracker.events)
    return plain


def fields(tracker: DialogueStateTracker) -> dict:
    """A tracker's state as comparable values."""
    return {
        "type_free_slots": {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
        "paused": tracker._paused,
        "followup": tracker.followup_action,
        "latest_action": tracker.latest_action,
        "latest_message": tracker.latest_message,
        "latest_bot_utterance": tracker.latest_bot_utterance,
        "active_loop": dataclasses.asdict(tracker.active_loop) if tracker.active_loop else None,
        "events": list(tracker.events),
        "sender_id": tracker.sender_id,
        "model_id": tracker.model_id,
        "assistant_id": tracker.assistant_id,
        "sender_source": tracker.sender_source,
    }


def check_all(ours: HistoryTracker, reference: DialogueStateTracker) -> None:
    """Every method HistoryTracker overrides gives what Rasa's gives."""
    plain = stock_view(ours)
    assert ours.applied_events() == plain.applied_events()
    assert fields(ours) == fields(reference)  # the tracker's own state (updates, rewinds' replay_events)
    mine, theirs = ours.copy(), reference.copy()
    assert fields(mine) == fields(theirs)
    assert mine.applied_events() == theirs.applied_events()
    for ignore, rule_only in ((False, None), (True, None), (True, RULE_ONLY), (False, RULE_ONLY)):
        expected = DOMAIN.states_for_tracker_history(plain, ignore_rule_only_turns=ignore, rule_only_data=rule_only)
        got = ours.past_states(DOMAIN, ignore_rule_only_turns=ignore, rule_only_data=rule_only)
        assert got == expected
        assert sharing(got) == sharing(expected)  # callers change parts in place: shared alike
    states, total = ours.recent_states(DOMAIN, 3)
    expected = DOMAIN.states_for_tracker_history(plain)
    assert (states, total) == (expected[-3:], len(expected))
    ml = DOMAIN.states_for_tracker_history(plain, ignore_rule_only_turns=True)
    assert ours.memoization_state_count() == len(
        [s for s in ml if s.get("prev_action", {}).get("action_name") != ACTION_UNLIKELY_INTENT_NAME]
    )


def sharing(states: list[dict]) -> list:
    """Which parts of which states are one and the same object."""
    first: dict[int, tuple] = {}
    out = []
    for i, state in enumerate(states):
        for key, part in state.items():
            out.append((i, key, first.setdefault(id(part), (i, key))))
    return out


def run_conversation(seed: int, length: int, check_every: int = 1) -> None:
    rng = random.Random(seed)
    ours = HistoryTracker("c", DOMAIN.slots)
    reference = DialogueStateTracker("c", DOMAIN.slots)
    t = 1.0
    for n in range(length):
        t += 1.0
        event = make_event(rng, t)
        ours.update(event)
        reference.update(copy.deepcopy(event) if False else event)
        if n % check_every == 0 or n == length - 1:
            check_all(ours, reference)
        if rng.random() < 0.05:  # as Rasa's processor: act on a copy, then go on with it
            ours, reference = ours.copy(), reference.copy()


@pytest.mark.parametrize("seed", range(40))
def test_random_conversations_match_rasa_after_every_event(seed):
    run_conversation(seed, 120)
