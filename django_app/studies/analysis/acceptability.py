"""Acceptability exclusions: conversations and raters that failed a check, removed before any number is computed.

A conversation's exclusion removes its ratings, multiple-choice answers, annotations and scenario outcome, and the
pairwise judgements it was shown in (where judgements name their conversations); a rater's exclusion removes
everything that rater gave.
"""

from __future__ import annotations

from dataclasses import replace

from .records import Judgement, StudyData
from .types import AcceptabilitySummary, CheckCounts


def apply_exclusions(data: StudyData, *, include_excluded: bool = False) -> tuple[StudyData, AcceptabilitySummary]:
    """The data to analyse and the ``acceptability`` summary.

    Args:
        data: Everything read, exclusions included.
        include_excluded: Count what the checks excluded (they are still summarised, with ``applied`` False).
    """
    conversations = {e.conversation for e in data.exclusions if e.conversation is not None}
    raters = {e.rater for e in data.exclusions if e.rater is not None}

    def judgement_kept(j: Judgement) -> bool:
        return j.rater not in raters and j.conversation_a not in conversations and j.conversation_b not in conversations

    kept = replace(
        data,
        ratings=tuple(r for r in data.ratings if r.conversation not in conversations and r.rater not in raters),
        choices=tuple(c for c in data.choices if c.conversation not in conversations and c.rater not in raters),
        judgements=tuple(j for j in data.judgements if judgement_kept(j)),
        annotations=tuple(a for a in data.annotations if a.conversation not in conversations and a.rater not in raters),
        outcomes=tuple(o for o in data.outcomes if o.conversation not in conversations),
        exclusions=(),
    )
    summary: AcceptabilitySummary = {
        "applied": not include_excluded,
        "checks": _per_check(data),
        "conversations": len(conversations),
        "raters": len(raters),
        "records": {
            "ratings": len(data.ratings) - len(kept.ratings),
            "choices": len(data.choices) - len(kept.choices),
            "judgements": len(data.judgements) - len(kept.judgements),
            "annotations": len(data.annotations) - len(kept.annotations),
            "outcomes": len(data.outcomes) - len(kept.outcomes),
        },
    }
    if include_excluded:
        return replace(data, exclusions=()), summary
    return kept, summary


def _per_check(data: StudyData) -> dict[str, CheckCounts]:
    conversations: dict[str, set[str]] = {}
    raters: dict[str, set[str]] = {}
    for exclusion in data.exclusions:
        conversations.setdefault(exclusion.check, set())
        raters.setdefault(exclusion.check, set())
        if exclusion.conversation is not None:
            conversations[exclusion.check].add(exclusion.conversation)
        if exclusion.rater is not None:
            raters[exclusion.check].add(exclusion.rater)
    return {
        check: {"conversations": len(conversations[check]), "raters": len(raters[check])} for check in conversations
    }
