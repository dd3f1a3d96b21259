"""``manage.py export_study SLUG --out DIR`` (or ``--all``): a study's CSV and JSON Lines exports (docs/studies.md)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.exports import EXPORTS
from studies.models import Study

#: The name ``--all`` gives its files (every row and record names its study).
ALL_STUDIES = "all-studies"


class Command(BaseCommand):
    help = (
        "Write a study's exports into a folder: SLUG.messages.csv (one row per rated bot message), "
        "SLUG.conversations.csv (one row per conversation) and SLUG.conversations.jsonl; --all writes every "
        f"study into one set ({ALL_STUDIES}.*). Each file is replaced atomically."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="the study (omit with --all)")
        parser.add_argument("--all", action="store_true", help=f"every study, into {ALL_STUDIES}.* files")
        parser.add_argument("--out", type=Path, default=Path("."), help="folder to write into (default: here)")
        parser.add_argument("--kind", choices=sorted(EXPORTS), action="append", help="only these exports")

    def handle(self, *args, slug: str | None, all: bool, out: Path, kind: list[str] | None, **options) -> None:
        if bool(slug) == all:
            raise CommandError("name one study, or give --all")
        studies = list(Study.objects.all()) if all else list(Study.objects.filter(slug=slug))
        if not studies and not all:
            raise CommandError(f"no study {slug!r}")
        if not out.is_dir():
            raise CommandError(f"{out} is not a folder")
        name = ALL_STUDIES if all else studies[0].slug
        for export in kind or sorted(EXPORTS):
            suffix, write = EXPORTS[export]
            target = out / f"{name}{suffix}"
            fd, tmp = tempfile.mkstemp(dir=out, prefix=".export-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                    count = write(studies, fh)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self.stdout.write(f"{target}: {count} {'rows' if suffix.endswith('.csv') else 'records'}")
