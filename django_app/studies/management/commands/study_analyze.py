"""``manage.py study_analyze STUDY`` or ``--ratings R.csv --pairwise P.csv --annotations A.csv``: a study's results.

A thin wrapper over the analysis library's command line (``python -m studies.analysis``, docs/studies_analysis.md):
with a study's slug the records come from the database (``studies.analysis_data.study_data``), otherwise from the
CSV files. ``--json`` prints one JSON object, ``--markdown`` a report, ``--seed N`` makes every resampling
reproducible. A bad file is one line on stderr naming the file, line and column, with exit status 1.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.analysis import DEFAULT_DRAWS, AnalysisError, cli
from studies.analysis_data import question_texts, study_data
from studies.models import Study

from ._analysis_cli import options_argv, parse_analyze_options, run_cli

FILES = ("ratings", "pairwise", "annotations", "success", "exclusions", "choices")
FLAGS = ("json", "markdown", "html", "include_excluded")
VALUES = (*FILES, "charts", "seed", "draws", "alpha", "win_rate", "difference", "power")


class Command(BaseCommand):
    help = (
        "Analyse a study (its slug) or tidy CSV files (--ratings, --pairwise, --annotations, --success, "
        "--exclusions, --choices): ratings with bootstrap intervals, agreement, pairwise tests, a Bradley-Terry "
        "ranking, multiple-choice shares, rater consistency, annotation shares, success rates and verdicts. "
        "See docs/studies_analysis.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", nargs="?", help="a study's slug (its completed conversations)")
        for name in FILES:
            parser.add_argument(f"--{name}", type=Path, help=f"{name}.csv (see docs/studies_analysis.md)")
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help="print one JSON object")
        output.add_argument("--markdown", action="store_true", help="print a Markdown report")
        output.add_argument("--html", action="store_true", help="print a self-contained HTML report (inline charts)")
        parser.add_argument("--charts", type=Path, metavar="DIR", help="also write SVG charts into this folder")
        parser.add_argument("--seed", type=int, help="seed for every resampling (default: a fresh one)")
        parser.add_argument("--draws", type=int, help=f"bootstrap draws (default {DEFAULT_DRAWS})")
        parser.add_argument("--include-excluded", action="store_true", help="keep what acceptability checks excluded")
        parser.add_argument("--nominal", action="append", metavar="QUESTION", help="a nominal rating question")
        parser.add_argument("--alpha", type=float, help="significance level (0.05)")
        parser.add_argument("--win-rate", type=float, help="win rate the verdicts ask to detect (0.6)")
        parser.add_argument("--difference", type=float, help="rating difference the verdicts ask to detect (0.3)")
        parser.add_argument("--power", type=float, help="power the verdicts ask for (0.8)")

    def handle(self, *args, study: str | None, **options) -> None:
        argv = options_argv(options, FLAGS, VALUES, ("nominal",))
        if not study:
            run_cli(self, argv)
            return
        if any(options.get(name) for name in FILES):
            raise CommandError("name a study or give CSV files, not both")
        record = Study.objects.filter(slug=study).first()
        if record is None:
            raise CommandError(f"no study {study!r}")
        # the library's own parser checks the options (ranges, defaults); the records come from the database
        parsed = parse_analyze_options(argv)
        try:
            result = cli.analyze_as_asked(study_data(record), parsed)
        except AnalysisError as error:
            raise CommandError(f"error: {error}") from error
        if parsed.charts:
            for path in cli.write_charts(result, parsed.charts):
                self.stderr.write(f"wrote {path}")
        text = cli.render_as_asked(
            result, parsed, title=record.title, html_title=f"{record.title}: results", questions=question_texts(record)
        )
        self.stdout.write(text, ending="")
