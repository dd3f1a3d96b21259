"""``manage.py review_import --bot demo [--conversation ID ...] [--since YYYY-MM-DD]``: conversations into the inbox."""

from __future__ import annotations

from datetime import date

from bots.models import Bot
from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.selectors import conversations_to_import
from review.services import ReviewError, conversations_import
from review.turns import LOW_CONFIDENCE


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Import conversations into the review inbox from their bot's Rasa HTTP API (the tracker store): all of a "
        "bot's conversations, or those named. Every tracker is read before anything is written, so an "
        "unreachable API leaves the inbox as it was. Importing again refreshes a conversation and keeps its "
        "corrections."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bot", help="the bot's id in the registry (default: every Rasa bot with an API)")
        parser.add_argument("--conversation", action="append", default=[], help="a conversation id (repeatable)")
        parser.add_argument("--since", type=_date, help="only conversations started on or after this date")
        parser.add_argument(
            "--low-confidence",
            type=float,
            default=LOW_CONFIDENCE,
            help=f"below this intent confidence a message counts as low confidence (default: {LOW_CONFIDENCE})",
        )

    def handle(self, *args, **options) -> None:
        if options["bot"] and not Bot.objects.filter(pk=options["bot"]).exists():
            raise CommandError(f"--bot {options['bot']!r}: no such bot in the registry")
        chats = conversations_to_import(bot=options["bot"], since=options["since"], ids=options["conversation"])
        if options["conversation"]:
            missing = set(options["conversation"]) - set(chats.values_list("id", flat=True))
            if missing:
                raise CommandError(f"no such conversation of a Rasa bot with an HTTP API: {', '.join(sorted(missing))}")
        try:
            imported = conversations_import(chats=list(chats), low_confidence=options["low_confidence"])
        except ReviewError as exc:
            raise CommandError(str(exc)) from None
        troubled = sum(1 for r in imported if r.priority)
        self.stdout.write(f"imported {len(imported)} conversations ({troubled} with something to look at)")
