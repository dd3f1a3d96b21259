"""``manage.py load_bots bots.yml``: make the registry match a YAML file (reproducible deployments)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.bots_file import BotsFileError, parse_bots_file
from bots.services import bots_load


class Command(BaseCommand):
    help = (
        "Create or update the bots a YAML file describes (see django_app/bots/bots_file.py for the format). "
        "Nothing is written unless the whole file is valid; mistakes are listed with their line, bot and field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the bots YAML file")
        parser.add_argument(
            "--prune", action="store_true", help="disable registered bots the file does not name (kept, not deleted)"
        )

    def handle(self, *args, path: Path, prune: bool, **options) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            entries = parse_bots_file(text, source=str(path))
            result = bots_load(entries=entries, source=str(path), prune=prune)
        except BotsFileError as exc:
            count = len(exc.problems)
            raise CommandError(f"{count} mistake{'s' if count > 1 else ''}, nothing loaded:\n{exc}") from None
        for verb, ids in (
            ("created", result.created),
            ("updated", result.updated),
            ("unchanged", result.unchanged),
            ("disabled", result.disabled),
        ):
            if ids:
                self.stdout.write(f"{verb}: {', '.join(ids)}")
