"""Writes to the bot registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .bots_file import FIELDS, BotEntry, BotsFileError
from .models import Bot


@dataclass
class LoadResult:
    """What ``bots_load`` changed, by bot id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def _defaults() -> dict[str, object]:
    return {name: Bot._meta.get_field(name).get_default() for name in FIELDS}


def _bot_from_entry(entry: BotEntry, source: str, problems: list[str]) -> Bot | None:
    """The bot an entry describes, validated by the model; None (and ``problems`` extended) if it has mistakes."""
    found = list(entry.problems)
    if entry.unreadable:
        problems.extend(found)
        return None
    values = _defaults()
    for name, value in entry.values.items():
        if name == "enabled" and not isinstance(value, bool):
            found.append(f"{entry.where(source, name)}: expected true or false, not {value!r}")
            entry.bad_fields.add(name)
        elif name != "enabled" and not isinstance(value, str):
            found.append(f"{entry.where(source, name)}: expected text, not {value!r}")
            entry.bad_fields.add(name)
        else:
            values[name] = value.strip() if isinstance(value, str) else value
    bot = Bot(id=entry.id, **values)
    try:
        bot.full_clean(exclude=sorted(entry.bad_fields), validate_unique=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            if name in entry.bad_fields:
                continue
            if name == "id":
                found.extend(f"{entry.where(source)} (the id): {message}" for message in messages)
            elif name not in entry.values:
                found.append(f"{entry.where(source, name)}: missing; this bot needs it")
            else:
                found.extend(f"{entry.where(source, name)}: {message}" for message in messages)
    problems.extend(found)
    return None if found else bot


def bots_load(*, entries: list[BotEntry], source: str = "bots.yml", prune: bool = False) -> LoadResult:
    """Create or update one bot per entry, all or none.

    Each entry describes its bot fully: a field the file leaves out takes the
    model's default. Every entry is checked with the model's own validation
    before anything is written; any mistake fails the whole load.

    Args:
        entries: From :func:`bots.bots_file.parse_bots_file`.
        source: The file's name, for error messages.
        prune: Disable the registered bots the file does not name (they are kept, with
            their conversations, but get no new ones).

    Raises:
        BotsFileError: Every mistake, each naming the line, the bot and the field.
    """
    problems: list[str] = []
    bots = [bot for entry in entries if (bot := _bot_from_entry(entry, source, problems)) is not None]
    if problems:
        raise BotsFileError(problems)
    result = LoadResult()
    with transaction.atomic():
        existing = {b.id: b for b in Bot.objects.select_for_update().filter(id__in=[b.id for b in bots])}
        for bot in bots:
            old = existing.get(bot.id)
            if old is None:
                bot.save(force_insert=True)
                result.created.append(bot.id)
            elif any(getattr(old, name) != getattr(bot, name) for name in FIELDS):
                bot.save(force_update=True)
                result.updated.append(bot.id)
            else:
                result.unchanged.append(bot.id)
        if prune:
            stale = Bot.objects.filter(enabled=True).exclude(id__in=[b.id for b in bots])
            result.disabled = sorted(stale.values_list("id", flat=True))
            stale.update(enabled=False)
    return result
