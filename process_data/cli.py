"""Command-line interface: ``python -m process_data csv INPUT --out DIR`` (and ``telegram``).

The CLI only parses arguments and prints; the library does the work. Errors
become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .api import DEFAULT_TEST_FILE, convert_csv, convert_telegram
from .convert import CONFLICT_POLICIES, CleaningOptions
from .csv_reader import Columns
from .errors import ConversionError
from .summary import ProgressBar, print_warnings, render_summary

PROGRESS_MIN_BYTES = 8 << 20  # a progress bar only for inputs that take a while


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: '{value}'") from None
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, not {value}")
    return number


def _add_common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--out", required=True, help="the Rasa project folder to write into")
    cmd.add_argument("--action-map", help="YAML file mapping intents to custom actions that answer them")
    cmd.add_argument(
        "--responses",
        metavar="FILE",
        help="responses file: YAML 'intent: text' (or a list of texts) or CSV with intent,response columns; "
        "overrides a response column",
    )
    cmd.add_argument(
        "--domain-file",
        default="domain.yml",
        help="where to write the domain, relative to --out (default: domain.yml)",
    )
    cmd.add_argument(
        "--conflicts",
        choices=CONFLICT_POLICIES,
        default="first",
        help="a text labelled with two intents (compared ignoring case) is kept under the first one (default), "
        "the majority, or dropped; each case is reported with both line numbers",
    )
    cmd.add_argument(
        "--fold-case",
        action="store_true",
        help="drop texts that differ only in case from an earlier one of the same intent as duplicates "
        "(default: keep them as examples of their own, as Rasa counts them)",
    )
    cmd.add_argument(
        "--test-fraction",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="hold out this share of every intent (stratified, seeded) as Rasa NLU test data (default: 0, no split)",
    )
    cmd.add_argument("--seed", type=int, default=42, help="random seed of the split (default: 42)")
    cmd.add_argument(
        "--test-file",
        default=DEFAULT_TEST_FILE,
        help=f"where the held-out examples go, relative to --out (default: {DEFAULT_TEST_FILE})",
    )
    cmd.add_argument("--stories", action="store_true", help="also write data/stories.yml (a story per intent)")
    cmd.add_argument(
        "--min-examples",
        type=int,
        default=2,
        metavar="N",
        help="warn about intents with fewer than N examples (default: 2)",
    )
    cmd.add_argument(
        "--max-imbalance",
        type=float,
        default=10.0,
        metavar="R",
        help="warn when the largest intent has more than R times the examples of the smallest (default: 10; 0: off)",
    )
    cmd.add_argument("--strict", action="store_true", help="treat every warning as an error (nothing is written)")
    cmd.add_argument("-q", "--quiet", action="store_true", help="print no summary and no warnings")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to test the help texts)."""
    parser = argparse.ArgumentParser(
        prog="python -m process_data",
        description="Convert customer-service corpora into Rasa training data.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    csv_cmd = sub.add_parser(
        "csv",
        help="convert a CSV corpus (utterance, intent, optional response, category and entity columns)",
        description="Convert a CSV corpus into OUT/data/nlu.yml, OUT/data/rules.yml and a domain. "
        "Columns, encoding and delimiter are detected unless given; a column given by a --*-column option "
        "always wins: no detected role takes it (the summary says which were left out).",
    )
    csv_cmd.add_argument("input", help="the CSV file")
    csv_cmd.add_argument("--text-column", help="column holding the utterance (default: detected)")
    csv_cmd.add_argument("--intent-column", help="column holding the intent (default: detected)")
    csv_cmd.add_argument("--response-column", help="column holding the bot's answer (default: detected)")
    csv_cmd.add_argument(
        "--category-column", help="column grouping intents, e.g. Bitext's category (default: detected)"
    )
    csv_cmd.add_argument("--entity-type-column", help="column holding an entity's type (default: entity_type)")
    csv_cmd.add_argument("--entity-value-column", help="column holding an entity's text (default: entity_value)")
    csv_cmd.add_argument(
        "--entity-start-column",
        help="column holding the entity's start offset (default: start_offset; without offsets the value is "
        "looked up in the text)",
    )
    csv_cmd.add_argument(
        "--entity-end-column", help="column holding the entity's end offset, exclusive (default: end_offset)"
    )
    csv_cmd.add_argument(
        "--encoding", help="the file's encoding, e.g. cp1252 (default: UTF-8, or UTF-16 when it starts with a BOM)"
    )
    csv_cmd.add_argument("--delimiter", help="field delimiter: , ; | or tab (default: detected from the header)")
    _add_common(csv_cmd)

    tg_cmd = sub.add_parser(
        "telegram",
        help="convert a Telegram Desktop export (result.json) into a pairs CSV and Rasa training data",
        description="Convert a Telegram Desktop JSON export (one chat, or a full export with chats.list) into "
        "OUT/telegram_pairs.csv (client,server,chat,date) and Rasa training data: each reply becomes an "
        "intent answered by that reply.",
    )
    tg_cmd.add_argument("input", help="result.json, or the export folder holding it")
    tg_cmd.add_argument("--server-id", help="from_id of the side that answers, e.g. user123 (default: the owner)")
    tg_cmd.add_argument("--server-name", help="display name of the side that answers")
    tg_cmd.add_argument(
        "--pairs-file",
        default="telegram_pairs.csv",
        help="where the pairs CSV goes, relative to --out (default: telegram_pairs.csv)",
    )
    _add_common(tg_cmd)

    index_cmd = sub.add_parser(
        "index",
        help="build the reply index of past answers (from a pairs CSV) that the assistant's fallback uses",
        description="Build the reply index of a bot's past conversations into OUT (retrieval-<digest>.npz), only "
        "when its pairs or settings changed. The settings file's 'pairs:' names the pairs CSV (client,server,chat "
        "as 'telegram' writes it), relative to the settings' folder. Without a pairs file there is no index and "
        "the assistant keeps its normal fallback.",
    )
    index_cmd.add_argument(
        "--settings", default="rasa_bot/retrieval.yml", help="the bot's retrieval settings (default: %(default)s)"
    )
    index_cmd.add_argument("--pairs", help="a pairs CSV to use instead of the one the settings name")
    index_cmd.add_argument("--out", required=True, help="folder for the index files (beside the models)")
    index_cmd.add_argument(
        "--current",
        metavar="NAME",
        help="also keep a copy under this fixed name in OUT, e.g. retrieval-current.npz, for RETRIEVAL_INDEX",
    )
    return parser


def _index(args: argparse.Namespace) -> int:
    from .retrieval import index_for_bot

    try:
        result = index_for_bot(args.settings, args.out, pairs_file=args.pairs, current=args.current)
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.path is None:
        print("no pairs file: no reply index (the assistant keeps its normal fallback)")
    else:
        state = "built" if result.built else "up to date"
        print(f"{state}: reply index of {result.pairs:,} past pairs: {result.path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "index":
        return _index(args)
    common = dict(
        action_map=args.action_map,
        domain_file=args.domain_file,
        responses=args.responses,
        cleaning=CleaningOptions(
            conflicts=args.conflicts,
            fold_case=args.fold_case,
            min_examples=args.min_examples,
            max_imbalance=args.max_imbalance,
        ),
        test_fraction=args.test_fraction,
        seed=args.seed,
        test_file=args.test_file,
        stories=args.stories,
        strict=args.strict,
    )
    bar = None
    try:
        if args.command == "csv":
            if not args.quiet and sys.stderr.isatty() and _size(args.input) >= PROGRESS_MIN_BYTES:
                bar = ProgressBar(f"reading {os.path.basename(args.input)}")
            columns = Columns(
                text=args.text_column,
                intent=args.intent_column,
                response=args.response_column,
                category=args.category_column,
                entity_type=args.entity_type_column,
                entity_value=args.entity_value_column,
                entity_start=args.entity_start_column,
                entity_end=args.entity_end_column,
            )
            result = convert_csv(
                args.input,
                args.out,
                columns=columns,
                encoding=args.encoding,
                delimiter=args.delimiter,
                progress=bar,
                **common,
            )
        else:
            result = convert_telegram(
                args.input,
                args.out,
                server_id=args.server_id,
                server_name=args.server_name,
                pairs_file=args.pairs_file,
                **common,
            )
    except ConversionError as exc:
        if bar is not None:
            bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if bar is not None:
        bar.close()
    if not args.quiet:
        sys.stdout.write(render_summary(result))
        print_warnings(result.data.warnings, sys.stderr)
    return 0


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
