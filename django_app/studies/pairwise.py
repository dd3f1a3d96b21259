"""Pairwise-judgement studies (ACUTE-Eval style): loading one, its material, drawing pairs, answers, imports.

A pairwise study (``kind: pairwise`` in the study file) shows its raters two finished conversations of two different
bots side by side, the bots' names hidden and the sides drawn at random, and asks its questions ("Who would you rather
talk to?") with left / right / tie and an optional reason. Raters go through the same participant flow as a chat
study (consent, quiz, instructions, completion code). The material: completed, unflagged conversations of the chat
studies the file names (``pairwise.sources``) and transcripts imported into the study (``import_transcripts``).

Pairs are drawn by the pure :mod:`studies.pairing` one at a time, when the rater asks for the next, inside a
transaction with the rater's row and the study's bots locked, so quotas are counted one taker at a time; a rater holds
at most one open pair (a unique constraint), so two tabs show the same pair.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bots.models import Bot
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import ImportedTranscript, JudgedPair, Participant, Study, StudyBot, StudyConversation
from .pairing import Draw, Material, RaterHistory, check_due, choose_check, draw_pair
from .services import StudyError, study_load
from .study_file import StudyFileError, StudySpec
from .transcript_file import TranscriptSpec

IMPORTED = "imported:"
ANSWERS = tuple(JudgedPair.Answer.values)


# ---------- loading ----------


def study_file_load(*, spec: StudySpec, source: str = "study.yml"):
    """Create or update the study a checked file describes, chat or pairwise (``services.study_load`` and the kind).

    Raises:
        StudyFileError: A bot is not in the registry, a source is not a chat study, or the kind of a study that has
            participants would change (nothing is written).
    """
    problems = []
    existing = Study.objects.filter(slug=spec.slug).first()
    if existing is not None and existing.kind != spec.kind and existing.participants.exists():
        problems.append(
            f"{source}: field 'kind': study {spec.slug!r} is a {existing.kind} study with participants; "
            "use a new slug for a study of another kind"
        )
    if spec.kind == Study.Kind.PAIRWISE:
        chat_studies = set(
            Study.objects.filter(slug__in=spec.pairwise["sources"], kind=Study.Kind.CHAT).values_list("slug", flat=True)
        )
        for i, slug in enumerate(spec.pairwise["sources"]):
            if slug == spec.slug or slug not in chat_studies:
                problems.append(
                    f"{source}, line {spec.source_lines.get(slug, 0)}: field 'pairwise.sources[{i}]': "
                    f"no chat study {slug!r} (load it first)"
                )
    if problems:
        raise StudyFileError(problems)
    with transaction.atomic():
        result = study_load(spec=spec, source=source)
        Study.objects.filter(pk=result.study.pk).update(kind=spec.kind, pairwise=spec.pairwise)
        result.study.refresh_from_db()
    return result


# ---------- material ----------


def study_material(study: Study) -> list[Material]:
    """What the study's pairs may show: completed, unflagged conversations of its source chat studies with its
    active bots, then its imported transcripts with those bots."""
    bots = set(study.study_bots.filter(active=True).values_list("bot_id", flat=True))
    sources = (study.pairwise or {}).get("sources") or []
    conversations = (
        StudyConversation.objects.filter(
            participant__study__slug__in=sources,
            participant__study__kind=Study.Kind.CHAT,
            status=StudyConversation.Status.COMPLETED,
            study_bot__bot_id__in=bots,
        )
        .select_related("study_bot", "scenario")
        .order_by("completed_at", "pk")
    )
    material = [
        Material(c.chat_id, c.study_bot.bot_id, c.scenario.key if c.scenario else "")
        for c in conversations
        if not c.flags
    ]
    imported = study.imported_transcripts.filter(bot_id__in=bots).order_by("key")
    material += [Material(IMPORTED + t.key, t.bot_id, t.scenario) for t in imported]
    return material


@dataclass
class Transcript:
    """A conversation as a rater reads it: the scenario's text and the messages (sender, text)."""

    scenario_text: str
    messages: list[tuple[str, str]]


class MaterialGone(StudyError):
    """A pair's conversation no longer exists (its participant's data was deleted, its import removed)."""


def transcript_get(study: Study, conversation: str) -> Transcript:
    """The transcript of one piece of the study's material (as the chat's participant saw it).

    Raises:
        MaterialGone: It was deleted since the pair was drawn.
    """
    if conversation.startswith(IMPORTED):
        t = study.imported_transcripts.filter(key=conversation.removeprefix(IMPORTED)).first()
        if t is None:
            raise MaterialGone(conversation)
        return Transcript(t.scenario_text, [(m["sender"], m["text"]) for m in t.messages])
    c = StudyConversation.objects.select_related("scenario").filter(chat_id=conversation).first()
    if c is None:
        raise MaterialGone(conversation)
    messages = [(m.sender, m.text) for m in c.messages.order_by("index")]
    return Transcript(c.scenario.text if c.scenario else "", messages)


# ---------- drawing pairs ----------


def _limits(study: Study) -> tuple[int, int]:
    config = study.pairwise or {}
    return int(config.get("pairs_per_rater") or 1), int(config.get("check_pairs") or 0)


def _taken(study: Study, now) -> Counter:
    """Places taken per pair of bots: answered ordinary pairs and open ones not idle past the study's timeout."""
    idle_since = now - timedelta(minutes=study.idle_timeout_minutes)
    live = JudgedPair.objects.filter(participant__study=study, check_of=None).filter(
        Q(answered_at__isnull=False) | Q(assigned_at__gte=idle_since)
    )
    return Counter(frozenset(pair) for pair in live.values_list("left_bot_id", "right_bot_id"))


def pair_open(participant: Participant) -> JudgedPair | None:
    """The rater's pair being judged, if any."""
    return participant.pairs.filter(answered_at=None).first()


@dataclass
class RaterProgress:
    answered: int  #: ordinary pairs answered
    checks: int  #: check pairs answered
    pairs_per_rater: int
    check_pairs: int

    @property
    def total(self) -> int:
        return self.pairs_per_rater + self.check_pairs

    @property
    def done(self) -> int:
        return self.answered + self.checks


def rater_progress(participant: Participant) -> RaterProgress:
    per_rater, checks = _limits(participant.study)
    answered = participant.pairs.exclude(answered_at=None)
    return RaterProgress(
        answered=answered.filter(check_of=None).count(),
        checks=answered.exclude(check_of=None).count(),
        pairs_per_rater=per_rater,
        check_pairs=checks,
    )


def pair_next(*, participant: Participant, rng: random.Random | None = None) -> JudgedPair | None:
    """The rater's pair to judge: the open one if any (a reload, a second tab), else a new one; None when the rater
    has judged all they will (their share, or nothing is left to show them).

    Raises:
        StudyError: The participant is not at the judging stage.
    """
    rng = rng or random.SystemRandom()
    study = participant.study
    with transaction.atomic():
        p = Participant.objects.select_for_update().get(pk=participant.pk)
        current = pair_open(p)
        if current is not None:
            return current
        if p.stage != Participant.Stage.CONVERSATIONS:
            raise StudyError("There is no pair to judge at this stage.")
        list(StudyBot.objects.select_for_update().filter(study=study))  # quotas are counted one taker at a time
        mine = list(p.pairs.select_related("left_bot", "right_bot").order_by("position"))
        ordinary = [x for x in mine if x.check_of_id is None]
        checks_done = len(mine) - len(ordinary)
        per_rater, check_pairs = _limits(study)
        position = max((x.position for x in mine), default=0) + 1
        due = check_due(
            answered=len(ordinary), checks_done=checks_done, pairs_per_rater=per_rater, check_pairs=check_pairs
        )
        if due:
            made = _check_pair(p, mine, position, rng)
            if made is not None:
                return made
        draw = None
        if len(ordinary) < per_rater:
            draw = _draw(study, ordinary, rng)
        if draw is not None:
            return _create(p, position, draw)
        if checks_done < check_pairs and len(ordinary) >= 2:  # nothing more to draw: the checks still owed
            return _check_pair(p, mine, position, rng)
        return None


def _draw(study: Study, ordinary: list[JudgedPair], rng: random.Random) -> Draw | None:
    material = study_material(study)
    bots = [sb.bot_id for sb in study.study_bots.filter(active=True, bot__enabled=True).order_by("position")]
    shown = [
        (Material(x.left_conversation, x.left_bot_id), Material(x.right_conversation, x.right_bot_id)) for x in ordinary
    ]
    used = Counter(
        c
        for pair in JudgedPair.objects.filter(participant__study=study, check_of=None).values_list(
            "left_conversation", "right_conversation"
        )
        for c in pair
    )
    config = study.pairwise or {}
    return draw_pair(
        material=material,
        bots=bots,
        quota=int(config.get("quota") or 0),
        taken=_taken(study, timezone.now()),
        history=RaterHistory.of(shown),
        used=used,
        same_scenario=bool(config.get("same_scenario")),
        rng=rng,
    )


def _create(participant: Participant, position: int, draw: Draw, check_of: JudgedPair | None = None) -> JudgedPair:
    return JudgedPair.objects.create(
        participant=participant,
        position=position,
        left_conversation=draw.left.conversation,
        right_conversation=draw.right.conversation,
        left_bot_id=draw.left.bot,
        right_bot_id=draw.right.bot,
        scenario=draw.left.scenario if draw.left.scenario == draw.right.scenario else "",
        check_of=check_of,
    )


def _check_pair(
    participant: Participant, mine: list[JudgedPair], position: int, rng: random.Random
) -> JudgedPair | None:
    repeated = {x.check_of_id for x in mine if x.check_of_id is not None}
    candidates = {x.position: x for x in mine if x.check_of_id is None and x.answered_at and x.pk not in repeated}
    latest = mine[-1].position if mine else None
    chosen = choose_check(list(candidates), latest=latest, rng=rng)
    if chosen is None:
        return None
    original = candidates[chosen]
    swapped = Draw(
        Material(original.right_conversation, original.right_bot_id, original.scenario),
        Material(original.left_conversation, original.left_bot_id, original.scenario),
    )
    return _create(participant, position, swapped, check_of=original)


def pair_drop(*, pair: JudgedPair) -> None:
    """An open pair whose material is gone: an ordinary pair is forgotten (the rater is given another); a check pair
    is closed unanswered (it gives no judgement; drawing it again would show the same missing conversation)."""
    with transaction.atomic():
        if pair.check_of_id is None:
            JudgedPair.objects.filter(pk=pair.pk, answered_at=None).delete()
        else:
            JudgedPair.objects.filter(pk=pair.pk, answered_at=None).update(answers={}, answered_at=timezone.now())


# ---------- answers ----------


def pair_answer(*, participant: Participant, token: str, answers: dict[str, str], reason: str = "") -> JudgedPair:
    """The rater's answers to the open pair named by ``token`` (left, right or tie for every question).

    Raises:
        StudyError: Not the rater's open pair (answered already, or a stale page), or a question unanswered.
    """
    study = participant.study
    questions = (study.pairwise or {}).get("questions") or []
    clean: dict[str, str] = {}
    for q in questions:
        value = (answers.get(q["id"]) or "").strip()
        if value not in ANSWERS:
            raise StudyError(f"Please answer: {q['text']}")
        clean[q["id"]] = value
    with transaction.atomic():
        pair = JudgedPair.objects.select_for_update().filter(participant=participant, answered_at=None).first()
        if pair is None or str(pair.token) != str(token):
            raise StudyError("This pair was already answered; here is your next one.")
        pair.answers = clean
        pair.reason = reason.strip()[:2000] if (study.pairwise or {}).get("reason", True) else ""
        pair.answered_at = timezone.now()
        pair.save(update_fields=["answers", "reason", "answered_at"])
    return pair


def judging_finish(*, participant: Participant) -> Participant:
    """The rater is done (after at least one answered pair): the completion code is theirs.

    Raises:
        StudyError: No pair answered yet, or one still open.
    """
    with transaction.atomic():
        p = Participant.objects.select_for_update().get(pk=participant.pk)
        if p.stage == Participant.Stage.DONE:
            return p
        if p.stage != Participant.Stage.CONVERSATIONS or pair_open(p) is not None:
            raise StudyError("Please answer the pair shown first.")
        if not p.pairs.exclude(answered_at=None).exists():
            raise StudyError("Please judge at least one pair first.")
        p.stage = Participant.Stage.DONE
        p.finished_at = timezone.now()
        p.save()
    return p


# ---------- imports ----------


def transcripts_import(*, study: Study, transcripts: list[TranscriptSpec], source: str = "transcripts") -> int:
    """Store imported transcripts in a pairwise study (replacing those with the same id); how many were stored.

    Raises:
        StudyFileError: The study is not a pairwise study, or a transcript's bot is not in the registry (nothing is
            written).
    """
    if study.kind != Study.Kind.PAIRWISE:
        raise StudyFileError([f"{source}: study {study.slug!r} is not a pairwise study"])
    known = set(Bot.objects.filter(id__in={t.bot for t in transcripts}).values_list("id", flat=True))
    problems = [f"{source}, line {t.line}: no bot {t.bot!r} in the registry" for t in transcripts if t.bot not in known]
    if problems:
        raise StudyFileError(problems)
    with transaction.atomic():
        for t in transcripts:
            ImportedTranscript.objects.update_or_create(
                study=study,
                key=t.key,
                defaults={
                    "bot_id": t.bot,
                    "scenario": t.scenario,
                    "scenario_text": t.scenario_text,
                    "messages": t.messages,
                },
            )
    return len(transcripts)


# ---------- progress ----------


def pairwise_progress(study: Study) -> dict[str, Any]:
    """Judged pairs per pair of bots against the quota, raters, check pairs, material per bot, median minutes."""
    import statistics

    from .pairing import bot_pairs

    config = study.pairwise or {}
    quota = int(config.get("quota") or 0)
    pairs = list(JudgedPair.objects.filter(participant__study=study).select_related("participant"))
    answered = [x for x in pairs if x.answered_at]
    ordinary = [x for x in answered if x.check_of_id is None]
    judged = Counter(frozenset((x.left_bot_id, x.right_bot_id)) for x in ordinary)
    open_pairs = Counter(frozenset((x.left_bot_id, x.right_bot_id)) for x in pairs if not x.answered_at)
    bots = [sb.bot_id for sb in study.study_bots.filter(active=True).order_by("position")]
    material = Counter(m.bot for m in study_material(study))
    minutes = [(x.answered_at - x.assigned_at).total_seconds() / 60 for x in answered]
    raters = Counter(x.participant_id for x in answered)
    return {
        "study": study.slug,
        "kind": study.kind,
        "active": study.active,
        "quota": quota,
        "pairs": [
            {
                "a": sorted(pair)[0],
                "b": sorted(pair)[1],
                "quota": quota,
                "judged": judged.get(pair, 0),
                "open": open_pairs.get(pair, 0),
                "filled": min(1.0, judged.get(pair, 0) / quota) if quota else 1.0,
            }
            for pair in bot_pairs(bots)
        ],
        "material": {bot: material.get(bot, 0) for bot in bots},
        "answered": len(ordinary),
        "check_pairs": len(answered) - len(ordinary),
        "in_progress": sum(1 for x in pairs if not x.answered_at),
        "raters": len(raters),
        "raters_done": study.participants.filter(stage=Participant.Stage.DONE).count(),
        "median_minutes": round(statistics.median(minutes), 2) if minutes else None,
    }
