"""Pure conversion: labelled examples in, cleaned :class:`TrainingData` out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from .errors import ConversionError
from .model import Entity, Example, TrainingData

_UNSAFE_NAME = re.compile(r"[^a-z0-9_]+")
# Markup Rasa would read as an entity annotation inside a training example.
_MARKUP = str.maketrans({"[": "(", "]": ")"})


def safe_name(name: str) -> str:
    """Turn a label into a Rasa-safe identifier (lower snake_case), deterministically."""
    cleaned = _UNSAFE_NAME.sub("_", name.strip().lower()).strip("_")
    if not cleaned:
        raise ConversionError(f"label '{name}' has no letters or digits to name an intent with")
    return cleaned


def _clean_char(ch: str) -> str:
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
        return ""
    return ch


def normalize(text: str, entities: tuple[Entity, ...] = ()) -> tuple[str, tuple[Entity, ...]]:
    """Collapse whitespace, drop control characters, keep entity offsets aligned.

    Args:
        text: The raw utterance.
        entities: Annotations with offsets into ``text``.

    Returns:
        The cleaned text and the entities with offsets into it.
    """
    out: list[str] = []
    mapping: list[int] = []  # original index -> index in output
    pending_space = False
    for ch in text:
        mapping.append(len(out) + (1 if pending_space and out else 0))
        c = _clean_char(ch).translate(_MARKUP)
        if c == " ":
            pending_space = True
            continue
        if not c:
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(c)
    mapping.append(len(out))
    cleaned = "".join(out)
    moved = []
    for ent in entities:
        start = mapping[ent.start]
        end = mapping[ent.end]
        value = cleaned[start:end].strip()
        if not value:
            continue
        start = cleaned.index(value, start)
        moved.append(Entity(start=start, end=start + len(value), type=safe_name(ent.type), value=value))
    return cleaned, tuple(moved)


def clean_text(text: str) -> str:
    """Collapse whitespace and drop control and non-characters (for responses)."""
    return " ".join("".join(_clean_char(ch) for ch in text).split())


def build_training_data(
    examples: Iterable[Example],
    actions: Mapping[str, str] | None = None,
    action_map_path: str | None = None,
) -> TrainingData:
    """Clean and group examples by intent.

    Whitespace is normalised, exact duplicates are dropped, and a text seen
    under two intents is kept under the first and reported.

    Args:
        examples: Examples as read from a corpus.
        actions: Optional mapping intent -> custom action answering it.
        action_map_path: Where ``actions`` came from, for error messages.

    Returns:
        The training data, with a count of what was read, kept and dropped.
    """
    data = TrainingData()
    seen: dict[str, tuple[str, int]] = {}
    read = dropped_empty = dropped_dup = dropped_conflict = 0
    entity_types: set[str] = set()
    for ex in examples:
        read += 1
        text, ents = normalize(ex.text, ex.entities)
        if not text:
            dropped_empty += 1
            continue
        try:
            intent = safe_name(ex.intent)
        except ConversionError as exc:
            raise ConversionError(exc.message, line=ex.line) from exc
        key = text.casefold()
        if key in seen:
            first_intent, first_line = seen[key]
            if first_intent == intent:
                dropped_dup += 1
            else:
                dropped_conflict += 1
                data.warnings.append(
                    f"line {ex.line}: '{text}' is labelled '{intent}' but line {first_line} "
                    f"labels it '{first_intent}'; kept the first"
                )
            continue
        seen[key] = (intent, ex.line)
        data.examples.setdefault(intent, []).append(Example(text=text, intent=intent, line=ex.line, entities=ents))
        entity_types.update(e.type for e in ents)
        if ex.response and intent not in data.responses:
            response = clean_text(ex.response)
            if response:
                data.responses[intent] = response
    for intent in data.examples:
        data.responses.setdefault(intent, f"(No answer written yet for '{intent}'.)")
        if len(data.examples[intent]) < 2:
            data.warnings.append(f"intent '{intent}' has only {len(data.examples[intent])} example(s)")
    for intent, action in sorted((actions or {}).items()):
        name = safe_name(intent)
        if name not in data.examples:
            raise ConversionError(
                f"the action map names intent '{intent}', which the corpus does not have", path=action_map_path
            )
        data.actions[name] = action
    data.entity_types = sorted(entity_types)
    data.stats = {
        "rows read": read,
        "kept": read - dropped_empty - dropped_dup - dropped_conflict,
        "dropped: empty text": dropped_empty,
        "dropped: duplicate": dropped_dup,
        "dropped: same text, other intent": dropped_conflict,
        "intents": len(data.examples),
        "entity types": len(data.entity_types),
    }
    return data
