"""A study's records as the analysis reads them (``studies.analysis.StudyData``), and its live progress.

Only completed conversations count, as in the exports. Identifiers: a conversation is its chat id, a bot its
registry name, a rater the participant's random id (never an external id).

- ratings: each Likert answer of the questionnaire (the question's id names it);
- choices: each answer to a multiple-choice question of the questionnaire (the option's text), with the options
  the question offers;
- annotations: the labels a participant ticked on each bot message (``turn`` is the message's index, so two bot
  messages after one user message stay two items); an unannotated bot message is no annotation;
- outcomes: the scenario's success check, where the scenario has one and it ran;
- exclusions: each acceptability flag of a conversation (``StudyConversation.flags``) excludes that conversation.

A pairwise study (``kind: pairwise``) has judgements instead: one per answered pair and question, the rater's answer
(left, right, tie) as the winner ``a`` (the left bot), ``b`` or ``tie``, with the two conversations' ids; a repeated
check pair is marked ``check`` (it measures the rater's consistency and counts toward no win rate).
"""

from __future__ import annotations

import hashlib
import statistics
from collections import Counter
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, Prefetch

from .analysis import Annotation, Choice, Exclusion, Judgement, Outcome, Rating, StudyData, analyze
from .analysis.types import AnalysisResult
from .models import JudgedPair, Message, Study, StudyConversation

#: The results page's resampling: fixed, so a page shows the same numbers until the data changes.
PAGE_SEED = 0
PAGE_DRAWS = 2000


def question_texts(study: Study) -> dict[str, str]:
    """Every question's text by its id: the questionnaire's and a pairwise study's questions."""
    questions = [*study.questionnaire, *((study.pairwise or {}).get("questions") or [])]
    return {q["id"]: q.get("text") or q["id"] for q in questions}


def likert_questions(study: Study) -> list[str]:
    """The ids of the questionnaire's Likert questions, in order."""
    return [q["id"] for q in study.questionnaire if q.get("type") == "likert"]


def choice_questions(study: Study) -> dict[str, list[str]]:
    """The questionnaire's multiple-choice questions and their options, in order."""
    return {q["id"]: list(q.get("options") or []) for q in study.questionnaire if q.get("type") == "choice"}


WINNER = {"left": "a", "right": "b", "tie": "tie"}


def pairwise_data(study: Study) -> StudyData:
    """Every judgement of a pairwise study's answered pairs (check pairs marked)."""
    questions = [q["id"] for q in (study.pairwise or {}).get("questions") or []]
    judgements = []
    pairs = JudgedPair.objects.filter(participant__study=study, answered_at__isnull=False).order_by("answered_at", "pk")
    for pair in pairs:
        for question in questions:
            answer = pair.answers.get(question)
            if answer in WINNER:
                judgements.append(
                    Judgement(
                        rater=str(pair.participant_id),
                        question=question,
                        bot_a=pair.left_bot_id,
                        bot_b=pair.right_bot_id,
                        winner=WINNER[answer],  # type: ignore[arg-type]
                        conversation_a=pair.left_conversation,
                        conversation_b=pair.right_conversation,
                        check=pair.check_of_id is not None,
                    )
                )
    return StudyData.of(judgements=judgements)


def study_data(study: Study) -> StudyData:
    """Every rating, multiple-choice answer, annotation, scenario outcome and exclusion of the study's completed
    conversations; a pairwise study's judgements."""
    if study.kind == Study.Kind.PAIRWISE:
        return pairwise_data(study)
    likert = likert_questions(study)
    choice = choice_questions(study)
    conversations = (
        StudyConversation.objects.filter(participant__study=study, status=StudyConversation.Status.COMPLETED)
        .select_related("study_bot", "scenario")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.filter(sender=Message.Sender.BOT).select_related("annotation"),
                to_attr="bot_messages",
            )
        )
        .order_by("completed_at", "pk")
    )
    ratings, choices, annotations, outcomes, exclusions = [], [], [], [], []
    for c in conversations:
        conversation, bot, rater = c.chat_id, c.study_bot.bot_id, str(c.participant_id)
        for question in likert:
            value = c.answers.get(question)
            if isinstance(value, int | float) and not isinstance(value, bool):
                ratings.append(Rating(conversation, bot, rater, question, float(value)))
        for question in choice:
            value = c.answers.get(question)
            if isinstance(value, str) and value:
                choices.append(Choice(conversation, bot, rater, question, value))
        for m in sorted(c.bot_messages, key=lambda m: m.index):
            annotation = getattr(m, "annotation", None)
            if annotation is not None:
                annotations.append(Annotation(conversation, bot, m.index, rater, frozenset(annotation.labels)))
        if c.scenario is not None and c.scenario.has_check and c.success is not None:
            outcomes.append(Outcome(conversation, bot, c.scenario.key, bool(c.success)))
        exclusions += [Exclusion(check=flag, conversation=conversation) for flag in c.flags]
    return StudyData.of(
        ratings=ratings,
        annotations=annotations,
        outcomes=outcomes,
        exclusions=exclusions,
        labels=study.annotation_labels,
        choices=choices,
        options=choice,
    )


def _data_version(study: Study) -> str:
    done = StudyConversation.objects.filter(participant__study=study, status=StudyConversation.Status.COMPLETED)
    stats = done.aggregate(n=Count("pk"), last=Max("completed_at"), last_pk=Max("pk"))
    judged = JudgedPair.objects.filter(participant__study=study, answered_at__isnull=False)
    pairs = judged.aggregate(n=Count("pk"), last=Max("answered_at"), last_pk=Max("pk"))
    return (
        f"{study.pk}:{study.updated_at.isoformat()}:{stats['n']}:{stats['last']}:{stats['last_pk']}:"
        f"{pairs['n']}:{pairs['last']}:{pairs['last_pk']}"
    )


def study_results(study: Study, *, draws: int = PAGE_DRAWS, seed: int = PAGE_SEED) -> AnalysisResult:
    """The study's analysis (cached until a conversation completes or the study is edited)."""
    version = hashlib.sha256(f"{_data_version(study)}:{draws}:{seed}".encode()).hexdigest()
    key = f"studies:results:{version}"
    result = cache.get(key)
    if result is None:
        result = analyze(study_data(study), draws=draws, seed=seed)
        cache.set(key, result, 24 * 3600)
    return result


def study_live_progress(study: Study) -> dict[str, Any]:
    """Quotas filled per bot and scenario, conversations under way, median minutes per conversation, exclusions;
    for a pairwise study, judged pairs per pair of bots (``studies.pairwise.pairwise_progress``)."""
    if study.kind == Study.Kind.PAIRWISE:
        from .pairwise import pairwise_progress

        return pairwise_progress(study)
    conversations = list(
        StudyConversation.objects.filter(participant__study=study).select_related("study_bot", "scenario")
    )
    completed = [c for c in conversations if c.status == StudyConversation.Status.COMPLETED]
    bots = []
    for sb in study.study_bots.all().order_by("position"):
        mine = [c for c in completed if c.study_bot_id == sb.pk]
        bots.append(
            {
                "bot": sb.bot_id,
                "label": sb.neutral_label,
                "quota": sb.quota,
                "completed": len(mine),
                "open": sum(1 for c in conversations if c.study_bot_id == sb.pk and c.status in StudyConversation.OPEN),
                "filled": min(1.0, len(mine) / sb.quota) if sb.quota else 1.0,
            }
        )
    per_scenario = Counter((c.study_bot.bot_id, c.scenario.key if c.scenario else "") for c in completed)
    scenarios = [
        {"bot": bot, "scenario": scenario, "completed": n} for (bot, scenario), n in sorted(per_scenario.items())
    ]
    minutes = [
        (c.completed_at - c.started_at).total_seconds() / 60 for c in completed if c.completed_at and c.started_at
    ]
    checks = Counter(flag for c in completed for flag in c.flags)
    return {
        "study": study.slug,
        "active": study.active,
        "bots": bots,
        "scenarios": scenarios,
        "completed": len(completed),
        "in_progress": sum(1 for c in conversations if c.status in StudyConversation.OPEN),
        "abandoned": sum(1 for c in conversations if c.status == StudyConversation.Status.ABANDONED),
        "median_minutes": round(statistics.median(minutes), 2) if minutes else None,
        "exclusions": {
            "conversations": sum(1 for c in completed if c.flags),
            "checks": dict(sorted(checks.items())),
        },
    }
