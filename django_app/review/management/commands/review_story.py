"""``manage.py review_story``: reviewed conversations as Rasa end-to-end test stories."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.exports import STORIES_FILE, default_bot_dir, story_export
from review.models import ReviewConversation

from .review_export import add_redaction_arguments, redaction_options


class Command(BaseCommand):
    help = (
        "Write reviewed conversations as test stories (default BOT_DIR/tests/review_stories.yml, which `rasa "
        "test` runs with the other stories): user messages with the reviewed intents, up to and including the "
        "first corrected one, answered as the bot's rules answer the corrected intent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bot-dir", type=Path, help="the Rasa project (default: rasa_bot/ of the repository)")
        parser.add_argument("--out", type=Path, help=f"the stories file (default: BOT_DIR/{STORIES_FILE})")
        parser.add_argument("--conversation", action="append", default=[], help="a conversation id (repeatable)")
        parser.add_argument("--bot", help="only this bot's conversations")
        add_redaction_arguments(parser)

    def handle(self, *args, **options) -> None:
        bot_dir = options["bot_dir"] or default_bot_dir()
        conversations = ReviewConversation.objects.order_by("chat_id")
        if options["conversation"]:
            conversations = conversations.filter(chat_id__in=options["conversation"])
            missing = set(options["conversation"]) - set(conversations.values_list("chat_id", flat=True))
            if missing:
                raise CommandError(f"not in the review inbox: {', '.join(sorted(missing))}")
        else:
            conversations = conversations.filter(reviewed=True)
        if options["bot"]:
            conversations = conversations.filter(bot_id=options["bot"])
        try:
            result = story_export(
                conversations=list(conversations),
                bot_dir=bot_dir,
                path=options["out"],
                options=redaction_options(options),
            )
        except OSError as exc:
            raise CommandError(str(exc)) from None
        for line in result.skipped:
            self.stdout.write(f"left out: {line}")
        self.stdout.write(f"wrote {result.stories} stories to {result.path}")
