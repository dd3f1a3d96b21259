"""Readers for the tidy CSV files the analysis runs on (from the site's exports, or from anywhere).

- ``ratings.csv``: ``conversation,bot,rater,question,value`` (value: a number, such as a Likert answer 1-5 or 1-7);
- ``choices.csv``: ``conversation,bot,rater,question,value`` (value: the option chosen, as text);
- ``pairwise.csv``: ``rater,question,bot_a,bot_b,winner`` (winner: ``a``, ``b`` or ``tie``), and optionally
  ``conversation_a,conversation_b`` and ``check`` (1 for a repeated check pair; empty or 0 otherwise);
- ``annotations.csv``: ``conversation,bot,turn,rater,labels`` (one row per bot message annotated by one rater; turn:
  a whole number; labels: the ticked labels separated by ``|``, empty when none was ticked);
- ``success.csv``: ``conversation,bot,scenario,success`` (success: 1/0, true/false or yes/no);
- ``exclusions.csv``: ``check`` with ``conversation`` and/or ``rater`` (one row per thing an acceptability check
  excluded).

A header line names the columns, in any order; other columns are ignored. Files are UTF-8 (a byte-order mark is
fine). Anything wrong raises :class:`~studies.analysis.errors.DataError` with the file, the line (the header is
line 1) and the column, and says what was expected.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import DataError
from .records import WINNERS, Annotation, Choice, Exclusion, Judgement, Outcome, Rating, StudyData, Winner

T = TypeVar("T")
LABEL_SEPARATOR = "|"
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


@dataclass(frozen=True)
class Row:
    """One data line of a CSV file: its cells by column name, and where it is."""

    source: str
    line: int
    cells: dict[str, str]

    def error(self, column: str | None, message: str) -> DataError:
        return DataError(message, file=self.source, line=self.line, column=column)

    def text(self, column: str) -> str:
        """A required, non-empty cell."""
        value = self.cells[column].strip()
        if not value:
            raise self.error(column, f"is empty; every row needs a {column}")
        return value

    def optional_text(self, column: str) -> str | None:
        value = self.cells.get(column, "").strip()
        return value or None

    def number(self, column: str) -> float:
        raw = self.text(column)
        try:
            value = float(raw)
        except ValueError:
            raise self.error(column, f"{raw!r} is not a number (write it like 4 or 3.5)") from None
        if not math.isfinite(value):
            raise self.error(column, f"{raw!r} is not a finite number")
        return value

    def whole_number(self, column: str) -> int:
        raw = self.text(column)
        try:
            value = int(raw)
        except ValueError:
            raise self.error(column, f"{raw!r} is not a whole number (write it like 0, 1, 2)") from None
        if value < 0:
            raise self.error(column, f"{raw!r} is negative")
        return value

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        raw = self.text(column)
        value = raw.lower()
        if value not in allowed:
            raise self.error(column, f"{raw!r} is not one of {', '.join(allowed)}")
        return value

    def boolean(self, column: str) -> bool:
        raw = self.text(column)
        value = raw.lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.error(column, f"{raw!r} is not a yes/no value (write 1 or 0, true or false, yes or no)")

    def labels(self, column: str) -> frozenset[str]:
        parts = (part.strip() for part in self.cells[column].split(LABEL_SEPARATOR))
        return frozenset(part for part in parts if part)


def csv_rows(text: str, source: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Iterator[Row]:
    """The data rows of a CSV text whose header must name every ``required`` column.

    Args:
        text: The whole file's text.
        source: The file's name, for error messages.
        required: Columns every file must have.
        optional: Columns read when present.
    """
    records = _records(text, source)
    header = _read_header(records, source, required)
    wanted = [name for name in header if name in required or name in optional]
    for record, line in records:
        if len(record) > len(header):
            raise DataError(f"the row has {len(record)} fields, the header {len(header)}", file=source, line=line)
        cells = dict(zip(header, record, strict=False))  # a short row has fewer cells
        for name in wanted:
            if name not in cells:
                message = f"is missing: the row has {len(record)} fields, the header {len(header)}"
                raise DataError(message, file=source, line=line, column=name)
        yield Row(source, line, {name: cells[name] for name in wanted})


def _read_header(records: Iterator[tuple[list[str], int]], source: str, required: tuple[str, ...]) -> list[str]:
    expected = ",".join(required)
    for record, line in records:
        header = [name.strip().lower() for name in record]
        seen: set[str] = set()
        for name in header:
            if name in seen and name:
                raise DataError("appears twice in the header", file=source, line=line, column=name)
            seen.add(name)
        for name in required:
            if name not in seen:
                message = f"is missing from the header (found: {','.join(header)}; expected at least: {expected})"
                raise DataError(message, file=source, line=line, column=name)
        return header
    raise DataError(f"the file is empty; expected a header line: {expected}", file=source, line=1)


def _records(text: str, source: str) -> Iterator[tuple[list[str], int]]:
    """Non-blank CSV records with the line each starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataError(f"not valid CSV: {error}", file=source, line=reader.line_num) from None
        start, previous = previous + 1, reader.line_num
        if any(cell.strip() for cell in record):
            yield record, start


def read_text(path: str | Path) -> tuple[str, str]:
    """A file's text and its name for messages; undecodable bytes are reported with their line."""
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot be read: {error.strerror or error}", file=source) from None
    try:
        return data.decode("utf-8-sig"), source
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataError("is not UTF-8 text (save the file as UTF-8 CSV)", file=source, line=line) from None


# --- one parser per file kind -------------------------------------------------------------------------------------

RATINGS_COLUMNS = ("conversation", "bot", "rater", "question", "value")
PAIRWISE_COLUMNS = ("rater", "question", "bot_a", "bot_b", "winner")
PAIRWISE_OPTIONAL = ("conversation_a", "conversation_b", "check")
CHOICES_COLUMNS = ("conversation", "bot", "rater", "question", "value")
ANNOTATIONS_COLUMNS = ("conversation", "bot", "turn", "rater", "labels")
SUCCESS_COLUMNS = ("conversation", "bot", "scenario", "success")
EXCLUSIONS_COLUMNS = ("check",)
EXCLUSIONS_OPTIONAL = ("conversation", "rater")


def parse_ratings(text: str, source: str = "ratings.csv") -> list[Rating]:
    """Ratings from the text of a ``ratings.csv`` file."""
    return [
        Rating(row.text("conversation"), row.text("bot"), row.text("rater"), row.text("question"), row.number("value"))
        for row in csv_rows(text, source, RATINGS_COLUMNS)
    ]


def parse_pairwise(text: str, source: str = "pairwise.csv") -> list[Judgement]:
    """Pairwise judgements from the text of a ``pairwise.csv`` file."""
    return [_judgement(row) for row in csv_rows(text, source, PAIRWISE_COLUMNS, PAIRWISE_OPTIONAL)]


def _judgement(row: Row) -> Judgement:
    bot_a, bot_b = row.text("bot_a"), row.text("bot_b")
    if bot_a == bot_b:
        raise row.error("bot_b", f"is the same bot as bot_a ({bot_a!r}); a judgement compares two different bots")
    winner: Winner = row.choice("winner", WINNERS)  # type: ignore[assignment]
    return Judgement(
        row.text("rater"),
        row.text("question"),
        bot_a,
        bot_b,
        winner,
        row.optional_text("conversation_a"),
        row.optional_text("conversation_b"),
        row.boolean("check") if row.optional_text("check") else False,
    )


def parse_choices(text: str, source: str = "choices.csv") -> list[Choice]:
    """Multiple-choice answers from the text of a ``choices.csv`` file."""
    return [
        Choice(row.text("conversation"), row.text("bot"), row.text("rater"), row.text("question"), row.text("value"))
        for row in csv_rows(text, source, CHOICES_COLUMNS)
    ]


def parse_annotations(text: str, source: str = "annotations.csv") -> list[Annotation]:
    """Annotations from the text of an ``annotations.csv`` file."""
    return [
        Annotation(
            row.text("conversation"), row.text("bot"), row.whole_number("turn"), row.text("rater"), row.labels("labels")
        )
        for row in csv_rows(text, source, ANNOTATIONS_COLUMNS)
    ]


def parse_success(text: str, source: str = "success.csv") -> list[Outcome]:
    """Scenario outcomes from the text of a ``success.csv`` file."""
    return [
        Outcome(row.text("conversation"), row.text("bot"), row.text("scenario"), row.boolean("success"))
        for row in csv_rows(text, source, SUCCESS_COLUMNS)
    ]


def parse_exclusions(text: str, source: str = "exclusions.csv") -> list[Exclusion]:
    """Acceptability exclusions from the text of an ``exclusions.csv`` file."""
    exclusions = []
    for row in csv_rows(text, source, EXCLUSIONS_COLUMNS, EXCLUSIONS_OPTIONAL):
        conversation, rater = row.optional_text("conversation"), row.optional_text("rater")
        if conversation is None and rater is None:
            raise row.error("conversation", "and rater are both empty; an exclusion names a conversation or a rater")
        exclusions.append(Exclusion(row.text("check"), conversation, rater))
    return exclusions


def _read(path: str | Path, parse: Callable[[str, str], list[T]]) -> list[T]:
    text, source = read_text(path)
    return parse(text, source)


def read_ratings(path: str | Path) -> list[Rating]:
    """Read a ``ratings.csv`` file."""
    return _read(path, parse_ratings)


def read_pairwise(path: str | Path) -> list[Judgement]:
    """Read a ``pairwise.csv`` file."""
    return _read(path, parse_pairwise)


def read_choices(path: str | Path) -> list[Choice]:
    """Read a ``choices.csv`` file."""
    return _read(path, parse_choices)


def read_annotations(path: str | Path) -> list[Annotation]:
    """Read an ``annotations.csv`` file."""
    return _read(path, parse_annotations)


def read_success(path: str | Path) -> list[Outcome]:
    """Read a ``success.csv`` file."""
    return _read(path, parse_success)


def read_exclusions(path: str | Path) -> list[Exclusion]:
    """Read an ``exclusions.csv`` file."""
    return _read(path, parse_exclusions)


def read_study(
    *,
    ratings: str | Path | None = None,
    pairwise: str | Path | None = None,
    annotations: str | Path | None = None,
    success: str | Path | None = None,
    exclusions: str | Path | None = None,
    choices: str | Path | None = None,
) -> StudyData:
    """Read whichever of the files are given into one :class:`~studies.analysis.records.StudyData`."""
    return StudyData.of(
        ratings=read_ratings(ratings) if ratings else (),
        judgements=read_pairwise(pairwise) if pairwise else (),
        annotations=read_annotations(annotations) if annotations else (),
        outcomes=read_success(success) if success else (),
        exclusions=read_exclusions(exclusions) if exclusions else (),
        choices=read_choices(choices) if choices else (),
    )
