"""Plain data types shared by readers, converters and writers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entity:
    """An entity annotation inside an utterance (character offsets, end exclusive)."""

    start: int
    end: int
    type: str
    value: str


@dataclass(frozen=True)
class Example:
    """One labelled utterance as read from a corpus.

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
        examples: intent -> list of (text, entities), in first-seen order.
        responses: intent -> response text.
        entity_types: sorted entity types seen.
        actions: intent -> custom action that answers it (instead of a response).
        stats: counts for the summary shown after a run.
    """

    examples: dict[str, list[Example]] = field(default_factory=dict)
    responses: dict[str, str] = field(default_factory=dict)
    entity_types: list[str] = field(default_factory=list)
    actions: dict[str, str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
