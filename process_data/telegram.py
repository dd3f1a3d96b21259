"""Read Telegram Desktop JSON exports into (client message -> server reply) pairs.

Accepted inputs: the ``result.json`` of one chat (``name``, ``type``, ``id``,
``messages``), the full-account export (``chats.list`` and ``left_chats.list``,
plus ``personal_information``), the folder holding either, or a folder of several
exports (every ``result.json`` below it, e.g. ``ChatExport_2024-03-04/``,
``ChatExport_2024-03-04 (1)/``). Within a chat:

- service messages (``"type": "service"``: calls, pins, joins) are dropped;
- a message's text is the join of its ``text_entities``, else its ``text``,
  which may be a string or a list of strings and ``{"type", "text"}`` objects;
  an edited message (``edited``) is used with its final text, the only one exported;
- ``from_id`` may be a string (``"user123"``) or a legacy integer (``123``);
  a message with no sender id is dropped, a null ``from`` name is fine;
- forwarded messages (``forwarded_from``) are dropped: they are not the sender's words;
- stickers and media without a caption are dropped; a caption is kept as text;
- a message seen twice (the same chat in two exports) is used once;
- consecutive messages from one sender are merged into one turn;
- a server turn whose first message replies to a client message
  (``reply_to_message_id``) is paired with that message's turn; any other server
  turn is paired with the client turn just before it, when that one is not answered yet.

Every dropped message, unpaired turn and chat without pairs is counted with its
reason: :meth:`TelegramExport.account` is the account the CLI prints.
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
    """Everything read from one or several exports, with the account of what was kept and dropped."""

    path: Path
    server: str
    files: list[Path] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    messages: int = 0
    used: int = 0
    kept: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    chats_without_pairs: Counter = field(default_factory=Counter)
    unpaired: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A one-line account of what was read."""
        files = f"{len(self.files):,} files, " if len(self.files) > 1 else ""
        return (
            f"Telegram export, {files}{len(self.chats):,} chat(s), server side {self.server}, "
            f"{self.messages:,} messages"
        )

    def account(self) -> list[str]:
        """What was kept and what was dropped, and why: one line per heading, for the printed summary."""

        def listed(counter: Counter) -> str:
            return "; ".join(f"{n:,} {why}" for why, n in sorted(counter.items(), key=lambda p: (-p[1], p[0])))

        with_pairs = len({p.chat for p in self.pairs})
        lines = [
            f"kept: {len(self.pairs):,} pairs from {with_pairs:,} of {len(self.chats):,} chats, "
            f"{self.used:,} of {self.messages:,} messages used" + (f" ({listed(self.kept)})" if self.kept else "")
        ]
        if self.skipped:
            lines.append(f"dropped messages: {listed(self.skipped)}")
        if self.unpaired:
            lines.append(f"turns without a pair: {listed(self.unpaired)}")
        if self.chats_without_pairs:
            lines.append(f"chats without pairs: {listed(self.chats_without_pairs)}")
        return lines


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


def _export_files(path: Path) -> list[Path]:
    """``result.json`` itself, the one in a folder, or every one below a folder of several exports."""
    if not path.is_dir():
        if not path.exists():
            raise ConversionError("file not found", path)
        return [path]
    if (path / "result.json").is_file():
        return [path / "result.json"]
    found = sorted(p for p in path.rglob("result.json") if p.is_file())
    if not found:
        raise ConversionError("no result.json in this folder or below it: give a Telegram Desktop JSON export", path)
    return found


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
    """Read one export, or a folder of several, and pair each client turn with the server's reply.

    Args:
        source: ``result.json``, the export folder holding it, or a folder of export folders.
        server_id: The answering side's ``from_id`` (``user123`` or ``123``).
        server_name: Or its display name (``from``), compared ignoring case.
            With neither, the account owner of a full export answers.

    Raises:
        ConversionError: A file is not a readable Telegram export (the error names it), or the
            server side is not given and cannot be told, or not among the senders.
    """
    root = Path(source)
    files = _export_files(root)
    loaded = [_load(f) for f in files]
    chats: list[dict] = []
    origin: list[int] = []  # which file each chat came from
    owner_id: str | None = None
    for number, (path, data) in enumerate(loaded):
        found = _chats(data, path)
        chats += found
        origin += [number] * len(found)
        owner = data.get("personal_information") if isinstance(data, dict) else None
        if owner_id is None and isinstance(owner, dict):
            owner_id = norm_id(owner.get("user_id"))
    path = files[0] if len(files) == 1 else root
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
        server = owner_id
        if server is None:
            raise ConversionError(f"which side answers? pass --server-id or --server-name; senders: {listing()}", path)
    export = TelegramExport(path=path, server=f"'{names.get(server, '?')}' (user{server})", files=files)
    seen: dict[tuple[str, str], int] = {}
    for chat, number in zip(chats, origin, strict=True):
        _pair_chat(chat, server, export, seen, number)
    export.notes = export.account()
    return export


_MEDIA = (
    "photo",
    "file",
    "location_information",
    "contact_information",
    "poll",
    "game_information",
    "invoice_information",
)


def _drop_reason(message: dict) -> str | None:
    """Why a message gives no text to pair, or None when it does."""
    if message.get("type", "message") != "message":
        return "service messages (calls, pins, joins)"
    if norm_id(message.get("from_id")) is None:
        return "messages without a sender id"
    if message.get("forwarded_from") is not None or "forwarded_from_id" in message:
        return "forwarded messages (not the sender's own words)"
    if message_text(message).strip():
        return None
    if message.get("media_type") == "sticker":
        return "stickers"
    if message.get("media_type") or any(key in message for key in _MEDIA):
        return "media without a caption"
    return "messages without text"


@dataclass
class _Turn:
    sender: str
    texts: list[str]
    date: str
    reply_to: Any


def _pair_chat(chat: dict, server: str, export: TelegramExport, seen: dict[tuple[str, str], int], number: int) -> None:
    name = chat.get("name") if isinstance(chat.get("name"), str) else None
    chat_name = name or f"chat {chat.get('id', len(export.chats) + 1)}"
    export.chats.append(chat_name)
    messages = [m for m in chat.get("messages") or [] if isinstance(m, dict)]
    if not messages:
        export.chats_without_pairs["empty"] += 1
        return
    turns: list[_Turn] = []
    turn_of: dict[Any, int] = {}  # message id -> index of its turn
    chat_key = str(chat.get("id", chat_name))
    for message in messages:
        export.messages += 1
        if "id" in message:
            key = (chat_key, str(message["id"]))
            if seen.setdefault(key, number) != number:
                export.skipped["duplicates (the same chat in two exports)"] += 1
                continue
        reason = _drop_reason(message)
        if reason is not None:
            export.skipped[reason] += 1
            continue
        export.used += 1
        sender = norm_id(message.get("from_id"))
        text = message_text(message).strip()
        if message.get("edited"):
            export.kept["edited: the final text is used"] += 1
        if message.get("media_type") or any(key in message for key in _MEDIA):
            export.kept["captions of media"] += 1
        if turns and turns[-1].sender == sender:
            turns[-1].texts.append(text)
            export.kept["merged into the message before"] += 1
        else:
            turns.append(_Turn(str(sender), [text], str(message.get("date", "")), message.get("reply_to_message_id")))
        turn_of[message.get("id")] = len(turns) - 1
    speakers = {t.sender for t in turns}
    if len(speakers) < 2:
        why = "no usable message" if not speakers else "one speaker only"
        export.chats_without_pairs[why] += 1
        return
    before = len(export.pairs)
    answered: set[int] = set()
    for i, turn in enumerate(turns):
        if turn.sender != server:
            continue
        target = turn_of.get(turn.reply_to) if turn.reply_to is not None else None
        if target is not None and target < i and turns[target].sender != server and target not in answered:
            if target != i - 1:
                export.kept["replies paired with the message they quote"] += 1
        elif i > 0 and turns[i - 1].sender != server and i - 1 not in answered:
            target = i - 1
        else:
            export.unpaired["server turns with no client message to answer"] += 1
            continue
        answered.add(target)
        client = turns[target]
        export.pairs.append(Pair("\n".join(client.texts), "\n".join(turn.texts), chat_name, client.date))
    unanswered = sum(1 for i, t in enumerate(turns) if t.sender != server and i not in answered)
    if unanswered:
        export.unpaired["client turns never answered"] += unanswered
    if len(export.pairs) == before:
        export.chats_without_pairs["the server never answered a client"] += 1


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
