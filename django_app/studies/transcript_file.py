"""Reading transcripts to import into a pairwise study: JSON Lines or CSV, every mistake with its line. Pure.

JSON Lines: one transcript per line::

    {"id": "t1", "bot": "demo", "scenario": "refund", "messages": [{"sender": "user", "text": "Hi"},
                                                                   {"sender": "bot", "text": "Hello!"}]}

(``scenario`` and ``scenario_text`` are optional.) CSV: one message per row, a transcript's rows in order, with the
header ``transcript,bot,sender,text`` and optionally ``scenario`` and ``scenario_text`` (read from a transcript's first
row). Senders are ``user`` or ``bot``; a transcript needs at least one message of each.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SENDERS = ("user", "bot")
CSV_REQUIRED = ("transcript", "bot", "sender", "text")
CSV_OPTIONAL = ("scenario", "scenario_text")
MAX_TEXT = 5000


class TranscriptFileError(ValueError):
    """Mistakes in a transcripts file, each naming the file and the line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class TranscriptSpec:
    key: str
    bot: str
    scenario: str = ""
    scenario_text: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    line: int = 0


def parse_transcripts(text: str, *, source: str = "transcripts.jsonl", fmt: str | None = None) -> list[TranscriptSpec]:
    """The transcripts a file holds (``fmt``: ``jsonl`` or ``csv``; by default from the file name's ending).

    Raises:
        TranscriptFileError: Every mistake found, with its file and line; nothing is returned then.
    """
    fmt = fmt or ("csv" if source.lower().endswith(".csv") else "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise TranscriptFileError([f"{source}: unknown format {fmt!r}; expected jsonl or csv"])
    problems: list[str] = []
    found = _jsonl(text, source, problems) if fmt == "jsonl" else _csv(text, source, problems)
    seen: set[str] = set()
    for t in found:
        where = f"{source}, line {t.line}"
        if t.key in seen and fmt == "jsonl":
            problems.append(f"{where}: transcript {t.key!r} appears twice")
        seen.add(t.key)
        senders = {m["sender"] for m in t.messages}
        if not {"user", "bot"} <= senders:
            problems.append(f"{where}: transcript {t.key!r} needs at least one user and one bot message")
    if not found and not problems:
        problems.append(f"{source}: no transcripts found")
    if problems:
        raise TranscriptFileError(problems)
    return found


def _jsonl(text: str, source: str, problems: list[str]) -> list[TranscriptSpec]:
    out: list[TranscriptSpec] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{source}, line {number}"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: expected an object with id, bot and messages")
            continue
        unknown = set(record) - {"id", "bot", "scenario", "scenario_text", "messages"}
        if unknown:
            problems.append(f"{where}: unknown field {sorted(unknown)[0]!r} (known: id, bot, scenario, messages)")
        key, bot = _key(record.get("id"), "id", where, problems), _key(record.get("bot"), "bot", where, problems)
        scenario = _optional(record.get("scenario"), "scenario", where, problems)
        scenario_text = _optional(record.get("scenario_text"), "scenario_text", where, problems)
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            problems.append(f"{where}: field 'messages': expected a list of {{sender, text}}")
            continue
        clean = []
        for i, m in enumerate(messages):
            sender = m.get("sender") if isinstance(m, dict) else None
            body = m.get("text") if isinstance(m, dict) else None
            if sender not in SENDERS or not isinstance(body, str) or not body.strip():
                problems.append(f"{where}: field 'messages[{i}]': expected {{sender: user or bot, text: non-empty}}")
                continue
            clean.append({"sender": sender, "text": body[:MAX_TEXT]})
        if key and bot:
            out.append(TranscriptSpec(key, bot, scenario, scenario_text, clean, number))
    return out


def _csv(text: str, source: str, problems: list[str]) -> list[TranscriptSpec]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        problems.append(f"{source}: the file is empty; expected the header {','.join(CSV_REQUIRED)}")
        return []
    except csv.Error as exc:
        problems.append(f"{source}, line 1: not valid CSV ({exc})")
        return []
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        problems.append(f"{source}, line 1: column {missing[0]!r} is missing from the header")
        return []
    by_key: dict[str, TranscriptSpec] = {}
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            where = f"{source}, line {number}"
            cells = dict(zip(header, row, strict=False))
            key = _key(cells.get("transcript", "").strip(), "transcript", where, problems)
            bot = _key(cells.get("bot", "").strip(), "bot", where, problems)
            sender = cells.get("sender", "").strip().lower()
            body = cells.get("text", "")
            if sender not in SENDERS:
                problems.append(f"{where}: column 'sender': {sender!r} is not user or bot")
                continue
            if not body.strip():
                problems.append(f"{where}: column 'text': is empty")
                continue
            if not key or not bot:
                continue
            t = by_key.get(key)
            if t is None:
                t = by_key[key] = TranscriptSpec(
                    key,
                    bot,
                    cells.get("scenario", "").strip(),
                    cells.get("scenario_text", "").strip(),
                    [],
                    number,
                )
            elif t.bot != bot:
                problems.append(f"{where}: column 'bot': transcript {key!r} is {t.bot!r} on line {t.line}")
                continue
            t.messages.append({"sender": sender, "text": body[:MAX_TEXT]})
    except csv.Error as exc:
        problems.append(f"{source}, line {reader.line_num}: not valid CSV ({exc})")
    return list(by_key.values())


def _key(value: object, name: str, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not ID.match(value):
        problems.append(f"{where}: field {name!r}: expected an id (letters, digits, . _ -), not {value!r}")
        return ""
    return value


def _optional(value: object, name: str, where: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{where}: field {name!r}: expected text, not {value!r}")
        return ""
    return value.strip()
