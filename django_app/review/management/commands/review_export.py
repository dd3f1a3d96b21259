"""``manage.py review_export``: the reviewers' corrections as Rasa training data beside the corpus."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from process_data.errors import ConversionError
from process_data.redact import Redactor
from review.exports import DOMAIN_FILE, NLU_FILE, default_bot_dir, training_export
from review.training import RedactionOptions, intent_name_problem


def redaction_options(options: dict) -> RedactionOptions:
    """The redaction the --order-numbers and --team-name flags ask for."""
    mode = options["order_numbers"]
    redactor = Redactor(tuple(options["team_name"]), order_numbers=mode != "keep")
    return RedactionOptions(redactor=redactor, order_placeholders=mode == "placeholder")


def add_redaction_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--order-numbers",
        choices=("keep", "redact", "placeholder"),
        default="keep",
        help="order numbers: kept (default), redacted to [order], or replaced by a neutral number keeping their "
        "order_id entity annotation",
    )
    parser.add_argument("--team-name", action="append", default=[], help="a team member's name to redact (repeatable)")


class Command(BaseCommand):
    help = (
        "Write the corrections as training data: a Rasa NLU file (default BOT_DIR/data/review_nlu.yml, with "
        "reviewer, date and source conversation as metadata), optionally a CSV in the corpus format, and a "
        "domain file naming new intents. Texts are redacted; examples the corpus already has are skipped and "
        "texts it labels otherwise are reported as conflicts. Running it twice writes the same files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bot-dir", type=Path, help="the Rasa project (default: rasa_bot/ of the repository)")
        parser.add_argument("--bot", help="only this bot's conversations (default: all)")
        parser.add_argument("--nlu", type=Path, help=f"the NLU file (default: BOT_DIR/{NLU_FILE})")
        parser.add_argument("--csv", type=Path, help="also write the examples as a CSV in the corpus format")
        parser.add_argument(
            "--domain", type=Path, help=f"the new intents' domain file (default: BOT_DIR/{DOMAIN_FILE})"
        )
        parser.add_argument(
            "--out-of-scope-intent",
            help="export messages marked out of scope as examples of this intent (default: leave them out)",
        )
        parser.add_argument(
            "--test-file",
            type=Path,
            help="also write every reviewed message with its reviewed intent as an NLU file to evaluate a model on",
        )
        add_redaction_arguments(parser)

    def handle(self, *args, **options) -> None:
        bot_dir = options["bot_dir"] or default_bot_dir()
        if not (bot_dir / "data").is_dir():
            raise CommandError(f"{bot_dir}: not a Rasa project (no data/ folder); give --bot-dir")
        oos = options["out_of_scope_intent"]
        if oos and intent_name_problem(oos):
            raise CommandError(f"--out-of-scope-intent: {intent_name_problem(oos)}")
        try:
            result = training_export(
                bot_dir=bot_dir,
                nlu=options["nlu"],
                csv_path=options["csv"],
                domain=options["domain"],
                bot=options["bot"],
                out_of_scope_intent=oos,
                options=redaction_options(options),
                test_file=options["test_file"],
            )
        except (ConversionError, OSError) as exc:
            raise CommandError(str(exc)) from None
        plan = result.plan
        for line in plan.conflicts:
            self.stdout.write(f"conflict: {line}")
        for line in plan.refused:
            self.stdout.write(f"refused: {line}")
        if plan.new_intents:
            self.stdout.write(f"new intents (give each a response or rule): {', '.join(plan.new_intents)}")
        if result.out_of_scope:
            self.stdout.write(f"{result.out_of_scope} messages marked out of scope left out (--out-of-scope-intent)")
        self.stdout.write(plan.summary())
        for path in result.files:
            self.stdout.write(f"wrote {path}")
