"""The rater's page of a pairwise study: two finished conversations side by side, the questions, the next pair.

Thin, like ``studies.views`` (whose ``_Step`` resolves the study and the rater and sends them where they belong):
it validates the form and calls :mod:`studies.pairwise`. Nothing on the page names a blind study's bots: the sides
are "Conversation A" and "Conversation B", the form carries only the pair's random token, and no conversation id.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import pairwise, services
from .models import Study
from .services import StudyError
from .views import _page, _remember, _Step


@require_http_methods(["GET", "POST"])
def judge(request: HttpRequest, slug: str) -> HttpResponse:
    """The rater's current pair (drawn on first visit), its questions; or the end when all are judged."""
    step = _Step(request, slug, "judge")
    if step.redirect:
        return step.redirect
    study, participant = step.study, step.participant
    questions = (study.pairwise or {}).get("questions") or []
    error, status = "", 200
    answers = {q["id"]: request.POST.get(q["id"], "") for q in questions}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "finish":
                pairwise.judging_finish(participant=participant)
                return redirect(reverse("studies:done", args=[slug]))
            pairwise.pair_answer(
                participant=participant,
                token=request.POST.get("token", ""),
                answers=answers,
                reason=request.POST.get("reason", ""),
            )
            return redirect(reverse("studies:judge", args=[slug]))
        except StudyError as exc:
            error, status = str(exc), 400
    pair = pairwise.pair_next(participant=participant)
    progress = pairwise.rater_progress(participant)
    if pair is None:
        if progress.done and not error:
            pairwise.judging_finish(participant=participant)
            return redirect(reverse("studies:done", args=[slug]))
        message = error or "There is nothing left to judge in this study right now. Thank you for your interest."
        return _page(request, "closed.html", study, message=message, status=status if error else 200)
    if pair.token and str(pair.token) != request.POST.get("token", str(pair.token)):
        answers = {}  # a stale page's answers are not carried over to another pair
    sides = []
    for name, conversation, bot in (
        ("A", pair.left_conversation, pair.left_bot),
        ("B", pair.right_conversation, pair.right_bot),
    ):
        try:
            transcript = pairwise.transcript_get(study, conversation)
        except pairwise.MaterialGone:
            pairwise.pair_drop(pair=pair)
            return redirect(reverse("studies:judge", args=[slug]))
        sides.append(
            {
                "name": name,
                "label": "" if study.blind else bot.display_label,
                "scenario": transcript.scenario_text,
                "messages": transcript.messages,
            }
        )
    shared_scenario = sides[0]["scenario"] if sides[0]["scenario"] == sides[1]["scenario"] else ""
    return _page(
        request,
        "judge.html",
        study,
        pair=pair,
        sides=sides,
        shared_scenario=shared_scenario,
        questions=[dict(q, value=answers.get(q["id"], "")) for q in questions],
        reason=(study.pairwise or {}).get("reason", True),
        number=progress.done + 1,
        total=progress.total,
        can_finish=progress.done > 0,
        error=error,
        status=status,
    )


def staff_judge(request: HttpRequest, study: Study) -> HttpResponse:
    """A staff member judges pairs as a rater (from the study's admin page; ``admin_view`` checks staff).

    The rater is the participant enrolled under an external id derived from the user's id with the site's secret
    (``services.staff_external_id``, source ``staff``, kept as its keyed hash like any external id): a staff member
    resumes in any browser, their judgements can be told apart, and nobody can arrive with that id in a crowd link
    (nor is a staff rater ever resumed from one). They go through the same consent, quiz and instructions.
    """
    try:
        participant = services.participant_enrol(
            study=study,
            source=services.STAFF_SOURCE,
            external_id=services.staff_external_id(request.user.pk),
            invite=study.invite_token,
        )
    except StudyError as exc:
        return _page(request, "closed.html", study, message=str(exc), status=403)
    except ImproperlyConfigured as exc:  # STUDIES_ID_KEY is not set
        return _page(request, "closed.html", study, message=str(exc), status=503)
    _remember(request, participant)
    return redirect(reverse("studies:start", args=[study.slug]))
