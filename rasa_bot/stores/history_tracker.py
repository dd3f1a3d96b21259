"""A tracker whose cost per message does not grow with the conversation's length.

Rasa 3.6 works out a conversation's history again from its first event every
time it needs it: ``applied_events()`` folds over all events (and copies the
list at every rewind), ``copy()`` replays all events into a new tracker (twice
per message: once before each action runs), and ``past_states()`` replays
them once more to build one dialogue state per action, for every policy and
every prediction (five times per message here). On the demo bot that made a
message at 200 messages of history cost 44 ms against 6 ms at 10
(docs/rasa_bot.md, "Long conversations").

:class:`HistoryTracker` is a ``DialogueStateTracker`` that keeps that work
between calls, in a :class:`_History` made of:

* the applied events, extended as events arrive by the same fold as
  ``applied_events()`` (restarts, new sessions, rewinds and form executions
  handled as Rasa does; a rewind pops from the end instead of copying the list);
* a replay tracker positioned after the applied events, and one snapshot of it
  before each ``ActionExecuted`` (what ``generate_all_prior_trackers`` yields),
  with the slots and loop parts of that turn's state. When a rewind or a form
  execution takes applied events away, the replay goes back to the last
  snapshot before the first changed event and replays from there.

From these, ``applied_events()`` is a list copy, ``copy()`` copies the
tracker's fields (its state is by construction the replay of its events), a
rewind's ``replay_events()`` takes the replay tracker's state, and
``past_states()`` / :meth:`HistoryTracker.recent_states` build states from the
snapshots. The user part of each state is computed at the time of the call,
from the message object, as Rasa does: events such as
``DefinePrevUserUtteredFeaturization`` and ``EntitiesAdded`` change earlier
message objects in place, and Rasa's states follow those changes.

Anything this module does not know how to follow exactly (an event type other
than Rasa's own, ``max_event_history``, slots created on demand, events
replaced rather than appended, a time stamp that is not a number) makes the
tracker fall back to Rasa's own methods for good. Tests compare every method
with Rasa's, event by event, and whole conversations end to end.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from itertools import islice
from typing import Any

from rasa.shared.core.constants import (
    ACTION_UNLIKELY_INTENT_NAME,
    ACTIVE_LOOP,
    PREVIOUS_ACTION,
    SLOTS,
    USER,
)
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AgentUttered,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    FollowupAction,
    LoopInterrupted,
    ReminderCancelled,
    ReminderScheduled,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DEFAULT_SENDER_ID, DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_NAME

#: Event classes whose effect on a tracker this module follows (exact classes: a subclass may do more).
#: ``StoryExported`` is left out on purpose: applying it writes a file.
FOLLOWED_EVENTS = frozenset(
    {
        ActionExecuted,
        ActionExecutionRejected,
        ActionReverted,
        ActiveLoop,
        AgentUttered,
        AllSlotsReset,
        BotUttered,
        ConversationPaused,
        ConversationResumed,
        DefinePrevUserUtteredFeaturization,
        EntitiesAdded,
        FollowupAction,
        LoopInterrupted,
        ReminderCancelled,
        ReminderScheduled,
        Restarted,
        SessionStarted,
        SlotSet,
        UserUttered,
        UserUtteranceReverted,
    }
)
#: Events that Rasa's ``applied_events`` never keeps; they are not applied to the replay tracker.
_RESETS = (Restarted, SessionStarted)
#: What ``_undo_till_previous_loop_execution`` removes.
_FEATURIZED = (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)


def _is_number(value: Any) -> bool:
    # travel_back_in_time compares time stamps with infinity: NaN or None would stop or break a replay
    return isinstance(value, (int, float)) and value == value


class _Turn:
    """The replay tracker just before one applied ``ActionExecuted``: what one dialogue state is made of."""

    __slots__ = ("index", "snapshot", "hide", "keeps_hidden", "slots_state", "loop_state")

    def __init__(self, index: int, replay: DialogueStateTracker, hide: bool) -> None:
        self.index = index  # position of the ActionExecuted in the applied events
        self.snapshot = _snapshot(replay)
        self.hide = hide
        # states_for_tracker_history leaves `turn_was_hidden` as it was for a follow-up action or a loop's own turn
        self.keeps_hidden = bool(replay.followup_action) or replay.latest_action_name == replay.active_loop_name
        self.slots_state = Domain._get_slots_sub_state(replay)
        self.loop_state = Domain._get_active_loop_sub_state(replay)

    @property
    def latest_action(self) -> dict | None:
        return self.snapshot[4]

    @property
    def latest_message(self) -> UserUttered | None:
        return self.snapshot[5]


def _snapshot(tracker: DialogueStateTracker) -> tuple:
    """Everything an event can change in a tracker's state (not its events)."""
    slots = tracker.slots.values()
    loop = tracker.active_loop
    return (
        tuple(slot._value for slot in slots),
        tuple(slot._has_been_set for slot in slots),
        tracker._paused,
        tracker.followup_action,
        tracker.latest_action,
        tracker.latest_message,
        tracker.latest_bot_utterance,
        None if loop is None else dataclasses.replace(loop),
    )


def _restore(tracker: DialogueStateTracker, snapshot: tuple) -> None:
    """Put ``tracker`` (same slots as the snapshot's) in the snapshot's state."""
    values, set_flags, paused, followup, action, message, bot, loop = snapshot
    for slot, value, was_set in zip(tracker.slots.values(), values, set_flags, strict=True):
        slot._value = value
        slot._has_been_set = was_set
    tracker._paused = paused
    tracker.followup_action = followup
    tracker.latest_action = action
    tracker.latest_message = message
    tracker.latest_bot_utterance = bot
    tracker.active_loop = None if loop is None else dataclasses.replace(loop)


class _MessageOnly:
    """What ``Domain._get_user_sub_state`` reads of a tracker."""

    __slots__ = ("latest_message",)

    def __init__(self, message: UserUttered | None) -> None:
        self.latest_message = message


def _state(
    domain: Domain, message: UserUttered | None, slots: dict, action: dict | None, loop: dict, copy_action: bool = True
) -> State:
    """``Domain.get_active_state`` of a turn, in Rasa's order, empty parts left out; new dicts but for
    the action's unless ``copy_action`` (Rasa's is the tracker's own ``latest_action``)."""
    state: State = {}
    user = domain._get_user_sub_state(_MessageOnly(message))
    if user:
        state[USER] = user
    if slots:
        state[SLOTS] = dict(slots)
    if action:
        state[PREVIOUS_ACTION] = dict(action) if copy_action else action
    if loop:
        state[ACTIVE_LOOP] = dict(loop)
    return state


class _History:
    """Applied events, replay tracker and turns of one tracker's events, brought up to date on demand."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self.template = tracker  # for init_copy: sender, slots, max_event_history
        self.broken = False
        self._reset()

    def _reset(self) -> None:
        self.seen = 0  # events folded into `applied`
        self.last: Event | None = None  # the last of them, to notice events replaced behind our back
        self.loop_names: set[str] = set()
        self.executed: dict[str | None, int] = {}  # ActionExecuted seen, by action name
        self.applied: list[Event] = []
        self.changed_from = 0  # first index of `applied` that differs from what `replay` has seen
        self.replay = self.template.init_copy()
        self.replayed = 0  # applied events applied to `replay`
        self.turns: list[_Turn] = []
        # Domain.states_for_tracker_history with rule-only turns ignored (MemoizationPolicy), carried per turn:
        # whether the turn is hidden, the action its state shows, and how many states so far count for a key
        self.ml_hidden: list[bool] = []
        self.ml_last_action: list[dict | None] = []
        self.ml_counted: list[int] = []
        self.ml_kept: list[int] = []  # indexes of the turns that are not hidden

    def copy(self, tracker: DialogueStateTracker) -> _History:
        other = _History.__new__(_History)
        other.template = tracker
        other.broken = self.broken
        other.seen, other.last = self.seen, self.last
        other.loop_names = set(self.loop_names)
        other.executed = dict(self.executed)
        other.applied = list(self.applied)
        other.changed_from = self.changed_from
        other.replay = tracker.init_copy()
        _restore(other.replay, _snapshot(self.replay))
        other.replayed = self.replayed
        other.turns = list(self.turns)  # turns are never changed once made
        other.ml_hidden = list(self.ml_hidden)
        other.ml_last_action = list(self.ml_last_action)
        other.ml_counted = list(self.ml_counted)
        other.ml_kept = list(self.ml_kept)
        return other

    # -- applied events: DialogueStateTracker.applied_events, one event at a time --------------------

    def fold(self, tracker: DialogueStateTracker) -> bool:
        """Bring ``applied`` up to date with ``tracker.events``. False: follow Rasa's own methods instead."""
        if self.broken:
            return False
        events = tracker.events
        count = len(events)
        if self.seen == count and (count == 0 or events[-1] is self.last):
            return True
        if events.maxlen is not None or type(tracker.slots) is not dict:
            self.broken = True  # events dropped from the front, or slots made on demand
            return False
        if self.seen > count or (self.seen and events[self.seen - 1] is not self.last):
            self._reset()  # not an extension of what was folded
        new = list(islice(events, self.seen, count))
        for event in new:
            if type(event) not in FOLLOWED_EVENTS or not _is_number(event.timestamp):
                self.broken = True
                return False
        # Rasa takes the loop names from all events, later ones included: a name that appears only now
        # changes how earlier executions of that action were folded if there were two or more of them.
        names = {e.name for e in new if type(e) is ActiveLoop and e.name} - self.loop_names
        if any(self.executed.get(name, 0) > 1 for name in names):
            self._reset()
            new = list(events)
            names = {e.name for e in new if type(e) is ActiveLoop and e.name}
        self.loop_names |= names
        for event in new:
            self._fold_one(tracker, event)
        self.seen = count
        self.last = events[-1] if count else None
        return True

    def _fold_one(self, tracker: DialogueStateTracker, event: Event) -> None:
        applied = self.applied
        kind = type(event)
        if kind is ActionExecuted:
            self.executed[event.action_name] = self.executed.get(event.action_name, 0) + 1
        if kind in _RESETS:
            applied.clear()
            self.changed_from = 0
        elif kind is ActionReverted:
            self._undo_till(ActionExecuted)
        elif kind is UserUtteranceReverted:
            self._undo_till(UserUttered)
            self._undo_till(ActionExecuted)
        elif (
            kind is ActionExecuted
            and event.action_name in self.loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            self._undo_till_previous_loop_execution(event.action_name)
        else:
            applied.append(event)

    def _undo_till(self, kind: type) -> None:
        """``DialogueStateTracker._undo_till_previous`` without copying the list."""
        applied = self.applied
        while applied:
            if isinstance(applied.pop(), kind):
                break
        self.changed_from = min(self.changed_from, len(applied))

    def _undo_till_previous_loop_execution(self, loop_name: str) -> None:
        """``DialogueStateTracker._undo_till_previous_loop_execution`` without copying the list."""
        applied = self.applied
        i = len(applied) - 1
        while i >= 0:
            event = applied[i]
            if isinstance(event, ActionExecuted) and event.action_name == loop_name:
                break
            if isinstance(event, _FEATURIZED):
                del applied[i]
                self.changed_from = min(self.changed_from, i)
            i -= 1

    # -- replay: DialogueStateTracker.generate_all_prior_trackers, kept between calls ----------------

    def sync(self, tracker: DialogueStateTracker) -> bool:
        """Bring ``applied``, ``replay`` and ``turns`` up to date. False: follow Rasa's own methods instead."""
        if not self.fold(tracker):
            return False
        applied = self.applied
        if self.changed_from < self.replayed:
            turns = self.turns
            while turns and turns[-1].index >= self.changed_from:
                turns.pop()
            if turns:  # back to just before the last turn that is still valid, then replay from there
                turn = turns.pop()
                _restore(self.replay, turn.snapshot)
                self.replayed = turn.index
            else:
                self.replay = self.template.init_copy()
                self.replayed = 0
            kept = len(turns)
            del self.ml_hidden[kept:], self.ml_last_action[kept:], self.ml_counted[kept:]
            while self.ml_kept and self.ml_kept[-1] >= kept:
                self.ml_kept.pop()
        replay = self.replay
        for i in range(self.replayed, len(applied)):
            event = applied[i]
            if type(event) is ActionExecuted:
                self._add_turn(_Turn(i, replay, event.hide_rule_turn))
            event.apply_to(replay)  # what `update` does, without keeping the events (never read)
        self.replayed = len(applied)
        self.changed_from = len(applied)
        return True

    def _add_turn(self, turn: _Turn) -> None:
        """Append a turn and carry the fold of ``states_for_tracker_history`` with rule-only turns ignored."""
        hidden, last_action = self._ml_step(len(self.turns), turn.latest_action, turn.keeps_hidden, turn.hide)
        counted = self.ml_counted[-1] if self.ml_counted else 0
        if not hidden:
            self.ml_kept.append(len(self.turns))
            counted += not _after_unlikely_intent(last_action or turn.latest_action)
        self.turns.append(turn)
        self.ml_hidden.append(hidden)
        self.ml_last_action.append(last_action)
        self.ml_counted.append(counted)

    def _ml_step(self, turns: int, action: dict | None, keeps_hidden: bool, hide: bool) -> tuple[bool, dict | None]:
        """One step of that fold after the first ``turns`` turns: (turn hidden, action its state shows)."""
        hidden = self.ml_hidden[turns - 1] if turns else False
        last_action = self.ml_last_action[turns - 1] if turns else None
        if not hidden:
            last_action = action
        if not keeps_hidden:
            hidden = hide
        return hidden, last_action

    # -- states ---------------------------------------------------------------------------------------

    def _final(self) -> tuple[UserUttered | None, dict, dict | None, dict, bool]:
        """The last state's parts: the replay tracker itself (``generate_all_prior_trackers`` yields it last)."""
        replay = self.replay
        keeps_hidden = bool(replay.followup_action) or replay.latest_action_name == replay.active_loop_name
        return (
            replay.latest_message,
            Domain._get_slots_sub_state(replay),
            replay.latest_action,
            Domain._get_active_loop_sub_state(replay),
            keeps_hidden,
        )

    def rule_states(self, domain: Domain, last: int | None = None) -> list[State]:
        """``past_states(domain)``, or only its ``last`` states."""
        turns = self.turns
        if last is not None:
            turns = turns[max(0, len(turns) - (last - 1)) :] if last > 1 else []
        states = [_state(domain, t.latest_message, t.slots_state, t.latest_action, t.loop_state) for t in turns]
        if last is None or last > 0:
            message, slots, action, loop, _ = self._final()
            states.append(_state(domain, message, slots, action, loop))
        return states

    def _final_ml(self) -> tuple[tuple, dict | None] | None:
        """The last state's parts and the action it shows, or None if the last turn is hidden."""
        message, slots, action, loop, keeps_hidden = self._final()
        hidden, last_action = self._ml_step(len(self.turns), action, keeps_hidden, False)
        return None if hidden else ((message, slots, action, loop), last_action)

    def ml_states(self, domain: Domain, rule_only_data: dict[str, Any] | None) -> list[State]:
        """``past_states(domain, ignore_rule_only_turns=True, rule_only_data=...)``, parts shared as Rasa shares them.

        Each state shows the last action of a turn that was not hidden, one dict shared by the states that
        show it, and a user part taken over from the state before; callers change user parts in place.
        """
        kept = [
            ((t.latest_message, t.slots_state, t.latest_action, t.loop_state), self.ml_last_action[i])
            for i, t in ((i, self.turns[i]) for i in self.ml_kept)
        ]
        final = self._final_ml()
        if final is not None:
            kept.append(final)
        states: list[State] = []
        copies: dict[int, dict] = {}
        for (message, slots, action, loop), last_action in kept:
            state = _state(domain, message, slots, action, loop, copy_action=False)
            domain._remove_rule_only_features(state, rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if last_action:
                state[PREVIOUS_ACTION] = last_action
            if PREVIOUS_ACTION in state:  # a copy per action dict, shared where the originals are
                shown = state[PREVIOUS_ACTION]
                if id(shown) not in copies:
                    copies[id(shown)] = dict(shown)
                state[PREVIOUS_ACTION] = copies[id(shown)]
            states.append(domain._clean_state(state))
        return states

    def ml_state_count(self) -> int:
        """How many of ``ml_states`` do not follow ``action_unlikely_intent`` (what a memoization key holds)."""
        counted = self.ml_counted[-1] if self.ml_counted else 0
        final = self._final_ml()
        if final is not None:
            (_, _, action, _), last_action = final
            counted += not _after_unlikely_intent(last_action or action)
        return counted


def _after_unlikely_intent(action: dict | None) -> bool:
    return bool(action) and action.get(ACTION_NAME) == ACTION_UNLIKELY_INTENT_NAME


class HistoryTracker(DialogueStateTracker):
    """A ``DialogueStateTracker`` that keeps its history's derived data between calls (see the module)."""

    _history: _History | None = None

    def _folded(self) -> _History | None:
        """The history with the applied events up to date, or None where Rasa's own methods must be used."""
        history = self._history
        if history is None:
            if self._max_event_history is not None:
                return None
            history = self._history = _History(self)
        return history if history.fold(self) else None

    def _synced(self) -> _History | None:
        """The history with the replay and turns up to date too, or None."""
        history = self._folded()
        return history if history is not None and history.sync(self) else None

    def applied_events(self) -> list[Event]:
        """Rasa's ``applied_events``, kept up to date as events arrive."""
        history = self._folded()
        return super().applied_events() if history is None else list(history.applied)

    def replay_events(self) -> None:
        """Rasa's ``replay_events`` (run by a rewind): take the state of the replay of the applied events."""
        history = self._synced()
        if history is None:
            super().replay_events()
        else:
            _restore(self, _snapshot(history.replay))

    def copy(self) -> DialogueStateTracker:
        """Rasa's ``copy``: a new tracker with the same events, in the state that their replay gives.

        This tracker's state is that replay already (it only ever changes by events), so it is copied.
        """
        # brought up to date first (the copy carries it on), which also checks the event types and the
        # time stamps (travel_back_in_time compares them)
        history = self._synced()
        if history is None or type(self.slots) is not dict:
            return super().copy()
        other = HistoryTracker(
            self.sender_id or DEFAULT_SENDER_ID, self.slots.values(), None, is_rule_tracker=self.is_rule_tracker
        )
        other.events = deque(self.events)
        _restore(other, _snapshot(self))
        other._history = history.copy(other)
        return other

    def past_states(
        self,
        domain: Domain,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[State]:
        """Rasa's ``past_states``, from the turns kept between calls."""
        history = None if omit_unset_slots else self._synced()
        if history is None:
            return super().past_states(domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        if ignore_rule_only_turns:
            return history.ml_states(domain, rule_only_data)
        return history.rule_states(domain)

    def recent_states(self, domain: Domain, last: int) -> tuple[list[State], int] | None:
        """The last ``last`` states of ``past_states(domain)`` and how many there are in all; None if not kept."""
        history = self._synced()
        if history is None:
            return None
        return history.rule_states(domain, last), len(history.turns) + 1

    def memoization_state_count(self) -> int | None:
        """How many states of ``past_states(domain, ignore_rule_only_turns=True)`` do not follow
        ``action_unlikely_intent`` (a memoization key's length); None if not kept."""
        history = self._synced()
        return None if history is None else history.ml_state_count()
