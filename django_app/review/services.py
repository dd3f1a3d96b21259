"""Writes of the review inbox: import conversations from Rasa's tracker, correct messages, tag, mark reviewed.

Every function here is keyword-only and runs in one transaction; reads are in ``review.selectors``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from bots.models import Bot, BotUnavailable
from chat.models import Conversation
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from studies.tracker import TrackerUnavailable, tracker_fetch

from .models import Correction, ReviewConversation, ReviewMessage, Tag
from .training import intent_name_problem
from .turns import LOW_CONFIDENCE, ReviewTurn, conversation_flags, ended_unsuccessfully, review_turns

_MARKUP = re.compile(r"\[([^\[\]]+?)\]\(([^()]+?)\)")
_ENTITY_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


#: Participants' labels that say a reply was fine: they do not put a conversation up the inbox
#: (``settings.REVIEW_OK_LABELS`` replaces them; compared ignoring case).
OK_LABELS = ("all good", "good", "ok", "fine", "correct", "helpful")


def _troubling(labels: list[str]) -> bool:
    ok = {label.casefold() for label in getattr(settings, "REVIEW_OK_LABELS", OK_LABELS)}
    return any(label.casefold() not in ok for label in labels)


class ReviewError(Exception):
    """A review action that cannot be done; the message says what and why."""


def _bot_tracker(chat: Conversation, timeout: float) -> dict[str, Any]:
    bot: Bot = chat.bot
    if bot.kind != Bot.Kind.RASA or not bot.api_url:
        raise ReviewError(f"bot {bot.id!r} has no Rasa HTTP API (api_url) to read conversation {chat.id!r} from")
    try:
        token = bot.api_token()
    except BotUnavailable as exc:
        raise ReviewError(str(exc)) from None
    try:
        # every event, those before a /restart too: a message keeps its index from one import to the next
        return tracker_fetch(
            api_url=bot.api_url, token=token, conversation_id=chat.id, timeout=timeout, include_events="ALL"
        )
    except TrackerUnavailable as exc:
        raise ReviewError(f"bot {bot.id!r}, conversation {chat.id!r}: {exc}; nothing was imported") from None


def _study_facts(chat: Conversation, turns: list[ReviewTurn]) -> tuple[list[list[str]], bool | None]:
    """Participants' labels per user turn (on the bot replies that followed it) and the scenario's success."""
    labels: list[list[str]] = [[] for _ in turns]
    study = getattr(chat, "study_conversation", None)
    if study is None:
        return labels, None
    turn = -1
    for message in study.messages.select_related("annotation").order_by("index"):
        if message.sender == "user":
            turn += 1
            continue
        annotation = getattr(message, "annotation", None)
        if annotation is not None and 0 <= turn < len(labels):
            labels[turn].extend(str(label) for label in annotation.labels)
    return labels, study.success


def _timestamp(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=dt_timezone.utc) if value is not None else None


def conversation_import(
    *, chat: Conversation, tracker: dict[str, Any] | None = None, low_confidence: float = LOW_CONFIDENCE
) -> ReviewConversation:
    """Import (or refresh) one conversation for review from its bot's tracker.

    ``tracker``: a tracker already fetched (otherwise it is read from the bot's HTTP API). Corrections, tags and
    the reviewed flag survive a refresh; a message no longer in the tracker (deleted at the user's request) is
    emptied and marked deleted, and never comes back.

    Raises:
        ReviewError: The bot has no HTTP API or it cannot be read; nothing was written.
    """
    if tracker is None:
        tracker = _bot_tracker(chat, timeout=10.0)
    return _store(chat, tracker, low_confidence)


def conversations_import(
    *, chats: Iterable[Conversation], low_confidence: float = LOW_CONFIDENCE, timeout: float = 10.0
) -> list[ReviewConversation]:
    """Import several conversations: every tracker is read first, then all are written in one transaction.

    Raises:
        ReviewError: One tracker cannot be read; nothing at all was written.
    """
    trackers = [(chat, _bot_tracker(chat, timeout)) for chat in chats]
    with transaction.atomic():
        return [_store(chat, tracker, low_confidence) for chat, tracker in trackers]


def _check_same_history(chat: Conversation, review: ReviewConversation, turns: list[ReviewTurn]) -> None:
    """Refuse a tracker that no longer holds the messages imported before (a reset or replaced tracker store).

    Matching by position would put reviewers' corrections on other texts, and wiping what is missing would
    destroy them; so nothing is imported and the reviewer decides (delete the review, or the messages, first).
    """
    for message in review.messages.filter(deleted_at__isnull=True).order_by("index"):
        if message.index >= len(turns) or turns[message.index].text != message.text:
            raise ReviewError(
                f"conversation {chat.id!r}: Rasa's tracker no longer holds message {message.index} as it was "
                f"imported ({len(turns)} user messages now; was its tracker store reset?); nothing was imported. "
                "Delete its review (or those messages) in the inbox first if that is what you want"
            )


@transaction.atomic
def _store(chat: Conversation, tracker: dict[str, Any], low_confidence: float) -> ReviewConversation:
    turns = review_turns(tracker)
    flags = conversation_flags(turns, low_confidence=low_confidence)
    labels, success = _study_facts(chat, turns)
    annotated = sum(1 for item in labels if _troubling(item))
    unsuccessful = success is False or (success is None and ended_unsuccessfully(turns))
    review, _ = ReviewConversation.objects.select_for_update().get_or_create(chat=chat, defaults={"bot": chat.bot})
    _check_same_history(chat, review, turns)  # raising undoes the transaction, a row created just now included
    review.bot = chat.bot
    study = hasattr(chat, "study_conversation")  # False when the reverse one-to-one has no row
    review.source = ReviewConversation.Source.STUDY if study else ReviewConversation.Source.LIVE
    review.started_at = _timestamp(turns[0].timestamp) if turns else None
    review.user_messages = flags.user_messages
    review.fallbacks = flags.fallbacks
    review.low_confidence = flags.low_confidence
    review.annotations = annotated
    review.handoff = flags.handoff
    review.unsuccessful = unsuccessful
    review.min_confidence = flags.min_confidence
    review.intents = list(flags.intents)
    review.priority = flags.priority(annotations=annotated, unsuccessful=unsuccessful)
    deleted = review.pk is not None and review.messages.filter(deleted_at__isnull=False).exists()
    review.events = [] if deleted else list(tracker.get("events") or [])
    review.save()
    existing = {m.index: m for m in review.messages.all()}
    for index, turn in enumerate(turns):
        message = existing.pop(index, None) or ReviewMessage(conversation=review, index=index)
        if message.deleted_at is not None:
            continue
        message.text = turn.text
        message.sent_at = _timestamp(turn.timestamp)
        message.intent = turn.intent
        message.confidence = turn.confidence
        message.runners_up = turn.runners_up
        message.entities = turn.entities
        message.actions = turn.actions
        message.replies = turn.replies
        message.annotation_labels = labels[index]
        message.fallback = turn.fallback
        message.save()
    return review


def _wipe(message: ReviewMessage) -> None:
    message.corrections.all().delete()
    message.text = ""
    message.entities = []
    message.replies = []
    message.runners_up = []
    message.annotation_labels = []
    message.deleted_at = timezone.now()
    message.save()
    ReviewConversation.objects.filter(pk=message.conversation_id).update(events=[])


@transaction.atomic
def message_delete(*, message: ReviewMessage) -> ReviewMessage:
    """Delete a message at the user's request: its text, entities, replies and corrections go; it is never exported."""
    message = ReviewMessage.objects.select_for_update().get(pk=message.pk)
    if message.deleted_at is None:
        _wipe(message)
    return message


def parse_annotated(text: str, annotated: str) -> list[dict[str, Any]]:
    """Entities from ``annotated``, the message in Rasa markup (``cancel order [12345](order_id)``).

    Raises:
        ReviewError: The markup's words differ from the message's, or an entity name is not safe.
    """
    entities: list[dict[str, Any]] = []
    plain: list[str] = []
    pos = 0
    for match in _MARKUP.finditer(annotated):
        plain.append(annotated[pos : match.start()])
        value, name = match.group(1), match.group(2).strip()
        if not _ENTITY_NAME.fullmatch(name):
            raise ReviewError(f"entity name {name!r} is not safe: use lower-case letters, digits and _")
        start = sum(map(len, plain))
        plain.append(value)
        entities.append({"entity": name, "value": value, "start": start, "end": start + len(value)})
        pos = match.end()
    plain.append(annotated[pos:])
    if "".join(plain) != text:
        raise ReviewError(
            "the annotated text must be the message's own words with [value](entity) marks; only the marks may differ"
        )
    return entities


def annotate(text: str, entities: list[dict[str, Any]]) -> str:
    """The message in Rasa markup (the inverse of :func:`parse_annotated`), entities without offsets left out."""
    out = text
    spans = [e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]
    for ent in sorted(spans, key=lambda e: e["start"], reverse=True):
        if 0 <= ent["start"] < ent["end"] <= len(text):
            out = f"{out[: ent['start']]}[{out[ent['start'] : ent['end']]}]({ent['entity']}){out[ent['end'] :]}"
    return out


@transaction.atomic
def correction_set(
    *,
    message: ReviewMessage,
    reviewer,
    intent: str = "",
    out_of_scope: bool = False,
    annotated: str | None = None,
) -> Correction:
    """Record one reviewer's verdict on a message (replacing only that reviewer's earlier one).

    ``intent``: the right intent (an existing one, or a new name); ``annotated``: the message in Rasa markup with
    the right entities (None keeps Rasa's); ``out_of_scope``: the bot should not have an intent for it. Another
    reviewer's different verdict is kept: the two show as a conflict.

    Raises:
        ReviewError: The message was deleted, the intent name is unsafe, or the markup does not fit the text.
    """
    message = ReviewMessage.objects.select_for_update().get(pk=message.pk)
    if message.deleted_at is not None:
        raise ReviewError(
            f"message {message.index} of {message.conversation.chat_id} was deleted at the user's request"
        )
    intent = intent.strip()
    if out_of_scope:
        intent = ""
    else:
        problem = intent_name_problem(intent) if intent else "choose an intent, or mark the message out of scope"
        if problem:
            raise ReviewError(problem)
    entities = message.entities if annotated is None else parse_annotated(message.text, annotated.strip())
    correction, _ = Correction.objects.update_or_create(
        message=message,
        reviewer=reviewer,
        defaults={"intent": intent, "out_of_scope": out_of_scope, "entities": entities},
    )
    return correction


@transaction.atomic
def conversation_tag(*, conversation: ReviewConversation, names: Iterable[str]) -> list[Tag]:
    """Set the conversation's tags (created when new; slugs: letters, digits, - and _)."""
    tags = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if not re.fullmatch(r"[a-z0-9_-]{1,50}", name):
            raise ReviewError(f"tag {raw!r}: use lower-case letters, digits, - and _ (at most 50)")
        tags.append(Tag.objects.get_or_create(name=name)[0])
    conversation.tags.set(tags)
    return tags


@transaction.atomic
def conversation_mark_reviewed(*, conversation: ReviewConversation, reviewer, reviewed: bool = True) -> None:
    """Mark the conversation reviewed (by whom, when), or not reviewed again."""
    conversation.reviewed = reviewed
    conversation.reviewed_by = reviewer if reviewed else None
    conversation.reviewed_at = timezone.now() if reviewed else None
    conversation.save(update_fields=["reviewed", "reviewed_by", "reviewed_at"])
