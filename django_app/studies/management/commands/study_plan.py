"""``manage.py study_plan --win-rate 0.6`` / ``--difference 0.3 --sd 1``: how many judgements or conversations a
study needs for a given power (a thin wrapper over ``python -m studies.analysis plan``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from ._analysis_cli import options_argv, run_cli


class Command(BaseCommand):
    help = (
        "How many decisive judgements per pair of bots (to detect a win rate against 50%) or rated conversations "
        "per bot (to detect a difference of mean ratings) a study needs, at a given power and alpha."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--win-rate", type=float, help="win rate to detect, e.g. 0.6")
        parser.add_argument("--difference", type=float, help="difference of mean ratings to detect, e.g. 0.3")
        parser.add_argument("--sd", type=float, help="standard deviation of one rating (default 1)")
        parser.add_argument("--power", type=float, help="power (default 0.8)")
        parser.add_argument("--alpha", type=float, help="significance level (default 0.05)")
        parser.add_argument("--comparisons", type=int, help="pairs of bots compared (default 1)")
        parser.add_argument("--tie-rate", type=float, help="expected share of ties (default 0)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        values = ("win_rate", "difference", "sd", "power", "alpha", "comparisons", "tie_rate")
        run_cli(self, ["plan", *options_argv(options, ("json",), values)])
