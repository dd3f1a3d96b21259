"""What ``study_analyze`` and ``study_plan`` share: run the analysis library's command line inside a command."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

from django.core.management.base import BaseCommand, CommandError

from studies.analysis import cli


def run_cli(command: BaseCommand, argv: Sequence[str]) -> None:
    """Run ``python -m studies.analysis ARGV`` into the command's streams; its error becomes a CommandError.

    The library prints its error as one line on stderr and returns 1; the command raises it again as a
    CommandError (one line, ``CommandError: error: ...``, exit status 1 from manage.py).
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(argv))
        except SystemExit as stop:  # argparse's usage errors
            status = stop.code if isinstance(stop.code, int) else 2
    if status:
        lines = err.getvalue().strip().splitlines() or [f"exit status {status}"]
        raise CommandError(lines[-1], returncode=status)
    if err.getvalue():
        command.stderr.write(err.getvalue(), ending="")
    command.stdout.write(out.getvalue(), ending="")


def parse_analyze_options(argv: Sequence[str]):
    """The library's analyze options checked by its own parser; a usage error becomes a one-line CommandError."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return cli.analyze_parser().parse_args(list(argv))
        except SystemExit as stop:
            lines = err.getvalue().strip().splitlines() or ["invalid options"]
            raise CommandError(lines[-1], returncode=stop.code if isinstance(stop.code, int) else 2) from None


def options_argv(options: dict, flags: Sequence[str], values: Sequence[str], lists: Sequence[str] = ()) -> list[str]:
    """Django's parsed options back into the library's arguments (``include_excluded`` → ``--include-excluded``)."""
    argv: list[str] = []
    for name in flags:
        if options.get(name):
            argv.append("--" + name.replace("_", "-"))
    for name in values:
        if options.get(name) is not None:
            argv += ["--" + name.replace("_", "-"), str(options[name])]
    for name in lists:
        for value in options.get(name) or ():
            argv += ["--" + name.replace("_", "-"), str(value)]
    return argv
