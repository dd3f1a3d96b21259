"""A reviewed conversation as a Rasa end-to-end test story: pure, no Django, no I/O.

The story replays the tracker's events (user messages with the reviewed intents and entities, actions, slots,
active loops) up to the first message whose intent a reviewer corrected; that message ends the story with the
action the bot's rules answer the corrected intent with (when a one-step rule names one). What the bot did after
a misunderstanding is no evidence of what it should have done, so nothing after it is kept. Texts, and the values
of slots, are redacted as the export redacts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from process_data.model import Entity
from process_data.redact import order_placeholder

from .training import HEADER, RedactionOptions, redact_example

#: Actions that are bookkeeping, not behaviour a story checks.
SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start", "action_extract_slots"})


@dataclass(frozen=True)
class Verdict:
    """The reviewed intent and entities of one user message (by its index among the user messages)."""

    intent: str
    entities: tuple[Entity, ...] = ()


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _annotate(text: str, entities: Iterable[Entity]) -> str:
    for ent in sorted(entities, key=lambda e: e.start, reverse=True):
        text = f"{text[: ent.start]}[{text[ent.start : ent.end]}]({ent.type}){text[ent.end :]}"
    return text


def _redact_slot(name: str, value: Any, options: RedactionOptions) -> Any:
    """A slot's value as a story may keep it: text redacted as the user's texts are (an order number slot as the
    export's placeholder when placeholders are on); other values (numbers, booleans, None) as they are."""
    if isinstance(value, str):
        if options.order_placeholders and name in options.order_entities:
            return order_placeholder(value)
        return options.redactor.redact(value)
    if isinstance(value, list):
        return [_redact_slot(name, item, options) for item in value]
    return value


def story_steps(
    tracker: Mapping[str, Any],
    verdicts: Mapping[int, Verdict],
    rules: Mapping[str, str],
    options: RedactionOptions | None = None,
) -> list[str]:
    """The story's steps as YAML lines (each starting ``  - ``), see the module's docstring."""
    options = options or RedactionOptions()
    steps: list[str] = []
    index = -1
    for event in tracker.get("events") or []:
        kind = event.get("event")
        if kind == "restart":
            steps = []  # the story is what came after the last restart; messages keep counting (their review index)
            continue
        if kind == "user":
            index += 1
            parse = event.get("parse_data") or {}
            predicted = str((parse.get("intent") or {}).get("name") or "")
            verdict = verdicts.get(index)
            if verdict is None:
                entities = tuple(
                    Entity(e["start"], e["end"], str(e["entity"]), str(e.get("value", "")))
                    for e in parse.get("entities") or []
                    if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
                )
                verdict = Verdict(predicted, entities)
            if not verdict.intent or verdict.intent == "nlu_fallback":
                break  # out of scope, or a fallback nobody corrected: nothing to check from here on
            text, ents = redact_example(str(event.get("text") or ""), verdict.entities, options)
            steps.append(f"  - user: {_q(_annotate(text, ents))}\n    intent: {verdict.intent}\n")
            if verdict.intent != predicted:
                action = rules.get(verdict.intent)
                if action:
                    steps.append(f"  - action: {action}\n")
                else:
                    steps.pop()
                break
            continue
        if index < 0:
            continue  # the session's start, before the first message
        if kind == "action" and event.get("name") not in SKIPPED_ACTIONS:
            steps.append(f"  - action: {event['name']}\n")
        elif kind == "slot" and event.get("name"):
            value = _redact_slot(str(event["name"]), event.get("value"), options)
            steps.append(f"  - slot_was_set:\n    - {event['name']}: {_q(value)}\n")
        elif kind == "active_loop":
            steps.append(f"  - active_loop: {event.get('name') or 'null'}\n")
    return steps


def render_stories(stories: Mapping[str, list[str]]) -> str:
    """A test-stories file: one story per name (names sorted, so the file is the same for the same reviews)."""
    out = [HEADER, 'version: "3.1"\n', "stories:\n" if any(stories.values()) else "stories: []\n"]
    for name in sorted(stories):
        if stories[name]:
            out.append(f"- story: {_q(name)}\n  steps:\n{''.join(stories[name])}")
    return "".join(out)


def one_step_rules(paths: Iterable[Path]) -> dict[str, str]:
    """intent -> action of every rule made of exactly one intent and one action (the converter writes these)."""
    rules: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in data.get("rules") or [] if isinstance(data, dict) else []:
            steps = rule.get("steps") or [] if isinstance(rule, dict) else []
            if (
                len(steps) == 2
                and not rule.get("condition")
                and isinstance(steps[0], dict)
                and "intent" in steps[0]
                and isinstance(steps[1], dict)
                and "action" in steps[1]
                and not re.match(r"^action_(listen|restart)$", str(steps[1]["action"]))
            ):
                rules.setdefault(str(steps[0]["intent"]), str(steps[1]["action"]))
    return rules
