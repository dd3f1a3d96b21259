"""Test data for the studies app: a study file's text, a loaded study, a participant at a given stage."""

from __future__ import annotations

from typing import Any

import yaml

from tests.unit.web.factories import bot_create

STUDY: dict[str, Any] = {
    "slug": "lamps",
    "title": "Lamp refunds",
    "blind": True,
    "assignment": "balanced",
    "bots": [{"bot": "alpha", "quota": 2}, {"bot": "beta", "quota": 2}],
    "scenarios": [
        {"id": "refund", "text": "Your lamp arrived broken: get a refund.", "success": {"action": "action_refund"}},
        {"id": "track", "text": "Where is order 10023?", "success": {"slot": "order_id", "value": "10023"}},
    ],
    "limits": {"min_turns": 1, "max_turns": 3, "max_conversations": 2, "idle_timeout_minutes": 30},
    "consent": {"version": "v1", "text": "We store your messages.", "checkboxes": ["I am 18 or older", "I agree"]},
    "instructions": "Chat as a customer.",
    "quiz": {
        "pass_mark": 2,
        "questions": [
            {"text": "Who are you?", "options": ["A customer", "A clerk"], "answer": "A customer"},
            {"text": "When do you label?", "options": ["After each reply", "Never"], "answer": "After each reply"},
        ],
    },
    "annotation": {"required": True, "labels": ["all good", "wrong answer", "rude"]},
    "questionnaire": [
        {"id": "helpful", "type": "likert", "text": "How helpful?", "scale": 5, "labels": ["Not at all", "Very"]},
        {"id": "solved", "type": "choice", "text": "Solved?", "options": ["Yes", "No"]},
        {"id": "comments", "type": "text", "text": "Anything else?", "required": False},
    ],
    "completion": {"code": "LAMP-42", "url": "https://example.org/complete?cc=LAMP-42"},
}


def study_text(**changes: Any) -> str:
    data = {**STUDY, **changes}
    return yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)


def study_bots() -> None:
    bot_create("alpha", label="Alpha Secret Name", api_url="http://127.0.0.1:5999", api_token_env="ALPHA_API_TOKEN")
    bot_create(
        "beta",
        label="Beta Secret Name",
        kind="python",
        python_class="scripted_bots.baselines.FaqBot",
        socket_url="http://127.0.0.1:5007",
    )


def study_create(**changes: Any):
    from studies.services import study_load
    from studies.study_file import parse_study_file

    study_bots()
    return study_load(spec=parse_study_file(study_text(**changes))).study


def participant_at(study, stage: str = "conversations", external_id: str = ""):
    """A participant who has consented and passed the quiz (or stopped earlier, by ``stage``)."""
    from studies import services

    p = services.participant_enrol(study=study, source="prolific" if external_id else "", external_id=external_id)
    if stage == "consent":
        return p
    p = services.consent_record(participant=p, checked=list(study.consent_checkboxes))
    if stage == "quiz" or not study.quiz:
        return p
    p = services.quiz_grade(participant=p, answers=[q["answer"] for q in study.quiz])
    if stage == "instructions":
        return p
    return services.instructions_done(participant=p)
