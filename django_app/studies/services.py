"""Writes of the studies app, each in one transaction: loading a study, a participant's way through it, deletion.

Views only validate input and call these. Quotas are counted inside the transaction that takes a place, with the
participant's row and the study's bots locked (``select_for_update`` on PostgreSQL; SQLite serialises writers),
and a participant can hold at most one open conversation (a unique constraint), so two tabs cannot open two
conversations or count one twice.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bots.models import Bot
from chat.models import Conversation
from chat.services import conversation_start
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from .acceptability import Rules, Said, failed_checks
from .models import Annotation, BlockedId, Message, Participant, Scenario, Study, StudyBot, StudyConversation
from .study_file import StudyFileError, StudySpec
from .tracker import bot_replies, reply_differences, success_check, tracker_fetch, user_turns

#: URL parameters carrying a crowd platform's worker id, and the platform: the first one present wins.
EXTERNAL_ID_PARAMS = (("PROLIFIC_PID", "prolific"), ("workerId", "mturk"), ("participant", "invite"))


class StudyError(Exception):
    """A step a participant cannot take now; the message is shown to them as it is."""


class StudyClosed(StudyError):
    pass


class LimitReached(StudyError):
    pass


class QuotasFull(StudyError):
    pass


class TimedOut(StudyError):
    pass


# ---------- loading ----------


@dataclass
class LoadResult:
    study: Study
    created: bool


def _blind_leaks(spec: StudySpec, bots: dict[str, Bot]) -> list[str]:
    """Where a blind study's bots would be named to participants: the socket.io URL or path the widget connects to.

    The token is anonymous in a blind study (``chat_contract.opaque_audience``); the address the browser connects
    to is the one thing the page must still tell it, so it must not contain the bot's id or names.
    """
    leaks = []
    for i, b in enumerate(spec.bots):
        bot = bots[b.bot]
        address = f"{bot.socket_url}{bot.socket_path}".lower()
        for name in dict.fromkeys([bot.id, bot.label, bot.participant_label]):
            # as written, and as a host name or path would spell it ("Northwind Helper": northwind-helper, …)
            words = re.findall(r"[a-z0-9]+", name.lower())
            spellings = {name.lower(), *("".join(words), "-".join(words), "_".join(words), ".".join(words))}
            if name.lower() != b.label.lower() and any(len(x) >= 3 and x in address for x in spellings):
                leaks.append(
                    f"line {b.line}: field 'bots[{i}].bot': the study is blind but bot {bot.id!r} is reached at "
                    f"{bot.socket_url}{bot.socket_path}, which names it ({name!r}); serve it under a neutral URL or "
                    "path (docs/studies.md, 'Blind studies')"
                )
                break
    return leaks


def study_load(*, spec: StudySpec, source: str = "study.yml") -> LoadResult:
    """Create or update the study a checked file describes (by slug); bots and scenarios it drops are turned off.

    Raises:
        StudyFileError: A bot is not in the registry, or a blind study's bot is reached at an address that names it
            (nothing is written).
    """
    registered = set(Bot.objects.filter(id__in=[b.bot for b in spec.bots]).values_list("id", flat=True))
    missing = [b for b in spec.bots if b.bot not in registered]
    if missing:
        raise StudyFileError(
            [
                f"{source}, line {b.line}: field 'bots[{spec.bots.index(b)}].bot': no bot {b.bot!r} in the registry"
                for b in missing
            ]
        )
    if spec.blind and spec.kind != "pairwise":  # raters of pairs never connect to a bot
        named = _blind_leaks(spec, {b.id: b for b in Bot.objects.filter(id__in=registered)})
        if named:
            raise StudyFileError([f"{source}, {leak}" for leak in named])
    fields = {
        name: getattr(spec, name)
        for name in (
            "title",
            "blind",
            "assignment",
            "min_turns",
            "max_turns",
            "max_conversations",
            "idle_timeout_minutes",
            "consent_version",
            "consent_text",
            "consent_checkboxes",
            "instructions",
            "quiz",
            "quiz_pass_mark",
            "annotation_labels",
            "annotation_required",
            "questionnaire",
            "completion_code",
            "completion_url",
            "invite_token",
            "acceptability",
            "transforms",
        )
    }
    fields["source"] = spec.source_text
    with transaction.atomic():
        study, created = Study.objects.update_or_create(slug=spec.slug, defaults=fields)
        for position, b in enumerate(spec.bots):
            StudyBot.objects.update_or_create(
                study=study,
                bot_id=b.bot,
                defaults={"neutral_label": b.label, "quota": b.quota, "position": position, "active": True},
            )
        study.study_bots.exclude(bot_id__in=[b.bot for b in spec.bots]).update(active=False)
        for position, s in enumerate(spec.scenarios):
            Scenario.objects.update_or_create(
                study=study,
                key=s.key,
                defaults={
                    "text": s.text,
                    "success_action": s.success_action,
                    "success_slot": s.success_slot,
                    "success_value": s.success_value,
                    "position": position,
                    "active": True,
                },
            )
        study.scenarios.exclude(key__in=[s.key for s in spec.scenarios]).update(active=False)
    return LoadResult(study=study, created=created)


# ---------- participants ----------


def external_id_hash(value: str) -> str:
    """The keyed hash (HMAC-SHA256 with ``STUDIES_ID_KEY``) under which an external id is stored.

    Raises:
        ImproperlyConfigured: The key is not set.
    """
    key = getattr(settings, "STUDIES_ID_KEY", None)
    if not key:
        raise ImproperlyConfigured("STUDIES_ID_KEY is not set: the key of the external ids' hashes (.env.example)")
    return hmac.new(key.encode("utf-8"), value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


def external_id_from(params: dict[str, str]) -> tuple[str, str]:
    """``(source, id)`` from a landing URL's parameters (Prolific, MTurk, an invite's participant), or ``("", "")``."""
    for name, source in EXTERNAL_ID_PARAMS:
        value = (params.get(name) or "").strip()
        if value and value != "ASSIGNMENT_ID_NOT_AVAILABLE":
            return source, value[:200]
    return "", ""


#: The source of a staff member judging from the admin (pairwise studies).
STAFF_SOURCE = "staff"


def staff_external_id(user_pk: int) -> str:
    """A staff rater's external id: keyed by the site's secret, so nobody can arrive with it in a link."""
    digest = hmac.new(settings.SECRET_KEY.encode("utf-8"), f"staff-rater:{user_pk}".encode(), hashlib.sha256)
    return f"staff-{digest.hexdigest()[:32]}"


def participant_enrol(*, study: Study, source: str = "", external_id: str = "", invite: str = "") -> Participant:
    """A participant of the study: the one already enrolled under this external id, or a new one.

    Raises:
        StudyClosed: The study takes no participants, the invite token is wrong, or the id is blocked.
    """
    if not study.active:
        raise StudyClosed("This study is closed. Thank you for your interest.")
    if study.invite_token and not hmac.compare_digest(invite, study.invite_token):
        raise StudyClosed("This link is not valid. Please use the link you were sent.")
    digest = external_id_hash(external_id) if external_id else ""
    if digest and BlockedId.objects.filter(Q(study=study) | Q(study=None), external_id_hash=digest).exists():
        raise StudyClosed("This study is not available to you. Thank you for your interest.")
    if digest:
        found = Participant.objects.filter(study=study, external_id_hash=digest).first()
        if found is not None:
            if (found.external_source == STAFF_SOURCE) != (source == STAFF_SOURCE):
                # a staff rater is never resumed from a crowd link, nor a crowd participant from the admin
                raise StudyClosed("This link is not valid. Please use the link you were sent.")
            return found
    try:
        with transaction.atomic():
            return Participant.objects.create(study=study, external_source=source, external_id_hash=digest)
    except IntegrityError:  # the same worker in two tabs at once
        return Participant.objects.get(study=study, external_id_hash=digest)


def _locked(participant: Participant) -> Participant:
    return Participant.objects.select_for_update().get(pk=participant.pk)


def consent_record(*, participant: Participant, checked: list[str]) -> Participant:
    """Record consent with the version of the text agreed to; every checkbox must be ticked.

    Raises:
        StudyError: A box is not ticked, or consent was already given or refused.
    """
    study = participant.study
    missing = [c for c in study.consent_checkboxes if c not in checked]
    if missing:
        raise StudyError("Please tick every box to take part.")
    with transaction.atomic():
        p = _locked(participant)
        if p.stage != Participant.Stage.CONSENT:
            return p
        p.consent_version = study.consent_version
        p.consent_checked = list(study.consent_checkboxes)
        p.consented_at = timezone.now()
        p.stage = Participant.Stage.QUIZ if study.quiz else Participant.Stage.INSTRUCTIONS
        p.save()
    return p


def consent_decline(*, participant: Participant) -> Participant:
    """The participant does not consent: recorded, nothing else kept."""
    with transaction.atomic():
        p = _locked(participant)
        if p.stage == Participant.Stage.CONSENT:
            p.stage = Participant.Stage.DECLINED
            p.finished_at = timezone.now()
            p.save()
    return p


def quiz_grade(*, participant: Participant, answers: list[str]) -> Participant:
    """Grade the onboarding quiz, once: passing leads on to the instructions, failing ends participation.

    A second attempt (a reload, another tab) changes nothing: the first grade stands.

    Raises:
        StudyError: The answers do not match the questions (a question unanswered).
    """
    study = participant.study
    if len(answers) != len(study.quiz) or any(not a for a in answers):
        raise StudyError("Please answer every question.")
    with transaction.atomic():
        p = _locked(participant)
        if p.stage != Participant.Stage.QUIZ:
            return p
        score = sum(1 for q, a in zip(study.quiz, answers, strict=True) if q["answer"] == a)
        p.quiz_answers = list(answers)
        p.quiz_score = score
        p.quiz_passed = score >= study.quiz_pass_mark
        if p.quiz_passed:
            p.stage = Participant.Stage.INSTRUCTIONS
        else:
            p.stage = Participant.Stage.FAILED_QUIZ
            p.finished_at = timezone.now()
        p.save()
    return p


def instructions_done(*, participant: Participant) -> Participant:
    """The participant has read the instructions: on to the conversations."""
    with transaction.atomic():
        p = _locked(participant)
        if p.stage == Participant.Stage.INSTRUCTIONS:
            p.stage = Participant.Stage.CONVERSATIONS
            p.save()
    return p


# ---------- conversations ----------


def _taken(study: Study, now: datetime) -> dict[int, int]:
    """Places taken per study bot: completed conversations and open ones not idle past the timeout."""
    idle_since = now - timedelta(minutes=study.idle_timeout_minutes)
    live = Q(conversations__status=StudyConversation.Status.COMPLETED) | Q(
        conversations__status__in=StudyConversation.OPEN, conversations__last_activity_at__gte=idle_since
    )
    counted = study.study_bots.annotate(n=Count("conversations", filter=live))
    return {sb.pk: sb.n for sb in counted}


def study_bots_open(study: Study, *, now: datetime | None = None) -> list[tuple[StudyBot, int]]:
    """Active study bots with places left, each with how many places are left."""
    taken = _taken(study, now or timezone.now())
    bots = study.study_bots.filter(active=True, bot__enabled=True).select_related("bot", "study")
    return [(sb, sb.quota - taken.get(sb.pk, 0)) for sb in bots if sb.quota - taken.get(sb.pk, 0) > 0]


def _choose_bot(participant: Participant, open_bots: list[tuple[StudyBot, int]], rng: random.Random) -> StudyBot:
    had = set(
        participant.conversations.exclude(status=StudyConversation.Status.ABANDONED).values_list("study_bot", flat=True)
    )
    fresh = [(sb, left) for sb, left in open_bots if sb.pk not in had] or open_bots
    furthest = max(left for _, left in fresh)
    return rng.choice([sb for sb, left in fresh if left == furthest])


def _choose_scenario(participant: Participant, study_bot: StudyBot, rng: random.Random) -> Scenario | None:
    scenarios = list(study_bot.study.scenarios.filter(active=True))
    if not scenarios:
        return None
    had = set(participant.conversations.exclude(scenario=None).values_list("scenario", flat=True))
    counts = dict(
        study_bot.conversations.exclude(status=StudyConversation.Status.ABANDONED)
        .values_list("scenario")
        .annotate(n=Count("id"))
        .values_list("scenario", "n")
    )
    pool = [s for s in scenarios if s.pk not in had] or scenarios
    fewest = min(counts.get(s.pk, 0) for s in pool)
    return rng.choice([s for s in pool if counts.get(s.pk, 0) == fewest])


def conversation_open(participant: Participant) -> StudyConversation | None:
    """The participant's conversation under way, if any."""
    return (
        participant.conversations.filter(status__in=StudyConversation.OPEN)
        .select_related("study_bot__bot", "scenario", "chat")
        .first()
    )


def _idle(conversation: StudyConversation, study: Study, now: datetime) -> bool:
    return conversation.last_activity_at < now - timedelta(minutes=study.idle_timeout_minutes)


def conversation_expire(*, participant: Participant) -> StudyConversation | None:
    """Abandon the participant's chat if it has been idle past the study's timeout; the abandoned one, or None.

    An abandoned conversation no longer holds a place in its bot's quota nor counts toward the participant's limit;
    the participant is offered a new one.
    """
    study = participant.study
    with transaction.atomic():
        current = (
            StudyConversation.objects.select_for_update()
            .filter(participant=participant, status=StudyConversation.Status.CHATTING)
            .first()
        )
        if current is None or not _idle(current, study, timezone.now()):
            return None
        current.status = StudyConversation.Status.ABANDONED
        current.save(update_fields=["status"])
    return current


def conversation_assign(
    *, participant: Participant, study_bot: StudyBot | None = None, rng: random.Random | None = None
) -> StudyConversation:
    """The participant's next conversation: the one under way if any (a reload, a second tab), else a new one.

    Balanced studies pick the bot furthest from its quota, never one this participant already had while another
    is open, and the scenario that bot has had least; choice studies take ``study_bot`` (the participant's pick).

    Raises:
        LimitReached: The participant has had as many conversations as the study allows.
        QuotasFull: No bot has places left (or the chosen one has none).
        StudyError: The participant is not at the conversations stage, or picked no bot in a choice study.
        bots.models.BotUnavailable: The bot's secret is not set (nothing is written).
    """
    rng = rng or random.SystemRandom()
    study = participant.study
    with transaction.atomic():
        p = _locked(participant)
        conversation_expire(participant=p)
        current = conversation_open(p)
        if current is not None:
            return current
        if p.stage != Participant.Stage.CONVERSATIONS:
            raise StudyError("There is no conversation to start at this stage.")
        had = p.conversations.exclude(status=StudyConversation.Status.ABANDONED).count()
        if had >= study.max_conversations:
            raise LimitReached(
                f"You have already had the most conversations this study allows ({study.max_conversations})."
            )
        list(StudyBot.objects.select_for_update().filter(study=study))  # quotas are counted one taker at a time
        open_bots = study_bots_open(study)
        if not open_bots:
            raise QuotasFull("This study has all the conversations it needs. Thank you!")
        if study.assignment == Study.Assignment.CHOICE:
            if study_bot is None:
                raise StudyError("Please choose an assistant.")
            chosen = next((sb for sb, _ in open_bots if sb.pk == study_bot.pk), None)
            if chosen is None:
                raise QuotasFull("That assistant has all the conversations it needs; please choose another.")
        else:
            chosen = _choose_bot(p, open_bots, rng)
        scenario = _choose_scenario(p, chosen, rng)
        grant = conversation_start(bot=chosen.bot)
        return StudyConversation.objects.create(
            participant=p, study_bot=chosen, scenario=scenario, chat_id=grant.conversation_id
        )


def message_record(
    *,
    conversation: StudyConversation,
    sender: str,
    text: str,
    sent_at: datetime | None = None,
    before_transforms: str = "",
) -> Message:
    """Record a message the participant's widget showed (``text`` after the study's transforms, and before).

    Raises:
        TimedOut: The chat was idle past the study's timeout (it is abandoned now).
        StudyError: The chat is over, the turn limit is reached, or the last bot message still needs its labels.
    """
    if conversation_expire(participant=conversation.participant) is not None:
        raise TimedOut("This chat timed out. Please start a new one.")
    if sender not in Message.Sender.values:
        raise StudyError("Unknown sender.")
    study = conversation.participant.study
    with transaction.atomic():
        c = StudyConversation.objects.select_for_update().get(pk=conversation.pk)
        if c.status != StudyConversation.Status.CHATTING:
            raise StudyError("This chat is over.")
        if sender == Message.Sender.USER:
            if c.user_turns >= study.max_turns:
                raise StudyError(f"This chat has reached its limit of {study.max_turns} messages.")
            if study.annotation_required and c.messages.filter(sender="bot", annotation=None).exists():
                raise StudyError("Please label the assistant's last reply first.")
            c.user_turns += 1
        index = c.messages.count()
        message = Message.objects.create(
            conversation=c,
            index=index,
            sender=sender,
            text=text[:5000],
            before_transforms="" if before_transforms == text else before_transforms[:5000],
            sent_at=sent_at or timezone.now(),
        )
        c.last_activity_at = timezone.now()
        c.save(update_fields=["user_turns", "last_activity_at"])
    return message


def annotation_create(*, message: Message, labels: list[str]) -> Annotation:
    """The labels ticked on a bot message (replacing earlier ones while the chat is on).

    Raises:
        StudyError: Not a bot message, an unknown label, none ticked when labels are required, or the chat is over.
    """
    study = message.conversation.participant.study
    if message.sender != Message.Sender.BOT:
        raise StudyError("Only the assistant's messages are labelled.")
    unknown = [x for x in labels if x not in study.annotation_labels]
    if unknown:
        raise StudyError(f"Unknown label: {unknown[0]}")
    if study.annotation_required and not labels:
        raise StudyError("Please tick at least one label.")
    with transaction.atomic():
        if message.conversation.status != StudyConversation.Status.CHATTING:
            raise StudyError("This chat is over.")
        ordered = [x for x in study.annotation_labels if x in labels]
        annotation, _ = Annotation.objects.update_or_create(message=message, defaults={"labels": ordered})
        StudyConversation.objects.filter(pk=message.conversation_id).update(last_activity_at=timezone.now())
    return annotation


def _read_tracker(conversation: StudyConversation) -> None:
    """Intent, confidence and actions from the Rasa tracker onto the user messages; the scenario's check."""
    bot = conversation.study_bot.bot
    if bot.kind != Bot.Kind.RASA or not bot.api_url:
        return
    try:
        tracker = tracker_fetch(api_url=bot.api_url, token=bot.api_token(), conversation_id=conversation.chat_id)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, the participant goes on
        conversation.tracker_error = str(exc)[:300]
        return
    turns = user_turns(tracker)
    problems = []
    shown = list(conversation.messages.filter(sender="user").order_by("index"))
    if len(shown) != len(turns):  # a message the page did not record, or one the bot never got
        problems.append(f"the page recorded {len(shown)} user messages, Rasa's tracker has {len(turns)}")
    for message, turn in zip(shown, turns, strict=False):
        message.intent, message.confidence, message.actions = turn.intent, turn.confidence, turn.actions
        message.save(update_fields=["intent", "confidence", "actions"])
    # The bot's replies as Rasa sent them: a page that recorded something else (a participant posting made-up
    # replies, a message lost in the browser) is caught, and the tracker's text kept beside the page's.
    said = list(conversation.messages.filter(sender="bot").order_by("index"))
    differing, problem = reply_differences([(m.text, m.before_transforms) for m in said], bot_replies(tracker))
    if problem:
        problems.append(problem)
    for position, reply in differing.items():
        said[position].tracker_text = reply
        said[position].save(update_fields=["tracker_text"])
    conversation.tracker_error = "; ".join(problems)[:300]
    scenario = conversation.scenario
    if scenario is not None and scenario.has_check:
        conversation.success = success_check(
            action=scenario.success_action, slot=scenario.success_slot, value=scenario.success_value, tracker=tracker
        )


def _rules(study: Study) -> Rules:
    known = {k: v for k, v in (study.acceptability or {}).items() if k in Rules.__dataclass_fields__}
    return Rules(**known)


def conversation_finish(*, conversation: StudyConversation) -> StudyConversation:
    """End the chat (on to its questionnaire): at least the minimum turns; reads the Rasa tracker once.

    Raises:
        StudyError: Fewer user messages than the study's minimum, or the last reply unlabelled when required.
    """
    study = conversation.participant.study
    with transaction.atomic():
        c = (
            StudyConversation.objects.select_for_update()
            .select_related("study_bot__bot", "scenario")
            .get(pk=conversation.pk)
        )
        if c.status != StudyConversation.Status.CHATTING:
            return c
        if c.user_turns < study.min_turns:
            raise StudyError(f"Please send at least {study.min_turns} messages before ending the chat.")
        if study.annotation_required and c.messages.filter(sender="bot", annotation=None).exists():
            raise StudyError("Please label the assistant's last reply first.")
        _read_tracker(c)
        c.flags = failed_checks(
            [Said(m.sender, m.text, m.sent_at) for m in c.messages.order_by("index")], _rules(study)
        )
        c.status = StudyConversation.Status.RATING
        c.chat_ended_at = c.last_activity_at = timezone.now()
        c.save()
    return c


def _check_answers(questions: list[dict[str, Any]], answers: dict[str, str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for q in questions:
        raw = (answers.get(q["id"]) or "").strip()
        if not raw:
            if q.get("required", True):
                raise StudyError(f"Please answer: {q['text']}")
            continue
        if q["type"] == "likert":
            if not raw.isdigit() or not 1 <= int(raw) <= q["scale"]:
                raise StudyError(f"Choose a point on the scale for: {q['text']}")
            clean[q["id"]] = int(raw)
        elif q["type"] == "choice":
            if raw not in q["options"]:
                raise StudyError(f"Choose one of the options for: {q['text']}")
            clean[q["id"]] = raw
        else:
            clean[q["id"]] = raw[:5000]
    return clean


#: The flag of a conversation whose questionnaire came after its place had been given away and its bot's quota filled.
LATE_FLAG = "late_over_quota"


def questionnaire_submit(*, conversation: StudyConversation, answers: dict[str, str]) -> StudyConversation:
    """The questionnaire after a chat: checked, stored, and the conversation counts toward its bot's quota.

    A conversation idle past the study's timeout holds no place (``_taken``); if its bot's quota filled meanwhile,
    its answers are stored but it is abandoned with the flag ``late_over_quota``, so no bot ever goes over quota.

    Raises:
        StudyError: A required question unanswered or an answer outside its options.
    """
    study = conversation.participant.study
    clean = _check_answers(study.questionnaire, answers)
    with transaction.atomic():
        list(StudyBot.objects.select_for_update().filter(study=study))  # quotas are counted one taker at a time
        c = StudyConversation.objects.select_for_update().get(pk=conversation.pk)
        if c.status != StudyConversation.Status.RATING:
            return c
        now = timezone.now()
        c.answers = clean
        if _idle(c, study, now) and _taken(study, now).get(c.study_bot_id, 0) >= c.study_bot.quota:
            # Idle past the timeout, its place went to someone else meanwhile, and that bot's quota is now full:
            # counting it would put the bot over quota. The answers are kept; the conversation does not count.
            c.status = StudyConversation.Status.ABANDONED
            c.flags = [*c.flags, LATE_FLAG]
        else:
            c.status = StudyConversation.Status.COMPLETED
            c.completed_at = now
        c.last_activity_at = now
        c.save()
    return c


def participation_finish(*, participant: Participant) -> Participant:
    """The participant is done (after at least one completed conversation): the completion code is theirs.

    Raises:
        StudyError: No completed conversation yet, or one still under way.
    """
    with transaction.atomic():
        p = _locked(participant)
        if p.stage == Participant.Stage.DONE:
            return p
        if p.stage != Participant.Stage.CONVERSATIONS or conversation_open(p) is not None:
            raise StudyError("Please finish your conversation first.")
        if not p.conversations.filter(status=StudyConversation.Status.COMPLETED).exists():
            raise StudyError("Please have at least one conversation first.")
        p.stage = Participant.Stage.DONE
        p.finished_at = timezone.now()
        p.save()
    return p


def external_ids_block(*, external_ids: list[str], study: Study | None = None) -> int:
    """Soft-block these external ids (kept as keyed hashes) in one study or all; how many were new."""
    new = 0
    with transaction.atomic():
        for value in external_ids:
            _, created = BlockedId.objects.get_or_create(study=study, external_id_hash=external_id_hash(value))
            new += created
    return new


def external_ids_unblock(*, external_ids: list[str], study: Study | None = None) -> int:
    """Lift soft blocks; how many were removed."""
    hashes = [external_id_hash(v) for v in external_ids]
    return BlockedId.objects.filter(study=study, external_id_hash__in=hashes).delete()[0]


def participant_delete(*, external_id: str, study: Study | None = None) -> int:
    """Delete everything a participant (by external id) entered, in one study or all; the number deleted."""
    digest = external_id_hash(external_id)
    participants = Participant.objects.filter(external_id_hash=digest)
    if study is not None:
        participants = participants.filter(study=study)
    return participants_delete(participants=participants)


def participants_delete(*, participants) -> int:
    """Delete these participants with their conversations, messages, annotations and chat ids."""
    with transaction.atomic():
        ids = list(participants.values_list("pk", flat=True))
        chats = list(StudyConversation.objects.filter(participant__in=ids).values_list("chat_id", flat=True))
        Participant.objects.filter(pk__in=ids).delete()
        Conversation.objects.filter(id__in=chats).delete()
    return len(ids)
