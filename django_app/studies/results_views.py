"""Staff pages of a study's results (reached from its admin page; ``StudyAdmin.get_urls`` wraps them in
``admin_view``, so only active staff with view permission see them): the analysis with its charts, the Markdown
report (Markdown, or a self-contained HTML file), and the live progress (a page that refreshes itself and its
JSON)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe

from .analysis import (
    bradley_terry_chart,
    choices_chart,
    ratings_chart,
    render_html,
    render_markdown,
    win_matrix_chart,
)
from .analysis.types import AnalysisResult
from .analysis_data import question_texts, study_live_progress, study_results
from .models import Study

#: Seconds between two refreshes of the progress page.
PROGRESS_REFRESH = 15


def _ci(interval, *, percent: bool = False, digits: int = 2) -> str:
    if not interval:
        return "–"
    low, high = interval
    return f"{low:.0%} – {high:.0%}" if percent else f"{low:.{digits}f} – {high:.{digits}f}"


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _p(value) -> str:
    return "–" if value is None else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def results_context(study: Study, result: AnalysisResult) -> dict[str, Any]:
    """What the results page shows: tables of formatted numbers and the charts as inline SVG."""
    texts = question_texts(study)
    alpha = result["meta"]["alpha"]
    ratings = [
        {
            "question": question,
            "text": texts.get(question, question),
            "chart": mark_safe(ratings_chart(stats, question=texts.get(question, question))),  # noqa: S308 - escaped
            "rows": [(bot, s["n"], s["conversations"], f"{s['mean']:.2f}", _ci(s["ci95"])) for bot, s in stats.items()],
        }
        for question, stats in result["ratings"].items()
    ]
    choices = [
        {
            "question": question,
            "text": texts.get(question, question),
            "chart": mark_safe(choices_chart(stats, question=texts.get(question, question))),  # noqa: S308 - escaped
            "rows": [
                (bot, option, o["count"], s["n"], _pct(o["share"]), _ci(o["ci95"], percent=True))
                for bot, s in stats.items()
                for option, o in s["options"].items()
            ],
        }
        for question, stats in result.get("choices", {}).items()
    ]
    consistency = [
        (
            texts.get(question, question),
            c["checks"],
            c["consistent"],
            _pct(c["share"]),
            _ci(c["ci95"], percent=True),
            sum(1 for r in c["raters"].values() if r["consistent"] < r["checks"]),
        )
        for question, c in result.get("consistency", {}).items()
    ]
    pairwise = []
    for question in dict.fromkeys(e["question"] for e in result["pairwise"]):
        entries = [e for e in result["pairwise"] if e["question"] == question]
        bt = result["bradley_terry"].get(question, {})
        pairwise.append(
            {
                "question": texts.get(question, question),
                "chart": mark_safe(  # noqa: S308 - escaped
                    win_matrix_chart(entries, question=question, alpha=alpha, title=texts.get(question, question))
                ),
                "bt_chart": mark_safe(bradley_terry_chart(bt, question=texts.get(question, question)))  # noqa: S308
                if bt
                else "",
                "rows": [
                    (
                        e["a"],
                        e["b"],
                        e["wins_a"],
                        e["wins_b"],
                        e["ties"],
                        _pct(e["win_rate_a"]),
                        _p(e["p_value"]),
                        _p(e["p_holm"]),
                        "yes" if e["significant"] else "",
                    )
                    for e in entries
                ],
                "bt_rows": [
                    (s["rank"], bot, f"{s['score']:.0f}", _ci(s["ci95"], digits=0), s["n"])
                    for bot, s in sorted(bt.items(), key=lambda item: (item[1]["rank"], -item[1]["score"]))
                ],
            }
        )
    annotations = [
        {
            "label": label,
            "rows": [
                (bot, s["count"], s["n"], _pct(s["share"]), _ci(s["ci95"], percent=True)) for bot, s in stats.items()
            ],
        }
        for label, stats in result["annotations"].items()
    ]
    success = [
        (bot, s["count"], s["n"], _pct(s["share"]), _ci(s["ci95"], percent=True))
        for bot, s in result["success"].items()
    ]
    agreement = [
        (
            name,
            a["level"],
            "–" if a["krippendorff_alpha"] is None else f"{a['krippendorff_alpha']:.2f}",
            a["units"],
            a["raters"],
        )
        for name, a in result["agreement"].items()
    ]
    verdicts = [v["message"] for v in (*result["verdicts"]["ratings"], *result["verdicts"]["pairwise"])]
    acceptability = result["acceptability"]
    return {
        "study": study,
        "meta": result["meta"],
        "ratings": ratings,
        "choices": choices,
        "consistency": consistency,
        "pairwise": pairwise,
        "annotations": annotations,
        "success": success,
        "agreement": agreement,
        "verdicts": verdicts,
        "acceptability": acceptability,
        "checks": sorted(acceptability["checks"].items()),
        "report_url": reverse("admin:studies_study_report", args=[study.pk]),
        "html_report_url": reverse("admin:studies_study_report_html", args=[study.pk]),
        "judgements_url": reverse("admin:studies_study_judgements", args=[study.pk]) if study.is_pairwise else "",
        "progress_url": reverse("admin:studies_study_progress", args=[study.pk]),
        "admin_url": reverse("admin:studies_study_change", args=[study.pk]),
    }


def results_page(request: HttpRequest, study: Study) -> HttpResponse:
    return render(request, "admin/studies/results.html", results_context(study, study_results(study)))


def report_download(request: HttpRequest, study: Study) -> HttpResponse:
    text = render_markdown(study_results(study), title=f"{study.title}: results", questions=question_texts(study))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-results.md"'
    return response


def report_html_download(request: HttpRequest, study: Study) -> HttpResponse:
    """The results as one self-contained HTML file (charts inline, nothing fetched), to attach to a decision."""
    text = render_html(study_results(study), title=f"{study.title}: results", questions=question_texts(study))
    response = HttpResponse(text, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-results.html"'
    return response


def judgements_download(request: HttpRequest, study: Study) -> HttpResponse:
    """A pairwise study's judgements as CSV (``studies.pairwise_exports``)."""
    from .pairwise_exports import judgements_csv

    response = HttpResponse(judgements_csv(study), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}.judgements.csv"'
    return response


def progress_page(request: HttpRequest, study: Study) -> HttpResponse:
    context = {
        "study": study,
        "progress": study_live_progress(study),
        "refresh": PROGRESS_REFRESH,
        "json_url": reverse("admin:studies_study_progress_json", args=[study.pk]),
        "results_url": reverse("admin:studies_study_results", args=[study.pk]),
        "admin_url": reverse("admin:studies_study_change", args=[study.pk]),
    }
    return render(request, "admin/studies/progress.html", context)


def progress_json(request: HttpRequest, study: Study) -> JsonResponse:
    return JsonResponse(study_live_progress(study))
