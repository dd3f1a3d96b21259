"""The base class of scripted bots and the registry of the classes a server may serve."""

from __future__ import annotations

import importlib
import re
from typing import Any, TypeVar

#: One message as the widget receives it in ``bot_uttered`` (Rasa's socket.io shape: ``text``,
#: ``quick_replies`` with ``title``/``payload``, ``attachment`` ...).
Message = dict[str, Any]

DOTTED_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


class ScriptedBotError(ValueError):
    """A dotted path that does not name a registered scripted bot; the message says why."""


class ScriptedBot:
    """A bot that answers from code. The server makes one instance per conversation.

    Subclasses override :meth:`reply`; ``self`` may keep conversation state (it
    lives as long as the server process: a restarted server starts afresh, like a
    new conversation).
    """

    #: What the admin and the docs call it.
    description = ""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id

    def reply(self, text: str) -> list[Message]:
        """The messages answering ``text`` (at least one)."""
        raise NotImplementedError


_REGISTRY: dict[str, type[ScriptedBot]] = {}
B = TypeVar("B", bound=type[ScriptedBot])


def scripted_bot(cls: B) -> B:
    """Class decorator: allow the registry to name ``cls`` by its dotted path (``module.Class``)."""
    if not (isinstance(cls, type) and issubclass(cls, ScriptedBot)):
        raise TypeError(f"@scripted_bot decorates ScriptedBot subclasses, not {cls!r}")
    _REGISTRY[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def registered() -> dict[str, type[ScriptedBot]]:
    """The classes registered so far, by dotted path (importing a module registers its classes)."""
    return dict(_REGISTRY)


def resolve(path: str) -> type[ScriptedBot]:
    """The registered class a dotted path names, importing its module first.

    Raises:
        ScriptedBotError: The path is malformed, its module does not import, or it names no class
            registered with :func:`scripted_bot`.
    """
    if not isinstance(path, str) or not DOTTED_PATH.fullmatch(path):
        raise ScriptedBotError(f"{path!r} is not a dotted path such as scripted_bots.baselines.EchoBot")
    module, _, _ = path.rpartition(".")
    if path not in _REGISTRY:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ScriptedBotError(f"module {module!r} cannot be imported ({exc})") from None
    if path not in _REGISTRY:
        known = ", ".join(sorted(p for p in _REGISTRY if p.startswith(module + "."))) or "none"
        raise ScriptedBotError(
            f"{path!r} is not a class registered with @scripted_bot (registered in {module}: {known})"
        )
    return _REGISTRY[path]
