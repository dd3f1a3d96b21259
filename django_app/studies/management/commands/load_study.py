"""``manage.py load_study study.yml``: create or update a study from its YAML file (by slug)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.pairwise import study_file_load
from studies.study_file import StudyFileError, parse_study_file


class Command(BaseCommand):
    help = (
        "Create or update the study (chat or pairwise) a YAML file describes (format: docs/studies.md). Loading it "
        "again updates it; nothing is written unless the whole file is valid; mistakes are listed with their line "
        "and field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the study YAML file")

    def handle(self, *args, path: Path, **options) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            result = study_file_load(spec=parse_study_file(text, source=str(path)), source=str(path))
        except StudyFileError as exc:
            count = len(exc.problems)
            raise CommandError(f"{count} mistake{'s' if count > 1 else ''}, nothing loaded:\n{exc}") from None
        study = result.study
        verb = "created" if result.created else "updated"
        if study.is_pairwise:
            bots = ", ".join(sb.bot_id for sb in study.study_bots.filter(active=True))
            quota = study.pairwise["quota"]
            self.stdout.write(f"{verb}: pairwise study {study.slug!r} with bots {bots} ({quota} judged pairs per pair)")
            return
        bots = ", ".join(f"{sb.bot_id} ({sb.quota})" for sb in study.study_bots.filter(active=True))
        self.stdout.write(f"{verb}: study {study.slug!r} with bots {bots}")
