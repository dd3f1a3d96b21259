"""The analysis's input: one record per rating, multiple-choice answer, judgement, annotation, scenario
outcome and exclusion.

The CSV readers build these, and so will the Django side from the study's database rows; the analysis only ever sees
these records. All identifiers are strings (a conversation id, a bot's name, a rater's id or hash).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Winner = Literal["a", "b", "tie"]
WINNERS: tuple[Winner, ...] = ("a", "b", "tie")


@dataclass(frozen=True)
class Rating:
    """One rater's answer to one numeric question (a Likert scale, 1-5 or 1-7) about one conversation."""

    conversation: str
    bot: str
    rater: str
    question: str
    value: float


@dataclass(frozen=True)
class Judgement:
    """One rater's answer to one pairwise question about a conversation with ``bot_a`` beside one with ``bot_b``.

    ``conversation_a`` and ``conversation_b`` are optional: with them, a conversation excluded by an acceptability
    check also removes the judgements it was shown in, and agreement can be computed over repeated pairs.
    """

    rater: str
    question: str
    bot_a: str
    bot_b: str
    winner: Winner
    conversation_a: str | None = None
    conversation_b: str | None = None
    #: A repeated check pair: the same two conversations shown to the same rater again (sides swapped). Checks measure
    #: the rater's consistency and are left out of the win counts, Bradley-Terry and agreement.
    check: bool = False


@dataclass(frozen=True)
class Choice:
    """One rater's answer to one multiple-choice question (the option's text) about one conversation."""

    conversation: str
    bot: str
    rater: str
    question: str
    value: str


@dataclass(frozen=True)
class Annotation:
    """One rater's annotation of one bot message (turn) in a conversation: the labels ticked, possibly none."""

    conversation: str
    bot: str
    turn: int
    rater: str
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """Whether a conversation met its scenario's automatic success check."""

    conversation: str
    bot: str
    scenario: str
    success: bool


@dataclass(frozen=True)
class Exclusion:
    """A conversation or a rater (or both) excluded by one acceptability check (``check`` names it)."""

    check: str
    conversation: str | None = None
    rater: str | None = None


@dataclass(frozen=True)
class StudyData:
    """Everything one analysis reads; any part may be empty."""

    ratings: tuple[Rating, ...] = ()
    judgements: tuple[Judgement, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    #: Every label a study offers, so a label never ticked still gets a row (share 0); others are taken from the data.
    labels: tuple[str, ...] = field(default=())
    choices: tuple[Choice, ...] = ()
    #: The options each multiple-choice question offers, in order: ``((question, (option, ...)), ...)``, so an option
    #: never chosen still gets a row (share 0); others are taken from the data.
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(
        cls,
        *,
        ratings: Iterable[Rating] = (),
        judgements: Iterable[Judgement] = (),
        annotations: Iterable[Annotation] = (),
        outcomes: Iterable[Outcome] = (),
        exclusions: Iterable[Exclusion] = (),
        labels: Iterable[str] = (),
        choices: Iterable[Choice] = (),
        options: Mapping[str, Iterable[str]] | None = None,
    ) -> StudyData:
        """Build from any iterables (lists, generators, query sets)."""
        return cls(
            ratings=tuple(ratings),
            judgements=tuple(judgements),
            annotations=tuple(annotations),
            outcomes=tuple(outcomes),
            exclusions=tuple(exclusions),
            labels=tuple(labels),
            choices=tuple(choices),
            options=tuple((question, tuple(offered)) for question, offered in (options or {}).items()),
        )
