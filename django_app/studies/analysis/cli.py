"""Command line: ``python -m studies.analysis`` analyses CSV files; ``python -m studies.analysis plan`` sizes a study.

The library does the work; this module only parses arguments, prints, and turns the library's errors into one line
on stderr and exit status 1 (argparse's usage errors exit with 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import charts
from .analyze import DEFAULT_ALPHA, DEFAULT_DIFFERENCE, DEFAULT_DRAWS, DEFAULT_POWER, DEFAULT_WIN_RATE, analyze
from .errors import AnalysisError
from .planning import rating_difference_sample_size, win_rate_sample_size
from .readers import read_study
from .report import render_html, render_markdown, render_text
from .types import AnalysisResult

PROG = "python -m studies.analysis"


def analyze_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Analyse a human-evaluation study from tidy CSV files: ratings with bootstrap intervals, agreement "
            "(Krippendorff's alpha), pairwise win rates with exact binomial tests and Holm's adjustment, a "
            "Bradley-Terry ranking, annotation shares and success rates. "
            f"See also: {PROG} plan --help (how many judgements or conversations a study needs)."
        ),
    )
    files = parser.add_argument_group("input files (at least one)")
    files.add_argument("--ratings", type=Path, help="ratings.csv: conversation,bot,rater,question,value")
    files.add_argument("--pairwise", type=Path, help="pairwise.csv: rater,question,bot_a,bot_b,winner (a, b or tie)")
    files.add_argument("--annotations", type=Path, help="annotations.csv: conversation,bot,turn,rater,labels")
    files.add_argument("--choices", type=Path, help="choices.csv: conversation,bot,rater,question,value (an option)")
    files.add_argument("--success", type=Path, help="success.csv: conversation,bot,scenario,success")
    files.add_argument("--exclusions", type=Path, help="exclusions.csv: check,conversation,rater")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object instead of a text summary")
    output.add_argument("--markdown", action="store_true", help="print a Markdown report instead of a text summary")
    output.add_argument(
        "--html", action="store_true", help="print a self-contained HTML report (inline charts, nothing fetched)"
    )
    parser.add_argument("--charts", type=Path, metavar="DIR", help="also write SVG charts into this folder")
    parser.add_argument("--seed", type=_non_negative, help="seed for every resampling (default: a fresh one, printed)")
    parser.add_argument("--draws", type=_positive, default=DEFAULT_DRAWS, help="bootstrap draws (default %(default)s)")
    parser.add_argument(
        "--include-excluded", action="store_true", help="keep what acceptability checks excluded (still counted)"
    )
    parser.add_argument(
        "--nominal",
        action="append",
        default=[],
        metavar="QUESTION",
        help="a rating question whose numbers are categories (agreement at the nominal level); repeatable",
    )
    parser.add_argument("--alpha", type=_probability, default=DEFAULT_ALPHA, help="significance level (%(default)s)")
    verdicts = parser.add_argument_group("verdicts (can the study tell its bots apart?)")
    verdicts.add_argument(
        "--win-rate", type=_probability, default=DEFAULT_WIN_RATE, help="win rate to detect (%(default)s)"
    )
    verdicts.add_argument(
        "--difference", type=float, default=DEFAULT_DIFFERENCE, help="rating difference to detect (%(default)s)"
    )
    verdicts.add_argument("--power", type=_probability, default=DEFAULT_POWER, help="power (%(default)s)")
    return parser


def plan_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} plan",
        description=(
            "How many judgements (to detect a win rate against 50%%) or conversations per bot (to detect a "
            "difference of mean ratings) a study needs for a given power."
        ),
    )
    parser.add_argument("--win-rate", type=_probability, help="win rate to detect, e.g. 0.6")
    parser.add_argument("--difference", type=float, help="difference of mean ratings to detect, e.g. 0.3")
    parser.add_argument("--sd", type=float, default=1.0, help="standard deviation of one rating (default %(default)s)")
    parser.add_argument("--power", type=_probability, default=DEFAULT_POWER, help="power (default %(default)s)")
    parser.add_argument("--alpha", type=_probability, default=DEFAULT_ALPHA, help="significance level (%(default)s)")
    parser.add_argument(
        "--comparisons", type=_positive, default=1, help="pairs of bots compared (alpha is divided by it; default 1)"
    )
    parser.add_argument("--tie-rate", type=float, default=0.0, help="expected share of ties (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["plan"]:
            return _plan(plan_parser(), args[1:])
        return _analyze(analyze_parser(), args)
    except AnalysisError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _analyze(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args = parser.parse_args(argv)
    if not any((args.ratings, args.pairwise, args.annotations, args.success, args.choices)):
        parser.error("give at least one of --ratings, --pairwise, --annotations, --success, --choices")
    data = read_study(
        ratings=args.ratings,
        pairwise=args.pairwise,
        annotations=args.annotations,
        success=args.success,
        exclusions=args.exclusions,
        choices=args.choices,
    )
    result = analyze_as_asked(data, args)
    if args.charts:
        for path in write_charts(result, args.charts):
            print(f"wrote {path}", file=sys.stderr)
    print(render_as_asked(result, args), end="")
    return 0


def analyze_as_asked(data, args: argparse.Namespace) -> AnalysisResult:  # noqa: ANN001 - the readers' StudyData
    """``analyze`` with the options ``analyze`` parsed (``manage.py study_analyze STUDY`` parses the same ones)."""
    return analyze(
        data,
        draws=args.draws,
        seed=args.seed,
        include_excluded=args.include_excluded,
        levels={question: "nominal" for question in args.nominal},
        alpha=args.alpha,
        win_rate=args.win_rate,
        difference=args.difference,
        power=args.power,
    )


def render_as_asked(
    result: AnalysisResult,
    args: argparse.Namespace,
    *,
    title: str = "Study results",
    html_title: str | None = None,
    questions: dict[str, str] | None = None,
) -> str:
    """The result in the format the options ask for: ``--json``, ``--markdown``, ``--html`` (``html_title``, else
    ``title``) or text."""
    if args.json:
        return json.dumps(result, indent=2, allow_nan=False) + "\n"
    if args.markdown:
        return render_markdown(result, title=title, questions=questions)
    if args.html:
        return render_html(result, title=html_title or title, questions=questions)
    return render_text(result, title=title, questions=questions)


def _plan(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    args = parser.parse_args(argv)
    if args.win_rate is None and args.difference is None:
        parser.error("give --win-rate (pairwise judgements) and/or --difference with --sd (ratings)")
    answer: dict[str, dict] = {}
    lines = []
    if args.win_rate is not None:
        plan = win_rate_sample_size(
            args.win_rate, power=args.power, alpha=args.alpha, comparisons=args.comparisons, tie_rate=args.tie_rate
        )
        answer["pairwise"] = plan.to_dict()
        ties = f"; with {plan.tie_rate:.0%} ties, {plan.judgements} judgements" if plan.tie_rate else ""
        lines.append(
            f"To detect a win rate of {plan.win_rate:.0%} against 50% with {plan.power:.0%} power at alpha = "
            f"{plan.alpha:g}{_over(plan.comparisons)}: {plan.decisive_judgements} decisive judgements per pair of "
            f"bots{ties} (power {plan.achieved_power:.3f}; {plan.method})."
        )
    if args.difference is not None:
        rating = rating_difference_sample_size(
            args.difference, args.sd, power=args.power, alpha=args.alpha, comparisons=args.comparisons
        )
        answer["ratings"] = rating.to_dict()
        lines.append(
            f"To detect a difference of mean ratings of {rating.difference:g} (SD {rating.sd:g}) with "
            f"{rating.power:.0%} power at alpha = {rating.alpha:g}{_over(rating.comparisons)}: "
            f"{rating.conversations_per_bot} rated conversations per bot (power {rating.achieved_power:.3f}; "
            f"{rating.method})."
        )
    print(json.dumps(answer, indent=2) if args.json else "\n".join(lines))
    return 0


def _over(comparisons: int) -> str:
    return f" over {comparisons} comparisons" if comparisons > 1 else ""


def write_charts(result: AnalysisResult, folder: Path) -> list[Path]:
    """Write every chart of an analysis into ``folder`` as SVG files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for question, stats in result["ratings"].items():
        written.append(
            _write(folder / f"ratings-{_slug(question)}.svg", charts.ratings_chart(stats, question=question))
        )
    for question in dict.fromkeys(e["question"] for e in result["pairwise"]):
        svg = charts.win_matrix_chart(result["pairwise"], question=question, alpha=result["meta"]["alpha"])
        written.append(_write(folder / f"pairwise-{_slug(question)}.svg", svg))
    for question, stats in result["bradley_terry"].items():
        svg = charts.bradley_terry_chart(stats, question=question)
        written.append(_write(folder / f"bradley-terry-{_slug(question)}.svg", svg))
    for question, stats in result.get("choices", {}).items():
        svg = charts.choices_chart(stats, question=question)
        written.append(_write(folder / f"choices-{_slug(question)}.svg", svg))
    return written


def _write(path: Path, text: str) -> Path:
    """Replace ``path`` atomically: a failure never leaves half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "question"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value
