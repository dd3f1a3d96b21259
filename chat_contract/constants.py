"""Values shared across components, each written once.

Who reads what:

* ``MAX_TOKEN_LIFETIME``, ``MIN_TOKEN_LIFETIME``: Django refuses a longer or shorter
  ``RASA_JWT_LIFETIME``; the socket.io and REST channels and the scripted-bot server
  refuse a token whose ``exp`` is further away.
* ``MIN_KEY_LENGTH``: every HS256 key (``RASA_JWT_SECRET`` or a bot's own secret) is
  refused when shorter, by Django, the channels and the scripted-bot server.
* ``DEFAULT_PORTS``: the launcher (``make run``, ``make run-bots``) and the ``.env``
  it writes; ``.env.example``, the Dockerfiles and docker-compose.yml write the same
  numbers (a unit test checks they agree).
* ``DEFAULT_BOT_ID``: the id of the one demo bot ``make run`` registers, the
  audience a Rasa channel accepts when ``audience`` is not configured.
"""

from __future__ import annotations

#: The only algorithm Django signs with; the channels may be configured with the others.
JWT_ALGORITHM = "HS256"
JWT_ALGORITHMS = ("HS256", "HS384", "HS512")

#: A widget token lives at most this long (seconds): short-lived, refreshed by the widget.
MAX_TOKEN_LIFETIME = 900
#: ... and at least this long (a shorter one would expire while the widget connects).
MIN_TOKEN_LIFETIME = 30

#: Characters an HS256 key needs at least (RFC 7518 asks for 256 bits; 32 URL-safe characters carry ~190).
MIN_KEY_LENGTH = 32

#: Characters of one user message the channels accept.
MAX_MESSAGE_CHARS = 2000

#: The bot `make run` serves, and the audience a channel accepts unless configured.
DEFAULT_BOT_ID = "demo"

#: Ports of `make run`, by the variable that overrides each (`make run DJANGO_PORT=8080`).
DEFAULT_PORTS: dict[str, int] = {
    "DJANGO_PORT": 8000,
    "RASA_PORT": 5005,
    "ACTIONS_PORT": 5055,
}
#: The further ports of `make run-bots`: the second Rasa bot's and the scripted-bot server's.
RUN_BOTS_PORTS: dict[str, int] = {
    "RASA_LOGREG_PORT": 5006,
    "SCRIPTED_BOTS_PORT": 5007,
}
