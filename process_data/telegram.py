"""Read a Telegram Desktop JSON export into (client message -> server reply) pairs.

Two shapes are accepted: the ``result.json`` of one chat (``name``, ``type``,
``id``, ``messages``) and the full-account export (``chats.list``, each item a
chat as above, plus ``personal_information``). Within a chat:

- service messages (``"type": "service"``: calls, pins, joins) are skipped;
- a message's text is the join of its ``text_entities``, else its ``text``,
  which may be a string or a list of strings and ``{"type", "text"}`` objects;
- ``from_id`` may be a string (``"user123"``) or a legacy integer (``123``);
  a message with no sender id is skipped, a null ``from`` name is fine;
- consecutive messages from one sender are merged into one turn;
- every client turn directly followed by a server turn gives a pair, the
  last one included; a chat without messages gives none.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .convert import clean_text, safe_name
from .errors import ConversionError

_ID = re.compile(r"[a-z_]*(\d+)")


@dataclass(frozen=True)
class Pair:
    """A client message and the server's reply to it."""

    client: str
    server: str
    chat: str
    date: str


@dataclass
class TelegramExport:
    """Everything read from an export."""

    path: Path
    server: str
    chats: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    messages: int = 0
    skipped: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A one-line account of what was read."""
        skipped = ", ".join(f"{n:,} {why}" for why, n in sorted(self.skipped.items()))
        return (
            f"Telegram export, {len(self.chats):,} chat(s), server side {self.server}, "
            f"{self.messages:,} messages" + (f"; skipped: {skipped}" if skipped else "")
        )


def norm_id(value: Any) -> str | None:
    """``"user123"``, ``"123"`` and ``123`` all name the same sender: ``"123"``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        match = _ID.fullmatch(value.strip().lower())
        return match.group(1) if match else value.strip() or None
    return None


def message_text(message: dict) -> str:
    """The plain text of a message, from ``text_entities`` or ``text`` (a string or a list)."""
    entities = message.get("text_entities")
    if isinstance(entities, list) and entities:
        return "".join(e.get("text", "") for e in entities if isinstance(e, dict) and isinstance(e.get("text"), str))
    text = message.get("text")
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else part.get("text", "") if isinstance(part, dict) else "" for part in text
        )
    return ""


def _load(path: Path) -> tuple[Path, Any]:
    if path.is_dir():
        path = path / "result.json"
        if not path.is_file():
            raise ConversionError("no result.json in this folder: give a Telegram Desktop JSON export", path.parent)
    if not path.exists():
        raise ConversionError("file not found", path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot open: {exc.strerror}", path) from exc
    if not raw.strip():
        raise ConversionError("the file is empty: a Telegram Desktop JSON export (result.json) is needed", path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConversionError(
            f"not UTF-8 text at byte {exc.start}: a Telegram Desktop JSON export (result.json) is needed", path
        ) from exc
    try:
        return path, json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConversionError(
            f"not valid JSON ({exc.msg}); export the chat from Telegram Desktop as 'Machine-readable JSON'",
            path,
            exc.lineno,
        ) from exc


def _chats(data: Any, path: Path) -> list[dict]:
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        return [data]
    if isinstance(data, dict) and isinstance(data.get("chats"), dict) and isinstance(data["chats"].get("list"), list):
        chats = [c for c in data["chats"]["list"] if isinstance(c, dict)]
        left = data.get("left_chats")
        if isinstance(left, dict) and isinstance(left.get("list"), list):
            chats += [c for c in left["list"] if isinstance(c, dict)]
        return chats
    found = ", ".join(sorted(map(str, data))[:8]) if isinstance(data, dict) else type(data).__name__
    raise ConversionError(
        "not a Telegram Desktop export: expected 'messages' (one chat) or 'chats.list' (full export) "
        f"at the top level; found {found or 'nothing'}",
        path,
    )


def read_telegram(
    source: str | Path, *, server_id: str | None = None, server_name: str | None = None
) -> TelegramExport:
    """Read an export and pair each client turn with the server turn that follows it.

    Args:
        source: ``result.json`` or the export folder.
        server_id: The answering side's ``from_id`` (``user123`` or ``123``).
        server_name: Or its display name (``from``), compared ignoring case.
            With neither, the account owner of a full export answers.

    Raises:
        ConversionError: The file is not a readable Telegram export, or the
            server side is not given and cannot be told, or not among the senders.
    """
    path, data = _load(Path(source))
    chats = _chats(data, path)
    senders: Counter = Counter()
    names: dict[str, str] = {}
    for chat in chats:
        for message in chat.get("messages") or []:
            if isinstance(message, dict) and message.get("type", "message") == "message":
                sid = norm_id(message.get("from_id"))
                if sid is not None:
                    senders[sid] += 1
                    if isinstance(message.get("from"), str):
                        names.setdefault(sid, message["from"])

    def listing() -> str:
        shown = [f"'{names.get(s, '?')}' (user{s}, {n} messages)" for s, n in senders.most_common(6)]
        return ", ".join(shown) if shown else "none"

    server: str | None
    if server_id is not None:
        server = norm_id(server_id)
        if server not in senders:
            raise ConversionError(f"--server-id {server_id} sent no message here; senders: {listing()}", path)
    elif server_name is not None:
        wanted = server_name.strip().casefold()
        matches = sorted({s for s, name in names.items() if name.strip().casefold() == wanted})
        if len(matches) != 1:
            problem = "no sender" if not matches else f"{len(matches)} senders"
            raise ConversionError(f"{problem} named '{server_name}'; senders: {listing()}", path)
        server = matches[0]
    else:
        owner = data.get("personal_information", {}) if isinstance(data, dict) else {}
        server = norm_id(owner.get("user_id")) if isinstance(owner, dict) else None
        if server is None:
            raise ConversionError(f"which side answers? pass --server-id or --server-name; senders: {listing()}", path)
    export = TelegramExport(path=path, server=f"'{names.get(server, '?')}' (user{server})")
    for chat in chats:
        _pair_chat(chat, server, export)
    return export


def _pair_chat(chat: dict, server: str, export: TelegramExport) -> None:
    name = chat.get("name") if isinstance(chat.get("name"), str) else None
    chat_name = name or f"chat {chat.get('id', len(export.chats) + 1)}"
    export.chats.append(chat_name)
    messages = chat.get("messages") or []
    if not messages:
        export.skipped["empty chats"] += 1
        return
    turns: list[list] = []  # [sender, [texts], date of the first message]
    for message in messages:
        if not isinstance(message, dict):
            continue
        export.messages += 1
        if message.get("type", "message") != "message":
            export.skipped["service messages"] += 1
            continue
        sender = norm_id(message.get("from_id"))
        if sender is None:
            export.skipped["messages without a sender"] += 1
            continue
        text = message_text(message).strip()
        if not text:
            export.skipped["messages without text"] += 1
            continue
        if turns and turns[-1][0] == sender:
            turns[-1][1].append(text)
            export.skipped["merged into the message before"] += 1
        else:
            turns.append([sender, [text], str(message.get("date", ""))])
    for before, after in zip(turns, turns[1:], strict=False):
        if before[0] != server and after[0] == server:
            export.pairs.append(Pair("\n".join(before[1]), "\n".join(after[1]), chat_name, before[2]))


def pairs_to_csv(pairs: Iterable[Pair]) -> str:
    """The pairs as CSV text: ``client,server,chat,date`` (quoted where needed, LF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["client", "server", "chat", "date"])
    writer.writerows((p.client, p.server, p.chat, p.date) for p in pairs)
    return out.getvalue()


def reply_intents(replies: Iterable[str]) -> dict[str, str]:
    """Name an intent after each distinct reply: ``reply_`` and its first words, numbered on a clash.

    Deterministic: names are given in first-seen order.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for reply in replies:
        if reply in names:
            continue
        words = clean_text(reply).split()[:6]
        try:
            base = "reply_" + safe_name(" ".join(words))[:48].rstrip("_")
        except ConversionError:  # no Latin letters or digits (emoji, other scripts): number it
            base = "reply"
        name, n = base, 1
        while name in taken or name == "reply":
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names[reply] = name
    return names
