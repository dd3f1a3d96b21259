"""Reading a bots YAML file: structure, environment variables, line numbers. Pure (no Django, no database).

The file, e.g. ``django_app/bots.yml``::

    bots:
      demo:                          # the bot's id (a slug; its tokens' audience)
        label: Customer service
        kind: rasa                   # rasa | python
        socket_url: ${RASA_SOCKET_URL}
        api_url: ${RASA_API_URL:-}   # ${VAR:-default}: a default when VAR is unset
        jwt_secret_env: RASA_JWT_SECRET
        api_token_env: RASA_API_TOKEN
      echo:
        label: Echo baseline
        kind: python
        python_class: scripted_bots.baselines.EchoBot
        socket_url: http://127.0.0.1:5006

Values may name environment variables (``${VAR}``, ``${VAR:-default}``) so one
file serves several deployments; secrets never appear in it, only the names of
the variables holding them. What each field may hold is checked by the model
(``bots.services.bots_load``); this module checks the file's shape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

#: Fields a bot entry may have (the model's, less the id, which is the entry's key).
FIELDS = (
    "label",
    "participant_label",
    "kind",
    "socket_url",
    "socket_path",
    "api_url",
    "jwt_secret_env",
    "api_token_env",
    "python_class",
    "enabled",
)
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class BotsFileError(ValueError):
    """Mistakes in a bots file, each naming the file, the line, the bot and the field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class BotEntry:
    """One bot as written in the file (values after ``${VAR}`` expansion)."""

    id: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    #: Mistakes found in the file, and the fields they concern (the model does not check those again).
    problems: list[str] = field(default_factory=list)
    bad_fields: set[str] = field(default_factory=set)
    #: The entry as a whole is wrong (not a mapping): its fields are not checked.
    unreadable: bool = False

    def problem(self, source: str, name: str | None, text: str) -> None:
        self.problems.append(f"{self.where(source, name)}: {text}")
        if name:
            self.bad_fields.add(name)
        else:
            self.unreadable = True

    def where(self, source: str, name: str | None = None) -> str:
        """``source, line N: bot 'id'[, field 'name']`` for error messages."""
        line = self.lines.get(name, self.line) if name else self.line
        return f"{source}, line {line}: bot {self.id!r}" + (f", field {name!r}" if name else "")


def _expand(value: str, environ: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name, "")
        if found:
            return found
        if default is not None:
            return default
        raise KeyError(name)

    return ENV_REFERENCE.sub(one, value)


def parse_bots_file(text: str, *, source: str = "bots.yml", environ: Mapping[str, str] | None = None) -> list[BotEntry]:
    """The bot entries of a bots file, in file order.

    Args:
        text: The YAML.
        source: The file's name, for error messages.
        environ: Where ``${VAR}`` is looked up (default: the process environment).

    Mistakes in one bot's fields (unknown fields, lists, unset variables) are kept in
    its entry's ``problems`` and reported with the model's checks by ``bots_load``,
    so one run lists every mistake of the file.

    Raises:
        BotsFileError: The file as a whole is wrong (YAML syntax, no ``bots`` mapping, duplicate ids).
    """
    environ = os.environ if environ is None else environ
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark else source
        raise BotsFileError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    try:
        if root is None:
            raise BotsFileError([f"{source}: the file is empty; expected a mapping with a 'bots' key"])
        if not isinstance(root, yaml.MappingNode):
            raise BotsFileError([f"{source}, line {root.start_mark.line + 1}: expected a mapping with a 'bots' key"])
        top = {loader.construct_object(k): (k, v) for k, v in root.value}
        unknown = sorted(str(k) for k in top if k != "bots")
        problems = [f"{source}, line {top[k][0].start_mark.line + 1}: unknown key {k!r} (only 'bots')" for k in unknown]
        if "bots" not in top:
            raise BotsFileError(problems + [f"{source}: no 'bots' key"])
        bots_node = top["bots"][1]
        if not isinstance(bots_node, yaml.MappingNode):
            line = bots_node.start_mark.line + 1
            raise BotsFileError(problems + [f"{source}, line {line}: 'bots' must map bot ids to their fields"])
        entries: list[BotEntry] = []
        seen: set[str] = set()
        for key_node, body in bots_node.value:
            bot_id = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if not isinstance(bot_id, str):
                problems.append(f"{source}, line {line}: bot id {bot_id!r} must be a string such as demo")
                continue
            if bot_id in seen:
                problems.append(f"{source}, line {line}: bot {bot_id!r} is defined twice")
                continue
            seen.add(bot_id)
            entry = BotEntry(id=bot_id, line=line)
            entries.append(entry)
            if not isinstance(body, yaml.MappingNode):
                entry.problem(source, None, f"expected a mapping of fields ({', '.join(FIELDS)})")
                continue
            for name_node, value_node in body.value:
                name = loader.construct_object(name_node)
                entry.lines[name] = name_node.start_mark.line + 1
                if name not in FIELDS:
                    entry.problem(source, str(name), f"unknown field (known: {', '.join(FIELDS)})")
                    continue
                if not isinstance(value_node, yaml.ScalarNode):
                    entry.problem(source, name, "expected a single value, not a list or mapping")
                    continue
                value = loader.construct_object(value_node)
                if isinstance(value, str):
                    try:
                        value = _expand(value, environ)
                    except KeyError as exc:
                        entry.problem(source, name, f"environment variable {exc.args[0]} is not set")
                        continue
                elif value is None:
                    value = ""
                entry.values[name] = value
        if problems:
            raise BotsFileError(problems)
        return entries
    finally:
        loader.dispose()
