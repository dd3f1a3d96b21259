"""Read a customer-service CSV corpus into :class:`Example` records.

Columns are found by name: given explicitly, or detected from the common
layouts (Bitext's sample with ``utterance,intent``; Bitext's official split
with entity offsets; any CSV with a ``response`` column).
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import ConversionError
from .model import Entity, Example

TEXT_CANDIDATES = ("utterance", "text", "instruction", "message", "question")
INTENT_CANDIDATES = ("intent", "label")
RESPONSE_CANDIDATES = ("response", "answer", "reply")
ENTITY_COLUMNS = ("entity_type", "entity_value", "start_offset", "end_offset")


@dataclass(frozen=True)
class Columns:
    """Which CSV column holds what. ``None`` means the corpus has no such column."""

    text: str | None = None
    intent: str | None = None
    response: str | None = None


def _pick(header: list[str], wanted: str | None, candidates: tuple[str, ...], role: str, path: Path) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    if wanted is not None:
        if wanted in header:
            return wanted
        near = difflib.get_close_matches(wanted, header, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        raise ConversionError(f"no column '{wanted}' for the {role} (columns found: {', '.join(header)}){hint}", path)
    for name in candidates:
        if name in lowered:
            return lowered[name]
    return None


def read_csv(path: str | Path, columns: Columns = Columns()) -> Iterator[Example]:
    """Yield one :class:`Example` per data row of a CSV corpus.

    Args:
        path: The CSV file (UTF-8, a byte-order mark is accepted).
        columns: Column names to use; any left ``None`` are detected.

    Raises:
        ConversionError: The file is missing, empty, not UTF-8 text, lacks the
            text or intent column, or a row is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise ConversionError("file not found", path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ConversionError(f"cannot open: {exc.strerror}", path) from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)  # blank lines before the header
        except UnicodeDecodeError as exc:
            raise _not_utf8(path) from exc
        except csv.Error as exc:
            raise ConversionError(f"malformed CSV: {exc}", path, reader.line_num) from exc
        if not header:
            raise ConversionError("the file is empty: a header row and data rows are needed", path)
        header = [h.strip() for h in header]
        text_col = _pick(header, columns.text, TEXT_CANDIDATES, "utterance text", path)
        intent_col = _pick(header, columns.intent, INTENT_CANDIDATES, "intent", path)
        response_col = _pick(header, columns.response, RESPONSE_CANDIDATES, "response", path)
        for col, role, flag, cands in (
            (text_col, "utterance text", "--text-column", TEXT_CANDIDATES),
            (intent_col, "intent", "--intent-column", INTENT_CANDIDATES),
        ):
            if col is None:
                near = difflib.get_close_matches(cands[0], header, n=1)
                hint = f"; did you mean '{near[0]}'? Pass {flag} {near[0]}" if near else f"; pass {flag} NAME"
                raise ConversionError(f"no column for the {role} (columns found: {', '.join(header)}){hint}", path)
        index = {name: i for i, name in enumerate(header)}
        has_entities = all(c in index for c in ENTITY_COLUMNS)
        width = len(header)
        start_line = reader.line_num + 1
        try:
            for record in reader:
                line = start_line
                start_line = reader.line_num + 1
                if not record or all(not cell.strip() for cell in record):
                    continue
                if len(record) != width:
                    raise ConversionError(f"row has {len(record)} fields, the header has {width}", path, line)
                text = record[index[text_col]]
                intent = record[index[intent_col]].strip()
                if not intent:
                    raise ConversionError(f"empty intent in column '{intent_col}'", path, line)
                response = record[index[response_col]] if response_col else None
                entities: tuple[Entity, ...] = ()
                if has_entities and record[index["entity_type"]].strip():
                    entities = (_entity(record, index, text, path, line),)
                yield Example(text=text, intent=intent, line=line, response=response, entities=entities)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path) from exc
        except csv.Error as exc:
            raise ConversionError(f"malformed CSV: {exc}", path, reader.line_num) from exc


def _not_utf8(path: Path) -> ConversionError:
    """The error for a file that is not UTF-8, with the line of its first bad byte."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        position = len(raw)
    except UnicodeDecodeError as exc:
        position = exc.start
    line = raw.count(b"\n", 0, position) + 1
    return ConversionError(
        f"not UTF-8 text at byte {position} (is it a CSV file? convert it with: iconv -f latin1 -t utf-8)", path, line
    )


def _entity(record: list[str], index: dict[str, int], text: str, path: Path, line: int) -> Entity:
    etype = record[index["entity_type"]].strip()
    value = record[index["entity_value"]]
    try:
        start = int(record[index["start_offset"]])
        end = int(record[index["end_offset"]])
    except ValueError as exc:
        raise ConversionError(f"entity offsets are not whole numbers: {exc}", path, line) from exc
    if not (0 <= start < end <= len(text)) or text[start:end] != value:
        raise ConversionError(
            f"entity '{value}' ({etype}) does not match the text at offsets {start}-{end}: found '{text[start:end]}'",
            path,
            line,
        )
    return Entity(start=start, end=end, type=etype, value=value)
