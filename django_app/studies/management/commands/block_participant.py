"""``manage.py block_participant ID... [--study SLUG] [--unblock]``: the soft block list of external ids."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.models import Study
from studies.services import external_ids_block, external_ids_unblock


class Command(BaseCommand):
    help = (
        "Soft-block external ids (e.g. Prolific PIDs): they are turned away politely when they arrive, in --study "
        "SLUG or in every study. Only the ids' keyed hashes are stored. --unblock lifts the blocks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("external_ids", nargs="+", help="the ids on the crowd platform")
        parser.add_argument("--study", help="only in this study (default: every study)")
        parser.add_argument("--unblock", action="store_true", help="lift the blocks instead")

    def handle(self, *args, external_ids: list[str], study: str | None, unblock: bool, **options) -> None:
        found = None
        if study:
            found = Study.objects.filter(slug=study).first()
            if found is None:
                raise CommandError(f"no study {study!r}")
        where = f"study {study!r}" if study else "every study"
        if unblock:
            self.stdout.write(f"unblocked {external_ids_unblock(external_ids=external_ids, study=found)} in {where}")
        else:
            self.stdout.write(f"blocked {external_ids_block(external_ids=external_ids, study=found)} new in {where}")
