"""``manage.py import_transcripts STUDY FILE``: conversations from elsewhere, as a pairwise study's material."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.models import Study
from studies.pairwise import transcripts_import
from studies.study_file import StudyFileError
from studies.transcript_file import TranscriptFileError, parse_transcripts


class Command(BaseCommand):
    help = (
        "Import transcripts (JSON Lines: one {id, bot, scenario?, scenario_text?, messages: [{sender, text}]} per "
        "line; or CSV: transcript,bot,sender,text[,scenario,scenario_text], one message per row) into a pairwise "
        "study, as material its raters judge. A transcript imported again is replaced. Nothing is written unless the "
        "whole file is valid. See docs/studies.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", help="the pairwise study's slug")
        parser.add_argument("path", type=Path, help="the transcripts file (.jsonl or .csv)")
        parser.add_argument("--format", choices=("jsonl", "csv"), help="the file's format (default: by its ending)")

    def handle(self, *args, study: str, path: Path, **options) -> None:
        record = Study.objects.filter(slug=study).first()
        if record is None:
            raise CommandError(f"no study {study!r}")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
        try:
            transcripts = parse_transcripts(text, source=str(path), fmt=options.get("format"))
            count = transcripts_import(study=record, transcripts=transcripts, source=str(path))
        except (TranscriptFileError, StudyFileError) as exc:
            problems = exc.problems
            raise CommandError(
                f"{len(problems)} mistake{'s' if len(problems) > 1 else ''}, nothing imported:\n{exc}"
            ) from None
        self.stdout.write(f"imported {count} transcript{'s' if count != 1 else ''} into {record.slug!r}")
