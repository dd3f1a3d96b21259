"""Command-line interface: ``python -m process_data csv INPUT --out DIR``.

The CLI only parses arguments and prints; the library does the work. Errors
become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .api import convert_csv
from .csv_reader import Columns
from .errors import ConversionError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to test the help texts)."""
    parser = argparse.ArgumentParser(
        prog="python -m process_data",
        description="Convert customer-service corpora into Rasa training data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    csv_cmd = sub.add_parser(
        "csv",
        help="convert a CSV corpus (utterance, intent, optional response and entity columns)",
        description="Convert a CSV corpus into OUT/data/nlu.yml, OUT/data/rules.yml and a domain.",
    )
    csv_cmd.add_argument("input", help="the CSV file")
    csv_cmd.add_argument("--out", required=True, help="the Rasa project folder to write into")
    csv_cmd.add_argument("--text-column", help="column holding the utterance (default: detected)")
    csv_cmd.add_argument("--intent-column", help="column holding the intent (default: detected)")
    csv_cmd.add_argument("--response-column", help="column holding the bot's answer (default: detected)")
    csv_cmd.add_argument("--action-map", help="YAML file mapping intents to custom actions that answer them")
    csv_cmd.add_argument(
        "--domain-file",
        default="domain.yml",
        help="where to write the domain, relative to --out (default: domain.yml)",
    )
    csv_cmd.add_argument("-q", "--quiet", action="store_true", help="print no summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        result = convert_csv(
            args.input,
            args.out,
            columns=Columns(text=args.text_column, intent=args.intent_column, response=args.response_column),
            action_map=args.action_map,
            domain_file=args.domain_file,
        )
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        width = max(len(k) for k in result.data.stats)
        for key, value in result.data.stats.items():
            print(f"{key:<{width}}  {value:>8,}")
        for warning in result.data.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for path in result.files:
            print(f"wrote {path}")
    return 0
