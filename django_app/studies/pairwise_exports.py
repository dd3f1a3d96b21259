"""A pairwise study's judgements as CSV: one row per answered pair and question (schema version 1, as exports.py).

The file is also the analysis library's ``pairwise.csv`` (``rater,question,bot_a,bot_b,winner``, with
``conversation_a,conversation_b`` and ``check``): ``python -m studies.analysis --pairwise SLUG.judgements.csv``
recomputes the results anywhere. ``bot_a`` is the bot shown on the left, ``winner`` ``a`` (left), ``b`` (right) or
``tie``. ``rater`` is the participant's random id and ``rater_source`` where they came from (``prolific``,
``mturk``, ``invite``, ``staff`` or empty); no external id or its hash appears.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from .models import JudgedPair, Study

SCHEMA_VERSION = 1
JUDGEMENT_COLUMNS = (
    "schema_version",
    "study",
    "rater",
    "rater_source",
    "pair",
    "question",
    "bot_a",
    "bot_b",
    "winner",
    "answer",
    "conversation_a",
    "conversation_b",
    "scenario",
    "check",
    "check_of",
    "reason",
    "assigned_at",
    "answered_at",
)
WINNER = {"left": "a", "right": "b", "tie": "tie"}


def judgement_rows(study: Study) -> Iterator[dict[str, Any]]:
    """One row per answered pair and question of the study, in the order they were answered."""
    questions = [q["id"] for q in (study.pairwise or {}).get("questions") or []]
    pairs = (
        JudgedPair.objects.filter(participant__study=study, answered_at__isnull=False)
        .select_related("check_of", "participant")
        .order_by("answered_at", "pk")
    )
    for pair in pairs:
        for question in questions:
            answer = pair.answers.get(question)
            if answer not in WINNER:
                continue
            yield {
                "schema_version": SCHEMA_VERSION,
                "study": study.slug,
                "rater": str(pair.participant_id),
                "rater_source": pair.participant.external_source,
                "pair": pair.position,
                "question": question,
                "bot_a": pair.left_bot_id,
                "bot_b": pair.right_bot_id,
                "winner": WINNER[answer],
                "answer": answer,
                "conversation_a": pair.left_conversation,
                "conversation_b": pair.right_conversation,
                "scenario": pair.scenario,
                "check": 1 if pair.check_of_id else 0,
                "check_of": pair.check_of.position if pair.check_of_id else "",
                "reason": pair.reason,
                "assigned_at": pair.assigned_at.isoformat(),
                "answered_at": pair.answered_at.isoformat() if pair.answered_at else "",
            }


def judgements_csv(study: Study) -> str:
    """The study's judgements as the text of a CSV file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=JUDGEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(judgement_rows(study))
    return out.getvalue()
