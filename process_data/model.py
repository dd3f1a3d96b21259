"""Plain data types shared by readers, converters and writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Entity(NamedTuple):
    """An entity annotation inside an utterance (character offsets, end exclusive)."""

    start: int
    end: int
    type: str
    value: str


class Example(NamedTuple):
    """One labelled utterance as read from a corpus.

    A named tuple rather than a dataclass: a million of them are built on a
    large corpus, and a tuple is several times cheaper to create and to hold.

    Attributes:
        text: The utterance.
        intent: The intent label.
        line: Where it came from (1-based line of the record in its file), for messages.
        response: The bot's answer for this intent, if the corpus has one.
        entities: Entity annotations within ``text``.
    """

    text: str
    intent: str
    line: int
    response: str | None = None
    entities: tuple[Entity, ...] = ()


@dataclass
class TrainingData:
    """Everything the writers need, in a deterministic order.

    Attributes:
        examples: intent -> training examples, in first-seen order.
        responses: intent -> the response text.
        variations: intent -> further response texts (from a responses file), written after the first.
        entity_types: sorted entity types seen.
        actions: intent -> custom action that answers it (instead of a response).
        stats: counts for the summary shown after a run.
        warnings: problems worth a look (see ``--strict``), in input order.
        test_examples: intent -> held-out examples (empty unless a split was asked for).
        renamed: original label -> intent name, for every label that had to change.
        placeholders: intents that got a placeholder response.
    """

    examples: dict[str, list[Example]] = field(default_factory=dict)
    responses: dict[str, str] = field(default_factory=dict)
    variations: dict[str, list[str]] = field(default_factory=dict)
    entity_types: list[str] = field(default_factory=list)
    actions: dict[str, str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    test_examples: dict[str, list[Example]] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    placeholders: list[str] = field(default_factory=list)
