"""A study's data as files: CSV (one row per rated bot message, one per conversation) and JSON Lines.

The schema is documented in docs/studies.md and versioned by ``SCHEMA_VERSION``: a column or key removed or
changing meaning raises it; one added does not. Only completed conversations are exported, and no external id
(only the participant's random id) ever appears.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet

from .models import Message, Study, StudyConversation
from .pairwise_exports import JUDGEMENT_COLUMNS, judgement_rows

SCHEMA_VERSION = 1

MESSAGE_COLUMNS = (
    "schema_version",
    "study",
    "conversation",
    "participant",
    "bot",
    "bot_label",
    "scenario",
    "turn",
    "index",
    "sent_at",
    "text",
    "text_before_transforms",
    "user_text",
    "user_text_before_transforms",
    "user_intent",
    "user_confidence",
    "actions",
    "labels",
    "tracker_text",
)
CONVERSATION_COLUMNS = (
    "schema_version",
    "study",
    "conversation",
    "participant",
    "bot",
    "bot_label",
    "scenario",
    "success",
    "user_turns",
    "bot_messages",
    "started_at",
    "chat_ended_at",
    "completed_at",
    "consent_version",
    "quiz_score",
    "tracker_error",
    "flags",
)


def _conversations(study: Study) -> QuerySet[StudyConversation]:
    return (
        StudyConversation.objects.filter(participant__study=study, status=StudyConversation.Status.COMPLETED)
        .select_related("participant", "study_bot__bot", "scenario")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.select_related("annotation").order_by("index")))
        .order_by("completed_at", "pk")
    )


def _iso(value) -> str:
    return value.isoformat() if value else ""


def message_rows(study: Study) -> Iterator[dict[str, Any]]:
    """One row per bot message of each completed conversation, with its labels and the user message before it."""
    for c in _conversations(study):
        turn, last_user = 0, None
        for m in c.messages.all():
            if m.sender == Message.Sender.USER:
                turn, last_user = turn + 1, m
                continue
            annotation = getattr(m, "annotation", None)
            yield {
                "schema_version": SCHEMA_VERSION,
                "study": study.slug,
                "conversation": c.chat_id,
                "participant": str(c.participant_id),
                "bot": c.study_bot.bot_id,
                "bot_label": c.study_bot.neutral_label,
                "scenario": c.scenario.key if c.scenario else "",
                "turn": turn,
                "index": m.index,
                "sent_at": _iso(m.sent_at),
                "text": m.text,
                "text_before_transforms": m.before_transforms,
                "user_text": last_user.text if last_user else "",
                "user_text_before_transforms": last_user.before_transforms if last_user else "",
                "user_intent": last_user.intent if last_user else "",
                "user_confidence": "" if last_user is None or last_user.confidence is None else last_user.confidence,
                "actions": "|".join(last_user.actions) if last_user else "",
                "labels": "|".join(annotation.labels) if annotation else "",
                "tracker_text": m.tracker_text,
            }


def conversation_rows(study: Study) -> Iterator[dict[str, Any]]:
    """One row per completed conversation; each questionnaire answer in a column ``q_<id>``."""
    for c in _conversations(study):
        messages = list(c.messages.all())
        row: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "study": study.slug,
            "conversation": c.chat_id,
            "participant": str(c.participant_id),
            "bot": c.study_bot.bot_id,
            "bot_label": c.study_bot.neutral_label,
            "scenario": c.scenario.key if c.scenario else "",
            "success": "" if c.success is None else str(c.success).lower(),
            "user_turns": c.user_turns,
            "bot_messages": sum(1 for m in messages if m.sender == Message.Sender.BOT),
            "started_at": _iso(c.started_at),
            "chat_ended_at": _iso(c.chat_ended_at),
            "completed_at": _iso(c.completed_at),
            "consent_version": c.participant.consent_version,
            "quiz_score": "" if c.participant.quiz_score is None else c.participant.quiz_score,
            "tracker_error": c.tracker_error,
            "flags": "|".join(c.flags),
        }
        for q in study.questionnaire:
            row[f"q_{q['id']}"] = c.answers.get(q["id"], "")
        yield row


def conversation_records(study: Study) -> Iterator[dict[str, Any]]:
    """One JSON record per completed conversation with its messages, labels, answers, scenario and success."""
    for c in _conversations(study):
        yield {
            "schema_version": SCHEMA_VERSION,
            "study": study.slug,
            "conversation": c.chat_id,
            "participant": str(c.participant_id),
            "bot": c.study_bot.bot_id,
            "bot_label": c.study_bot.neutral_label,
            "scenario": None
            if c.scenario is None
            else {"id": c.scenario.key, "text": c.scenario.text, "checked": c.scenario.has_check},
            "success": c.success,
            "started_at": _iso(c.started_at),
            "chat_ended_at": _iso(c.chat_ended_at),
            "completed_at": _iso(c.completed_at),
            "consent_version": c.participant.consent_version,
            "quiz_score": c.participant.quiz_score,
            "tracker_error": c.tracker_error or None,
            "acceptability": list(c.flags),
            "transforms": study.transforms or {},
            "answers": c.answers,
            "messages": [
                {
                    "index": m.index,
                    "sender": m.sender,
                    "text": m.text,
                    "before_transforms": m.before_transforms or None,
                    "sent_at": _iso(m.sent_at),
                    **(
                        {"intent": m.intent or None, "confidence": m.confidence, "actions": m.actions}
                        if m.sender == Message.Sender.USER
                        else {
                            "labels": m.annotation.labels if hasattr(m, "annotation") else None,
                            "tracker_text": m.tracker_text or None,
                        }
                    ),
                }
                for m in c.messages.all()
            ],
        }


def write_csv(rows: Iterable[dict[str, Any]], columns: Iterable[str], out: io.TextIOBase) -> int:
    """Rows as CSV with a header (extra keys, the questionnaire's, after ``columns``); the number of rows."""
    rows = list(rows)
    header = list(columns)
    for row in rows:
        header += [k for k in row if k not in header]
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)


def write_jsonl(records: Iterable[dict[str, Any]], out: io.TextIOBase) -> int:
    """Records as JSON Lines; the number of records."""
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def _all(rows, studies: list[Study]) -> Iterator[dict[str, Any]]:
    for study in studies:
        yield from rows(study)


#: The export kinds: name → (file suffix, writer of studies into a text stream). One file holds one study or
#: several (every row names its study; the conversations CSV has the union of their questionnaires' columns).
EXPORTS = {
    "messages": (
        ".messages.csv",
        lambda studies, out: write_csv(_all(message_rows, studies), MESSAGE_COLUMNS, out),
    ),
    "conversations": (
        ".conversations.csv",
        lambda studies, out: write_csv(_all(conversation_rows, studies), CONVERSATION_COLUMNS, out),
    ),
    "jsonl": (".conversations.jsonl", lambda studies, out: write_jsonl(_all(conversation_records, studies), out)),
    # pairwise studies' judgements (pairwise_exports.py; a chat study's file holds the header only)
    "judgements": (
        ".judgements.csv",
        lambda studies, out: write_csv(_all(judgement_rows, studies), JUDGEMENT_COLUMNS, out),
    ),
}


def export_texts(studies: list[Study], kind: str) -> str:
    """One export of several studies as text, in one file."""
    out = io.StringIO()
    EXPORTS[kind][1](studies, out)
    return out.getvalue()


def export_text(study: Study, kind: str) -> str:
    """One export of a study as text."""
    return export_texts([study], kind)
