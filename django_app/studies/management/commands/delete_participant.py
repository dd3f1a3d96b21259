"""``manage.py delete_participant EXTERNAL_ID``: delete what one participant entered, on request."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.models import Study
from studies.services import participant_delete


class Command(BaseCommand):
    help = (
        "Delete one participant's data (consent, quiz, conversations, messages, labels, answers) by the external id "
        "they arrived with (e.g. a Prolific PID), in every study or in --study SLUG; later exports no longer hold it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_id", help="the participant's id on the crowd platform (hashed before lookup)")
        parser.add_argument("--study", help="only in this study")

    def handle(self, *args, external_id: str, study: str | None, **options) -> None:
        found = None
        if study:
            found = Study.objects.filter(slug=study).first()
            if found is None:
                raise CommandError(f"no study {study!r}")
        count = participant_delete(external_id=external_id, study=found)
        if not count:
            raise CommandError("no participant with that external id")
        self.stdout.write(f"deleted {count} participant record{'s' if count > 1 else ''}")
