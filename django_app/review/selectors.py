"""Reads of the review inbox: the inbox itself, conflicts between reviewers, and the reviewed examples to export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bots.models import Bot
from chat.models import Conversation
from django.db.models import Count, Prefetch, Q, QuerySet

from process_data.model import Entity

from .models import Correction, ReviewConversation, ReviewMessage
from .training import ReviewedExample

#: Inbox filters by what went wrong: name -> condition.
PROBLEMS: dict[str, Q] = {
    "fallback": Q(fallbacks__gt=0),
    "low_confidence": Q(low_confidence__gt=0),
    "annotated": Q(annotations__gt=0),
    "handoff": Q(handoff=True),
    "unsuccessful": Q(unsuccessful=True),
}


def inbox(
    *,
    bot: str | None = None,
    since: date | None = None,
    until: date | None = None,
    intent: str | None = None,
    tag: str | None = None,
    problem: str | None = None,
    reviewed: bool | None = None,
) -> QuerySet[ReviewConversation]:
    """Conversations to review, unreviewed and most troubled first, filtered as asked."""
    qs = ReviewConversation.objects.select_related("bot", "chat").prefetch_related("tags")
    if bot:
        qs = qs.filter(bot_id=bot)
    if since:
        qs = qs.filter(started_at__date__gte=since)
    if until:
        qs = qs.filter(started_at__date__lte=until)
    if intent:
        qs = qs.filter(intents__icontains=f'"{intent}"')
    if tag:
        qs = qs.filter(tags__name=tag)
    if problem:
        qs = qs.filter(PROBLEMS[problem])
    if reviewed is not None:
        qs = qs.filter(reviewed=reviewed)
    return qs.order_by("reviewed", "-priority", "-started_at")


def conversations_to_import(
    *, bot: str | None = None, since: date | None = None, ids: list[str] | None = None
) -> QuerySet[Conversation]:
    """The site's conversations whose bot has a Rasa HTTP API to read them from, filtered as asked."""
    chats = Conversation.objects.select_related("bot").filter(bot__kind=Bot.Kind.RASA).exclude(bot__api_url="")
    if bot:
        chats = chats.filter(bot_id=bot)
    if ids:
        chats = chats.filter(id__in=ids)
    if since:
        chats = chats.filter(started_at__date__gte=since)
    return chats.order_by("started_at")


def message_conflict(message: ReviewMessage) -> bool:
    """Whether the reviewers of this message disagree (intent, out of scope, or entities)."""
    return len({c.verdict for c in message.corrections.all()}) > 1


def conversation_messages(conversation: ReviewConversation) -> list[ReviewMessage]:
    """The conversation's messages with their corrections (and reviewers) loaded, in order."""
    corrections = Prefetch("corrections", queryset=Correction.objects.select_related("reviewer"))
    return list(conversation.messages.prefetch_related(corrections).order_by("index"))


def known_intents() -> list[str]:
    """Every intent the inbox has seen predicted or named in a correction (the correction form's suggestions)."""
    names = set(ReviewMessage.objects.exclude(intent="").values_list("intent", flat=True).distinct())
    names |= set(Correction.objects.exclude(intent="").values_list("intent", flat=True).distinct())
    names.discard("nlu_fallback")
    return sorted(names)


@dataclass(frozen=True)
class Reviewed:
    """What the export gets: the examples, and the messages whose reviewers disagree (left out, reported)."""

    examples: list[ReviewedExample]
    conflicts: list[str]
    out_of_scope: int


def _source(message: ReviewMessage) -> str:
    return f"conversation {message.conversation.chat_id} message {message.index}"


def reviewed_examples(*, bot: str | None = None, out_of_scope_intent: str | None = None) -> Reviewed:
    """Every corrected message that is not deleted, as training examples, in a stable order.

    Agreeing reviewers give one example (their names joined); disagreeing ones none (a conflict). A message
    marked out of scope becomes an example of ``out_of_scope_intent`` when one is given, else it is counted.
    """
    messages = (
        ReviewMessage.objects.filter(deleted_at__isnull=True)
        .annotate(n=Count("corrections"))
        .filter(n__gt=0)
        .select_related("conversation")
        .prefetch_related(Prefetch("corrections", queryset=Correction.objects.select_related("reviewer")))
        .order_by("conversation__chat_id", "index")
    )
    if bot:
        messages = messages.filter(conversation__bot_id=bot)
    examples: list[ReviewedExample] = []
    conflicts: list[str] = []
    out_of_scope = 0
    for message in messages:
        corrections = list(message.corrections.all())
        if len({c.verdict for c in corrections}) > 1:
            verdicts = ", ".join(
                f"{c.reviewer.get_username()}: {'out of scope' if c.out_of_scope else c.intent}" for c in corrections
            )
            conflicts.append(f"{_source(message)}: reviewers disagree ({verdicts})")
            continue
        first = corrections[0]
        intent = first.intent
        if first.out_of_scope:
            if not out_of_scope_intent:
                out_of_scope += 1
                continue
            intent = out_of_scope_intent
        entities = tuple(
            Entity(int(e["start"]), int(e["end"]), str(e["entity"]), str(e.get("value", "")))
            for e in first.entities
            if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
        )
        examples.append(
            ReviewedExample(
                text=message.text,
                intent=intent,
                entities=entities,
                reviewer=", ".join(sorted(c.reviewer.get_username() for c in corrections)),
                reviewed_at=max(c.updated_at for c in corrections).date().isoformat(),
                source=_source(message),
            )
        )
    return Reviewed(examples, conflicts, out_of_scope)
