"""Let Rasa's rule and memoization policies read only the part of a conversation they use.

For every prediction Rasa's ``RulePolicy`` builds the dialogue states of the
whole conversation (twice: from the user's text, then from the intent),
matches its rules from the last state backwards, and, when no rule matches,
makes a key of all the states; ``MemoizationPolicy`` (``max_history`` unset,
Rasa's default) makes a key of all the states and looks it up. Both costs grow
with the conversation, though neither answer can depend on more than a few
states:

* a rule is a list of at most ``L`` states, and ``RulePolicy._is_rule_applicable``
  accepts every state further back than the rule is long: matching against
  the last ``L`` states gives the same rules as matching against all of them;
* the key of all states matters, when no rule matched, only through whether it
  is one of the rules not in stories (``hide_rule_turn``), all of them at most
  ``L`` states long: a conversation with more states than that has no such
  key. With the window one longer than ``L`` and no "..." (rule snippet) state
  in it, the key is replaced by a string that is none of those keys;
* a memoization key of ``n`` states can only equal a remembered key of ``n``
  states: when the conversation has more states than the longest remembered
  key (or nothing is remembered: the demo bot has no stories), nothing can
  match, and no states are needed.

:func:`install_policy_windows` gives the loaded model's ``RulePolicy`` and
``MemoizationPolicy`` these shortcuts (on the objects, not the classes: the
policies keep their names, so predictions, events and ``policy`` fields stay
Rasa's). The states come from :meth:`HistoryTracker.recent_states` and
``memoization_state_count`` (``stores/history_tracker.py``) where the tracker
store gives such trackers, otherwise from Rasa's ``past_states``, sliced. With
the policies' debug log on, Rasa's own methods run, so that the log shows all
the states as before.

Installed by the socket.io channel at server start (``policy_windows``, on by
default), like the sequential graph runner; a model loaded later through the
HTTP API keeps Rasa's methods until the next restart.
"""

from __future__ import annotations

import base64
import json
import logging
import types
import zlib
from typing import Any

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import SupportedData
from rasa.core.policies.rule_policy import (
    DO_NOT_PREDICT_LOOP_ACTION,
    LOOP_WAS_INTERRUPTED,
    RULES,
    RULES_FOR_LOOP_UNHAPPY_PATH,
    RULES_NOT_IN_STORIES,
    RulePolicy,
)
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker, get_active_loop_name
from rasa.shared.utils.io import DEFAULT_ENCODING

logger = logging.getLogger(__name__)

#: Stands for the key of a conversation's states when it is longer than every rule (so in no lookup).
BEYOND_RULES = "(states beyond the longest rule)"
_RULE_LOG = logging.getLogger(rule_policy.__name__)
_MEMO_LOG = logging.getLogger(memoization.__name__)


def _states_in_key(key: str) -> int | None:
    """How many states a lookup key holds; None if it is not a list of states (a default or loop source)."""
    try:
        states = json.loads(key)
    except ValueError:
        return None
    return len(states) if isinstance(states, list) else None


def rule_window(policy: RulePolicy) -> int:
    """How many of the last states decide ``policy``'s predictions: the longest rule, plus one."""
    keys = [*policy.lookup.get(RULES, {}), *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {})]
    keys += policy.lookup.get(RULES_NOT_IN_STORIES, [])
    return max([n for n in map(_states_in_key, keys) if n is not None], default=0) + 1


def _recent_states(
    policy: RulePolicy, tracker: DialogueStateTracker, domain: Domain, window: int, use_text: bool
) -> tuple[list[State], int]:
    """The last ``window`` states ``policy._prediction_states`` would give, and how many it would give."""
    recent = getattr(tracker, "recent_states", None)
    found = recent(domain, window) if recent is not None else None
    if found is None:
        states = tracker.past_states(domain)
        found = states[-window:], len(states)
    states, total = found
    # what MaxHistoryTrackerFeaturizer.prediction_states does after making the states (no max_history here);
    # it changes only the last state and each state on its own, so the window gets what Rasa's slice gets
    policy.featurizer._choose_last_user_input([states], use_text)
    return states, total


def _find_action_from_rules(
    self: RulePolicy, tracker: DialogueStateTracker, domain: Domain, use_text_for_last_user_input: bool
) -> tuple[str | None, str | None, bool]:
    """``RulePolicy._find_action_from_rules`` on the last states only (see the module)."""
    if _RULE_LOG.isEnabledFor(logging.DEBUG):
        return RulePolicy._find_action_from_rules(self, tracker, domain, use_text_for_last_user_input)
    if use_text_for_last_user_input and tracker.latest_action_name != ACTION_LISTEN_NAME:
        return None, None, False
    window: int = self._history_window
    states, total = _recent_states(self, tracker, domain, window, use_text_for_last_user_input)

    # From here on as RulePolicy._find_action_from_rules (Rasa 3.6.21), `states` being the window.
    returning_from_unhappy_path = False
    rule_keys = self._get_possible_keys(self.lookup[RULES], states)
    predicted_action_name = None
    best_rule_key = ""
    if rule_keys:
        best_rule_key = max(rule_keys, key=len)
        predicted_action_name = self.lookup[RULES].get(best_rule_key)

    active_loop_name = tracker.active_loop_name
    if active_loop_name:
        loop_unhappy_keys = self._get_possible_keys(self.lookup[RULES_FOR_LOOP_UNHAPPY_PATH], states)
        unhappy_path_conditions = [self.lookup[RULES_FOR_LOOP_UNHAPPY_PATH].get(key) for key in loop_unhappy_keys]
        predicted_listen_from_general_rule = predicted_action_name == ACTION_LISTEN_NAME and not get_active_loop_name(
            self._rule_key_to_state(best_rule_key)[-1]
        )
        if predicted_listen_from_general_rule:
            if DO_NOT_PREDICT_LOOP_ACTION not in unhappy_path_conditions:
                return active_loop_name, best_rule_key, returning_from_unhappy_path
            predicted_action_name = None
        if LOOP_WAS_INTERRUPTED in unhappy_path_conditions:
            returning_from_unhappy_path = True

    if best_rule_key:
        source = best_rule_key
    elif total <= window or any(self._is_rule_snippet_state(state) for state in states):
        source = self._create_feature_key(states)  # the window holds every state the key is made of
    else:
        source = BEYOND_RULES
    return predicted_action_name, source, returning_from_unhappy_path


def _memoization_prediction_states(
    self: MemoizationPolicy,
    tracker: DialogueStateTracker,
    domain: Domain,
    use_text_for_last_user_input: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``Policy._prediction_states``, or no states where no remembered key can match (see the module)."""
    if not _MEMO_LOG.isEnabledFor(logging.DEBUG):
        if not self.lookup:
            return []  # recall of any states finds nothing
        count = getattr(tracker, "memoization_state_count", None)
        if self.featurizer.max_history is None and count is not None:
            n = count()
            if n is not None and n > self._history_longest_key:
                return []  # more states than any remembered key: recall finds nothing
    return MemoizationPolicy._prediction_states(self, tracker, domain, use_text_for_last_user_input, rule_only_data)


def _longest_memorized(policy: MemoizationPolicy) -> int:
    """At least as many states as the longest of ``policy``'s keys holds.

    A key is a JSON list of states (compressed unless configured otherwise); every state is a dict, so
    it has at least as many ``{`` as states.
    """
    longest = 0
    for key in policy.lookup:
        text = key
        if policy.config.get("enable_feature_string_compression"):
            text = zlib.decompress(base64.b64decode(key)).decode(DEFAULT_ENCODING)
        longest = max(longest, text.count("{"))
    return longest


def install_policy_windows(agent: Any) -> list[str]:
    """Give the loaded model's RulePolicy and MemoizationPolicy the shortcuts; returns the graph nodes changed."""
    runner = getattr(getattr(agent, "processor", None), "graph_runner", None)
    nodes = getattr(runner, "_instantiated_nodes", {})
    changed = []
    for name, node in nodes.items():
        policy = getattr(node, "_component", None)
        featurizer = getattr(policy, "featurizer", None)
        if type(featurizer) is not MaxHistoryTrackerFeaturizer:
            continue
        if type(policy) is RulePolicy and featurizer.max_history is None:
            if policy.supported_data() is not SupportedData.ML_AND_RULE_DATA:
                continue
            policy._history_window = rule_window(policy)
            assert BEYOND_RULES not in policy.lookup.get(RULES_NOT_IN_STORIES, [])
            policy._find_action_from_rules = types.MethodType(_find_action_from_rules, policy)
            changed.append(name)
        elif type(policy) is MemoizationPolicy:
            try:
                policy._history_longest_key = _longest_memorized(policy)
            except (ValueError, zlib.error, UnicodeDecodeError):
                continue  # keys not as Rasa 3.6 writes them: leave the policy as it is
            policy._prediction_states = types.MethodType(_memoization_prediction_states, policy)
            changed.append(name)
    return changed
