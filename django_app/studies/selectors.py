"""Reads of the studies app: where a participant is, what they may do next, a study's progress."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from .models import Message, Participant, Study, StudyBot, StudyConversation
from .services import conversation_open, study_bots_open


def study_get_active(slug: str) -> Study | None:
    """The active study with this slug, or None."""
    return Study.objects.filter(slug=slug, active=True).first()


def participant_get(study: Study, participant_id: str | None) -> Participant | None:
    """The study's participant with this id (from the session), or None."""
    if not participant_id:
        return None
    try:
        return Participant.objects.select_related("study").filter(study=study, pk=participant_id).first()
    except Exception:  # noqa: BLE001 - a malformed id in a session is no participant
        return None


def participant_step(participant: Participant) -> str:
    """The name of the page the participant belongs on now (a ``studies:`` URL name)."""
    stage = participant.stage
    if stage == Participant.Stage.CONSENT:
        return "consent"
    if stage == Participant.Stage.QUIZ:
        return "quiz"
    if stage == Participant.Stage.INSTRUCTIONS:
        return "instructions"
    if stage == Participant.Stage.CONVERSATIONS:
        if participant.study.kind == Study.Kind.PAIRWISE:
            return "judge"  # studies.pairwise_views: pairs of finished conversations, no chat
        current = conversation_open(participant)
        if current is None:
            return "next"
        return "chat" if current.status == StudyConversation.Status.CHATTING else "questionnaire"
    return "done"


@dataclass
class NextChoice:
    """What the page between conversations offers."""

    completed: int
    limit: int
    over_limit: bool
    bots: list[tuple[StudyBot, str]]
    full: bool
    timed_out: bool


def participant_next(participant: Participant) -> NextChoice:
    """How many conversations the participant has had, whether they may have another, and with whom."""
    study = participant.study
    done = participant.conversations.filter(status=StudyConversation.Status.COMPLETED).count()
    had = participant.conversations.exclude(status=StudyConversation.Status.ABANDONED).count()
    open_bots = study_bots_open(study)
    last = participant.conversations.order_by("-started_at", "-pk").first()
    return NextChoice(
        completed=done,
        limit=study.max_conversations,
        over_limit=had >= study.max_conversations,
        bots=[(sb, sb.participant_label) for sb, _ in open_bots],
        full=not open_bots,
        timed_out=last is not None and last.status == StudyConversation.Status.ABANDONED,
    )


def conversation_messages(conversation: StudyConversation) -> QuerySet[Message]:
    """A conversation's messages in order, with their annotations."""
    return conversation.messages.select_related("annotation").order_by("index")


def study_progress(study: Study) -> list[dict[str, object]]:
    """Per study bot: quota, completed and open conversations (for staff)."""
    rows = study.study_bots.select_related("bot").annotate(
        completed=Count("conversations", filter=Q(conversations__status=StudyConversation.Status.COMPLETED)),
        under_way=Count("conversations", filter=Q(conversations__status__in=StudyConversation.OPEN)),
    )
    return [
        {
            "bot": sb.bot_id,
            "label": sb.neutral_label,
            "quota": sb.quota,
            "completed": sb.completed,
            "open": sb.under_way,
        }
        for sb in rows
    ]
