"""Read a customer-service CSV corpus into :class:`Example` records.

Columns are found by name: given explicitly, or detected from the common
layouts (Bitext's sample ``flags,utterance,category,intent``; Bitext's official
split ``utterance,intent,entity_type,entity_value,start_offset,end_offset,
category,tags``; any CSV with a ``response`` column). The encoding (UTF-8 with
or without a byte-order mark, UTF-16 with one) and the delimiter (``,`` ``;``
tab ``|``) are detected from the start of the file; quoted fields may hold
newlines.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConversionError
from .model import Entity, Example

TEXT_CANDIDATES = ("utterance", "text", "instruction", "message", "question", "client")
INTENT_CANDIDATES = ("intent", "label")
RESPONSE_CANDIDATES = ("response", "answer", "reply", "server")
CATEGORY_CANDIDATES = ("category",)
ENTITY_COLUMNS = ("entity_type", "entity_value", "start_offset", "end_offset")
# role (a field of Columns) -> (what it is called in messages, its flag, the names it is detected by)
ROLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "text": ("utterance text", "--text-column", TEXT_CANDIDATES),
    "intent": ("intent", "--intent-column", INTENT_CANDIDATES),
    "response": ("response", "--response-column", RESPONSE_CANDIDATES),
    "category": ("category", "--category-column", CATEGORY_CANDIDATES),
    "entity_type": ("entity type", "--entity-type-column", ("entity_type",)),
    "entity_value": ("entity value", "--entity-value-column", ("entity_value",)),
    "entity_start": ("entity start offset", "--entity-start-column", ("start_offset",)),
    "entity_end": ("entity end offset", "--entity-end-column", ("end_offset",)),
}
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 16

# A field can be as long as a whole file allows (quoted multi-line answers).
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Columns:
    """Which CSV column holds what. ``None`` means detect it by its usual name.

    A column named here is never taken for a detected role: detection looks
    past it (to the role's next usual name), and a role left with no other
    column is not used; the layout's ``notes`` say so. Naming one column for
    two roles here is an error.

    Attributes:
        text: The utterance.
        intent: The intent label.
        response: The bot's answer (optional).
        category: A group of intents, such as Bitext's ``ORDER`` (optional).
        entity_type: The entity's type (optional; the entity columns go together).
        entity_value: The entity's text as it appears in the utterance.
        entity_start: Character offset where the entity starts; without offset
            columns the value is looked up in the utterance.
        entity_end: Character offset where it ends (exclusive).
    """

    text: str | None = None
    intent: str | None = None
    response: str | None = None
    category: str | None = None
    entity_type: str | None = None
    entity_value: str | None = None
    entity_start: str | None = None
    entity_end: str | None = None


@dataclass
class ReadStats:
    """What the reader counted on its way through the file."""

    blank_rows: int = 0
    entity_case_fixed: int = 0
    entity_located: int = 0
    categories: dict[str, str] = field(default_factory=dict)  # intent label -> first category seen


@dataclass(frozen=True)
class Layout:
    """The resolved shape of a CSV file."""

    encoding: str
    delimiter: str
    header: list[str]
    text: str
    intent: str
    response: str | None
    category: str | None
    entity_type: str | None
    entity_value: str | None
    entity_start: str | None
    entity_end: str | None
    notes: tuple[str, ...] = ()  # detected roles left out because their column was given for another role

    def describe(self) -> str:
        """A one-line account of what was detected."""
        delim = {"\t": "tab"}.get(self.delimiter, self.delimiter)
        parts = [f"text={self.text}", f"intent={self.intent}"]
        for role in ("response", "category", "entity_type", "entity_value", "entity_start", "entity_end"):
            value = getattr(self, role)
            if value:
                parts.append(f"{role}={value}")
        return f"encoding {self.encoding}, delimiter '{delim}', columns: {', '.join(parts)}"


def _nearest(wanted: str, header: list[str]) -> str | None:
    lowered = {h.lower(): h for h in header}
    near = difflib.get_close_matches(wanted.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[near[0]] if near else None


def _pick(
    header: list[str], wanted: str | None, candidates: tuple[str, ...], role: str, path: Path, flag: str
) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    if wanted is not None:
        if wanted in header:
            return wanted
        if wanted.strip().lower() in lowered:
            return lowered[wanted.strip().lower()]
        near = _nearest(wanted, header)
        hint = f"; did you mean '{near}'?" if near else f"; pass {flag} with one of them"
        raise ConversionError(f"no column '{wanted}' for the {role} (columns found: {', '.join(header)}){hint}", path)
    for name in candidates:
        if name in lowered:
            return lowered[name]
    return None


def _sniff(path: Path, encoding: str | None) -> tuple[str, str]:
    """Detect the encoding from the byte-order mark and check the start of the file is text.

    Returns:
        The encoding to open the file with, and the decoded sample.
    """
    try:
        with path.open("rb") as raw:
            sample = raw.read(SAMPLE_BYTES)
    except OSError as exc:
        raise ConversionError(f"cannot open: {exc.strerror}", path) from exc
    if encoding is None:
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError as exc:
        raise ConversionError(f"unknown encoding '{encoding}'", path) from exc
    try:
        text = decoder.decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        binary = b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample[:512]) > 8
        raise _not_decodable(path, encoding, sample, exc.start, binary) from exc
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise ConversionError("binary data, not CSV text: a NUL character (is it really a CSV file?)", path, line)
    return encoding, text


def _not_decodable(path: Path, encoding: str, raw: bytes, position: int, binary: bool) -> ConversionError:
    line = raw.count(b"\n", 0, position) + 1
    name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    if binary:
        return ConversionError(
            f"binary data, not CSV text (not {name} at byte {position}; a corpus must be UTF-8 text, "
            "or pass --encoding)",
            path,
        )
    return ConversionError(
        f"not {name} text at byte {position}; if the file is Latin-1 or Windows-1252, pass --encoding cp1252",
        path,
        line,
    )


def _not_utf8(path: Path, encoding: str) -> ConversionError:
    """The error for a file that does not decode, with the line of its first bad byte."""
    raw = path.read_bytes()
    try:
        raw.decode(encoding)
        position = len(raw)
    except UnicodeDecodeError as exc:
        position = exc.start
    return _not_decodable(path, encoding, raw, position, False)


def _detect_delimiter(sample: str) -> str:
    for line in sample.splitlines():
        if line.strip():
            counts = [(line.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
            best = max(counts)
            return best[2] if best[0] else ","
    return ","


class CsvReader:
    """Iterate over a CSV corpus as ``(text, intent, line, response, entities)`` tuples.

    The file is streamed: only one record is held at a time. ``layout`` is
    known once the object is built; ``stats`` fills while iterating.

    Args:
        path: The CSV file.
        columns: Column names to use; any left ``None`` are detected.
        encoding: The file's encoding; detected when ``None``.
        delimiter: The field delimiter; detected when ``None``.
        progress: Called now and then with (bytes read, file size).

    Raises:
        ConversionError: The file is missing, empty, not text in the encoding,
            or lacks the text or intent column (at construction), or a row
            is malformed (while iterating).
    """

    def __init__(
        self,
        path: str | Path,
        columns: Columns = Columns(),
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.path = path = Path(path)
        self.stats = ReadStats()
        self.progress = progress
        if not path.exists():
            raise ConversionError("file not found", path)
        if not path.is_file():
            raise ConversionError("not a file (a folder?): give the CSV file itself", path)
        encoding, sample = _sniff(path, encoding)
        if delimiter is None:
            delimiter = _detect_delimiter(sample)
        elif len(delimiter) != 1:
            delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter.lower(), delimiter)
            if len(delimiter) != 1:
                raise ConversionError(f"the delimiter must be one character, not '{delimiter}'", path)
        self._handle = path.open(encoding=encoding, newline="")
        self._reader = csv.reader(self._handle, delimiter=delimiter)
        try:
            header = self._header()
            self.layout = self._resolve(header, columns, encoding, delimiter)
        except BaseException:
            self._handle.close()
            raise

    def _header(self) -> list[str]:
        reader, path = self._reader, self.path
        try:
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)  # blank lines before the header
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, self._handle.encoding) from exc
        except csv.Error as exc:
            raise ConversionError(f"malformed CSV: {exc}", path, reader.line_num) from exc
        if not header:
            raise ConversionError("the file is empty: a header row and data rows are needed", path)
        return [h.strip().lstrip("\ufeff") for h in header]

    def _resolve(self, header: list[str], columns: Columns, encoding: str, delimiter: str) -> Layout:
        """Find the column of each role: the ones given first, then the usual names among the others."""
        path = self.path
        lowered = {h.strip().lower(): h for h in header}
        chosen: dict[str, str | None] = {}
        given: dict[str, str] = {}  # column -> the role it was given for
        for role, (what, flag, _) in ROLES.items():
            wanted = getattr(columns, role)
            if wanted is not None:
                column = _pick(header, wanted, (), what, path, flag)
                assert column is not None  # _pick raises when a given column is missing
                if column in given:
                    other = given[column]
                    raise ConversionError(
                        f"one column is given for two roles: '{column}' is the {ROLES[other][0]} "
                        f"({ROLES[other][1]}) and the {what} ({flag})",
                        path,
                    )
                chosen[role] = column
                given[column] = role
        passed_over: dict[str, str] = {}  # role -> a column of its usual names, given for another role
        notes: list[str] = []
        for role, (what, _, candidates) in ROLES.items():
            if role in chosen:
                continue
            chosen[role] = None
            for name in candidates:
                column = lowered.get(name)
                if column is None:
                    continue
                if column in given:
                    passed_over.setdefault(role, column)
                    continue
                chosen[role] = column
                break
            if role in passed_over:
                column = passed_over[role]
                other = given[column]
                fate = f"the {what} is column '{chosen[role]}'" if chosen[role] else f"no column is used as the {what}"
                notes.append(f"column '{column}' is the {ROLES[other][0]} ({ROLES[other][1]}), so {fate}")
        for role in ("text", "intent"):
            if chosen[role] is None:
                what, flag, candidates = ROLES[role]
                if role in passed_over:
                    column = passed_over[role]
                    why = f"; '{column}' is the {ROLES[given[column]][0]} ({ROLES[given[column]][1]})"
                    raise ConversionError(
                        f"no column for the {what} (columns found: {', '.join(header)}){why}; pass {flag} NAME", path
                    )
                near = None
                for cand in candidates:
                    near = _nearest(cand, header)
                    if near:
                        break
                hint = f"; did you mean '{near}'? Pass {flag} {near}" if near else f"; pass {flag} NAME"
                raise ConversionError(f"no column for the {what} (columns found: {', '.join(header)}){hint}", path)
        # Entity columns go in pairs. A detected one whose partner was passed over (its column given
        # for another role) is left out with it; otherwise a missing partner is an error.
        for pair in (("entity_type", "entity_value"), ("entity_start", "entity_end")):
            present = [r for r in pair if chosen[r] is not None]
            if len(present) != 1:
                continue
            [have] = present
            [missing] = [r for r in pair if r != have]
            if missing in passed_over and getattr(columns, have) is None:
                notes.append(
                    f"without a column for the {ROLES[missing][0]}, column '{chosen[have]}' is not used either"
                )
                chosen[have] = None
            elif pair[0] == "entity_type":
                raise ConversionError(
                    f"there is a column for the {ROLES[have][0]} but none for the {ROLES[missing][0]} "
                    f"(columns found: {', '.join(header)}); pass --entity-type-column and --entity-value-column",
                    path,
                )
            else:
                raise ConversionError(
                    f"entity offsets need both a start and an end column (columns found: {', '.join(header)}); "
                    "pass --entity-start-column and --entity-end-column",
                    path,
                )
        if chosen["entity_type"] is None:
            chosen["entity_start"] = chosen["entity_end"] = None  # offsets without an entity type mean nothing
        used = [c for c in chosen.values() if c]
        if len(set(used)) != len(used):  # cannot happen: detection skips columns already taken
            raise ConversionError(f"one column is used for two roles ({', '.join(used)})", path)
        return Layout(encoding, delimiter, header, **chosen, notes=tuple(notes))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[str, str, int, str | None, tuple[Entity, ...]]]:
        layout, path, reader, handle = self.layout, self.path, self._reader, self._handle
        index = {name: i for i, name in enumerate(layout.header)}
        ti, ii = index[layout.text], index[layout.intent]
        ri = index[layout.response] if layout.response else None
        ci = index[layout.category] if layout.category else None
        eti = index[layout.entity_type] if layout.entity_type else None
        width = len(layout.header)
        categories = self.stats.categories
        progress = self.progress
        total = path.stat().st_size if progress else 0
        start_line = reader.line_num + 1
        count = 0
        try:
            with handle:
                for record in reader:
                    line = start_line
                    start_line = reader.line_num + 1
                    if len(record) != width:
                        if not record or not any(cell.strip() for cell in record):
                            self.stats.blank_rows += 1
                            continue
                        raise ConversionError(f"row has {len(record)} fields, the header has {width}", path, line)
                    text = record[ti]
                    intent = record[ii].strip()
                    if not intent:
                        if not any(cell.strip() for cell in record):
                            self.stats.blank_rows += 1
                            continue
                        raise ConversionError(f"empty intent in column '{layout.intent}'", path, line)
                    if ci is not None and intent not in categories:
                        category = record[ci].strip()
                        if category:
                            categories[intent] = category
                    entities: tuple[Entity, ...] = ()
                    if eti is not None and record[eti].strip():
                        entities = (self._entity(record, index, text, line),)
                    yield (text, intent, line, record[ri] if ri is not None else None, entities)
                    if progress is not None:
                        count += 1
                        if not count & 0x3FFF:
                            progress(handle.buffer.tell(), total)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, layout.encoding) from exc
        except csv.Error as exc:
            raise ConversionError(f"malformed CSV: {exc}", path, reader.line_num) from exc
        if progress is not None:
            progress(total, total)

    def _entity(self, record: list[str], index: dict[str, int], text: str, line: int) -> Entity:
        layout, path = self.layout, self.path
        etype = record[index[layout.entity_type]].strip()  # type: ignore[index]
        value = record[index[layout.entity_value]]  # type: ignore[index]
        if layout.entity_start is None:
            start = text.find(value)
            if start < 0:
                start = text.casefold().find(value.casefold())
                if start < 0 or len(text.casefold()) != len(text):
                    raise ConversionError(f"entity '{value}' ({etype}) is not in the text", path, line)
            self.stats.entity_located += 1
            end = start + len(value)
        else:
            try:
                start = int(record[index[layout.entity_start]])
                end = int(record[index[layout.entity_end]])  # type: ignore[index]
            except ValueError as exc:
                raise ConversionError(f"entity offsets are not whole numbers: {exc}", path, line) from exc
        found = text[start:end]
        if not (0 <= start < end <= len(text)) or found != value:
            if 0 <= start < end <= len(text) and found.casefold() == value.casefold():
                self.stats.entity_case_fixed += 1  # Bitext's official split: 'Platinum' for 'platinum'
                value = found
            else:
                raise ConversionError(
                    f"entity '{value}' ({etype}) does not match the text at offsets {start}-{end}: found '{found}'",
                    path,
                    line,
                )
        return Entity(start, end, etype, value)

    def close(self) -> None:
        """Close the file (iterating to the end closes it too)."""
        self._handle.close()


def read_csv(
    path: str | Path,
    columns: Columns = Columns(),
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Iterator[Example]:
    """Yield one :class:`Example` per data row of a CSV corpus.

    Args:
        path: The CSV file (UTF-8, a byte-order mark is accepted).
        columns: Column names to use; any left ``None`` are detected.
        encoding: The file's encoding; detected when ``None``.
        delimiter: The field delimiter; detected when ``None``.

    Raises:
        ConversionError: The file is missing, empty, not UTF-8 text, lacks the
            text or intent column, or a row is malformed.
    """
    reader = CsvReader(path, columns, encoding=encoding, delimiter=delimiter)
    for row in reader:
        yield Example(*row)


__all__ = ["Columns", "CsvReader", "Layout", "ReadStats", "read_csv"]
