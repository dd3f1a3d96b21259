"""Scripted bots: baselines that need no Rasa, served over the widget's socket.io protocol.

* :mod:`scripted_bots.base`: :class:`ScriptedBot` (one instance per conversation,
  ``reply(text)`` returns messages in Rasa's ``bot_uttered`` shape) and the
  :func:`scripted_bot` decorator that registers a class under its dotted path;
* :mod:`scripted_bots.baselines`: an echo bot, a bot that always says it cannot
  help, and a fixed FAQ lookup;
* :mod:`scripted_bots.server`: the socket.io server (python-socketio on aiohttp)
  that serves registered classes to the chat widget exactly as the project's
  Rasa channel does (same events, same token checks, ``aud`` = the bot id), so the
  widget cannot tell the difference; ``python -m scripted_bots`` starts it.

The site's bot registry (``django_app/bots``) names a scripted bot by the dotted
path of its class; only classes registered with the decorator are accepted, so a
registry entry can never make a server import arbitrary code. The registry and
the bots are pure Python (Django imports them to validate entries); only
``server`` needs aiohttp and python-socketio.
"""

from .base import Message, ScriptedBot, ScriptedBotError, registered, resolve, scripted_bot

__all__ = ["Message", "ScriptedBot", "ScriptedBotError", "registered", "resolve", "scripted_bot"]
