"""Participants' pages: consent → quiz → instructions → (scenario, chat, annotations, questionnaire)* → completion.

Thin: each finds the study and the participant (kept per study in the Django session), checks the participant is
on this step (else sends them where they belong, so a reload or a second tab resumes), validates the form and
calls a service. Nothing a participant sees names a blind study's bots: the widget gets the neutral label and a
neutral id from ``widget.json``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from bots.models import BotUnavailable
from chat.services import conversation_token
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import services
from .models import Message, Participant, Study, StudyConversation
from .selectors import conversation_messages, participant_get, participant_next, participant_step, study_get_active
from .services import StudyError

SESSION_KEY = "studies"
logger = logging.getLogger(__name__)


def _study(slug: str) -> Study:
    study = study_get_active(slug)
    if study is None:
        raise Http404("no such study")
    return study


def _participant(request: HttpRequest, study: Study) -> Participant | None:
    return participant_get(study, (request.session.get(SESSION_KEY) or {}).get(study.slug))


def _remember(request: HttpRequest, participant: Participant) -> None:
    known = dict(request.session.get(SESSION_KEY) or {})
    known[participant.study.slug] = str(participant.pk)
    request.session[SESSION_KEY] = known


def _go(study: Study, participant: Participant) -> HttpResponse:
    return redirect(reverse(f"studies:{participant_step(participant)}", args=[study.slug]))


def _page(request: HttpRequest, template: str, study: Study, **context) -> HttpResponse:
    context.setdefault("status", 200)
    status = context.pop("status")
    return render(request, f"studies/{template}", {"study": study, **context}, status=status)


class _Step:
    """Resolves the study and participant of a request, and whether they belong on ``step``."""

    def __init__(self, request: HttpRequest, slug: str, step: str) -> None:
        self.study = _study(slug)
        self.participant = _participant(request, self.study)
        self.redirect: HttpResponse | None = None
        if self.participant is None:
            self.redirect = redirect(reverse("studies:start", args=[slug]))
            return
        services.conversation_expire(participant=self.participant)  # an idle chat is abandoned: a new one is offered
        if participant_step(self.participant) != step:
            self.redirect = _go(self.study, self.participant)


@require_GET
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """The study's link: enrols the visitor (with the external id in the URL, if any) or resumes them."""
    study = _study(slug)
    source, external_id = services.external_id_from(request.GET.dict())
    participant = None if external_id else _participant(request, study)
    if participant is None:
        try:
            participant = services.participant_enrol(
                study=study, source=source, external_id=external_id, invite=request.GET.get("invite", "")
            )
        except StudyError as exc:
            return _page(request, "closed.html", study, message=str(exc), status=403)
        except ImproperlyConfigured:
            logger.exception("study %s: cannot enrol a participant with an external id", study.slug)
            message = "This study cannot take participants right now. Please try again later."
            return _page(request, "closed.html", study, message=message, status=503)
        _remember(request, participant)
    return _go(study, participant)


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "consent")
    if step.redirect:
        return step.redirect
    error = ""
    if request.method == "POST":
        if "decline" in request.POST:
            services.consent_decline(participant=step.participant)
            return redirect(reverse("studies:done", args=[slug]))
        try:
            services.consent_record(participant=step.participant, checked=request.POST.getlist("agree"))
            return redirect(reverse("studies:start", args=[slug]))
        except StudyError as exc:
            error = str(exc)
    boxes = [(i, text) for i, text in enumerate(step.study.consent_checkboxes)]
    return _page(request, "consent.html", step.study, boxes=boxes, error=error, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def quiz(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "quiz")
    if step.redirect:
        return step.redirect
    error = ""
    answers = [request.POST.get(f"q{i}", "") for i in range(len(step.study.quiz))]
    if request.method == "POST":
        try:
            participant = services.quiz_grade(participant=step.participant, answers=answers)
            return _go(step.study, participant)
        except StudyError as exc:
            error = str(exc)
    questions = [(i, q["text"], q["options"], answers[i]) for i, q in enumerate(step.study.quiz)]
    return _page(request, "quiz.html", step.study, questions=questions, error=error, status=400 if error else 200)


@require_http_methods(["GET", "POST"])
def instructions(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "instructions")
    if step.redirect:
        return step.redirect
    if request.method == "POST":
        return _go(step.study, services.instructions_done(participant=step.participant))
    return _page(request, "instructions.html", step.study)


@require_http_methods(["GET", "POST"])
def next_step(request: HttpRequest, slug: str) -> HttpResponse:
    """Between conversations: start one (choosing the assistant in a choice study), or finish."""
    step = _Step(request, slug, "next")
    if step.redirect:
        return step.redirect
    participant, study = step.participant, step.study
    error, status = "", 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "finish":
                services.participation_finish(participant=participant)
                return redirect(reverse("studies:done", args=[slug]))
            chosen = None
            if request.POST.get("bot"):
                chosen = (
                    study.study_bots.filter(pk=request.POST["bot"], active=True).first()
                    if str(request.POST["bot"]).isdigit()
                    else None
                )
                if chosen is None:
                    raise StudyError("Please choose one of the assistants listed.")
            services.conversation_assign(participant=participant, study_bot=chosen)
            return redirect(reverse("studies:chat", args=[slug]))
        except BotUnavailable:
            error, status = "The assistant is not available right now. Please try again in a few minutes.", 503
        except StudyError as exc:
            error, status = str(exc), 409
    return _page(request, "next.html", study, next=participant_next(participant), error=error, status=status)


def _current(request: HttpRequest, slug: str, status: str) -> tuple[Study, StudyConversation | None]:
    study = _study(slug)
    participant = _participant(request, study)
    current = services.conversation_open(participant) if participant is not None else None
    if current is not None and current.status != status:
        current = None
    return study, current


@require_GET
@ensure_csrf_cookie
def chat(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "chat")
    if step.redirect:
        return step.redirect
    current = services.conversation_open(step.participant)
    study = step.study
    messages = list(conversation_messages(current))
    return _page(
        request,
        "chat.html",
        study,
        conversation=current,
        assistant=current.study_bot.participant_label,
        scenario=current.scenario,
        config={
            "messageUrl": reverse("studies:message", args=[slug]),
            "annotateUrl": reverse("studies:annotate", args=[slug]),
            "labels": study.annotation_labels,
            "transforms": study.transforms or {},
            "required": study.annotation_required,
            "minTurns": study.min_turns,
            "maxTurns": study.max_turns,
            "turns": current.user_turns,
            "pending": [
                {"id": m.pk, "text": m.text}
                for m in messages
                if m.sender == Message.Sender.BOT and not hasattr(m, "annotation")
            ],
        },
    )


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def widget_config(request: HttpRequest, slug: str) -> JsonResponse:
    """The widget's settings for the participant's current chat: the neutral label, never the bot's name."""
    study, current = _current(request, slug, StudyConversation.Status.CHATTING)
    if current is None:
        return _json({"error": "no_conversation"}, status=404)
    bot = current.study_bot.bot
    from django.middleware.csrf import get_token

    return _json(
        {
            "bot": f"study-{study.slug}-{current.study_bot.position}",
            "label": current.study_bot.participant_label,
            "socket_url": bot.socket_url,
            "socket_path": bot.socket_path,
            "token_url": reverse("studies:token", args=[slug]),
            "restart_url": reverse("studies:restart", args=[slug]),
            "csrf_token": get_token(request),
        }
    )


@require_POST
def token(request: HttpRequest, slug: str) -> JsonResponse:
    """A token for the participant's current chat (always the same conversation: a study chat does not restart)."""
    study, current = _current(request, slug, StudyConversation.Status.CHATTING)
    if current is None:
        return _json({"error": "no_conversation"}, status=404)
    try:
        grant = conversation_token(conversation=current.chat, anonymous=study.blind)
    except BotUnavailable:
        return _json({"error": "bot_unavailable", "message": "The assistant is not available right now."}, 503)
    data = grant.as_json()
    data["bot"] = f"study-{study.slug}-{current.study_bot.position}"
    return _json(data)


def _body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@require_POST
def message(request: HttpRequest, slug: str) -> JsonResponse:
    """Record a message the widget showed: ``{"sender": "user"|"bot", "text": ..., "ts": ms since 1970}``."""
    study, current = _current(request, slug, StudyConversation.Status.CHATTING)
    if current is None:
        return _json({"error": "no_conversation"}, status=404)
    data = _body(request)
    sender, text, ts, before = data.get("sender"), data.get("text"), data.get("ts"), data.get("before") or ""
    if sender not in Message.Sender.values or not isinstance(text, str) or not isinstance(before, str):
        return _json({"error": "bad_message", "message": "sender (user or bot) and text are required"}, status=400)
    sent_at = None
    if isinstance(ts, (int, float)) and not isinstance(ts, bool) and 0 < ts < 1e14:
        sent_at = datetime.fromtimestamp(ts / 1000, tz=timezone.utc)
    try:
        recorded = services.message_record(
            conversation=current, sender=sender, text=text, sent_at=sent_at, before_transforms=before
        )
    except services.TimedOut as exc:
        return _json({"error": "timed_out", "message": str(exc)}, status=409)
    except StudyError as exc:
        return _json({"error": "refused", "message": str(exc)}, status=409)
    current.refresh_from_db()
    return _json({"id": recorded.pk, "index": recorded.index, "turns": current.user_turns})


@require_POST
def annotate(request: HttpRequest, slug: str) -> JsonResponse:
    """Labels on one bot message of the current chat: ``{"message": id, "labels": [...]}``."""
    study, current = _current(request, slug, StudyConversation.Status.CHATTING)
    if current is None:
        return _json({"error": "no_conversation"}, status=404)
    data = _body(request)
    labels = data.get("labels")
    target = current.messages.filter(pk=data.get("message")).first() if isinstance(data.get("message"), int) else None
    if target is None or not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return _json({"error": "bad_annotation", "message": "message (an id) and labels (a list) are required"}, 400)
    try:
        annotation = services.annotation_create(message=target, labels=labels)
    except StudyError as exc:
        return _json({"error": "refused", "message": str(exc)}, status=409)
    return _json({"message": target.pk, "labels": annotation.labels})


@require_POST
def finish_chat(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "chat")
    if step.redirect:
        return step.redirect
    current = services.conversation_open(step.participant)
    try:
        services.conversation_finish(conversation=current)
    except StudyError as exc:
        return _page(request, "closed.html", step.study, message=str(exc), back=reverse("studies:chat", args=[slug]))
    return redirect(reverse("studies:questionnaire", args=[slug]))


@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "questionnaire")
    if step.redirect:
        return step.redirect
    current = services.conversation_open(step.participant)
    error = ""
    answers = {q["id"]: request.POST.get(q["id"], "") for q in step.study.questionnaire}
    if request.method == "POST":
        try:
            services.questionnaire_submit(conversation=current, answers=answers)
            following = participant_next(step.participant)
            if following.over_limit or following.full:
                services.participation_finish(participant=step.participant)
                return redirect(reverse("studies:done", args=[slug]))
            return redirect(reverse("studies:next", args=[slug]))
        except StudyError as exc:
            error = str(exc)
    questions = []
    for q in step.study.questionnaire:
        item = dict(q, value=answers.get(q["id"], ""))
        if q["type"] == "likert":
            item["points"] = [str(i) for i in range(1, q["scale"] + 1)]
        questions.append(item)
    return _page(
        request,
        "questionnaire.html",
        step.study,
        questions=questions,
        assistant=current.study_bot.participant_label,
        error=error,
        status=400 if error else 200,
    )


@require_GET
def done(request: HttpRequest, slug: str) -> HttpResponse:
    step = _Step(request, slug, "done")
    if step.redirect:
        return step.redirect
    return _page(request, "done.html", step.study, participant=step.participant, Stage=Participant.Stage)
