"""A registered bot: what the browser connects to, what the server calls, where the secrets are."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from chat_contract import BOT_ID, MIN_KEY_LENGTH

ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
DEFAULT_SECRET_ENV = "RASA_JWT_SECRET"

validate_bot_id = RegexValidator(
    rf"^{BOT_ID.pattern}$", "Lower-case letters, digits, - and _ (starting and ending with a letter or digit)."
)
validate_env_name = RegexValidator(
    rf"^{ENV_NAME.pattern}$", "The name of an environment variable (upper-case letters, digits and _)."
)


def validate_http_url(value: str) -> None:
    """An http(s) URL with a host (any host name: service names such as ``rasa`` count), no query or fragment."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or " " in value:
        raise ValidationError(
            "Enter an http:// or https:// URL with a host, e.g. http://127.0.0.1:5005", code="invalid"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValidationError("The URL's port is not a number from 0 to 65535.", code="invalid") from None


validate_socket_path = RegexValidator(r"^/[A-Za-z0-9._~/-]*$", "A URL path starting with /, e.g. /socket.io")


class BotUnavailable(Exception):
    """A bot that cannot be talked to now (its secret is not set, say). The message says which and why."""


class Bot(models.Model):
    """One bot the site's widgets can talk to.

    ``rasa``: a Rasa server running the project's channels; ``python``: a class
    registered with ``scripted_bots.scripted_bot``, served by the project's
    scripted-bot server (scripted_bots/server.py). Both speak the same socket.io
    protocol to the widget; ``socket_url`` is where the browser reaches it.
    """

    class Kind(models.TextChoices):
        RASA = "rasa", "Rasa server"
        PYTHON = "python", "Scripted (Python class)"

    id = models.CharField(
        primary_key=True,
        max_length=50,
        validators=[validate_bot_id],
        help_text="Slug; the audience (aud) of its tokens: its server's RASA_BOT_ID or --bot id.",
    )
    label = models.CharField(max_length=100, help_text="Public name, shown in the widget's header.")
    participant_label = models.CharField(
        max_length=100,
        blank=True,
        help_text="Shown to study participants instead of the label (e.g. 'Assistant A'); optional.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RASA)
    socket_url = models.CharField(
        "socket.io URL",
        max_length=300,
        validators=[validate_http_url],
        help_text="Where the browser reaches the bot's socket.io server, e.g. https://chat.example.com",
    )
    socket_path = models.CharField(
        "socket.io path",
        max_length=100,
        default="/socket.io",
        validators=[validate_socket_path],
        help_text="The socket.io path there (differs when a proxy serves several bots on one host).",
    )
    api_url = models.CharField(
        "Rasa HTTP API URL",
        max_length=300,
        blank=True,
        validators=[validate_http_url],
        help_text="Rasa only: where this site reaches Rasa's HTTP API; empty when it is off.",
    )
    jwt_secret_env = models.CharField(
        "JWT secret variable",
        max_length=100,
        default=DEFAULT_SECRET_ENV,
        validators=[validate_env_name],
        help_text="Name of the environment variable holding the HS256 key of its tokens.",
    )
    api_token_env = models.CharField(
        "API token variable",
        max_length=100,
        blank=True,
        validators=[validate_env_name],
        help_text="Rasa only: name of the environment variable holding the HTTP API's token.",
    )
    python_class = models.CharField(
        "Python class",
        max_length=200,
        blank=True,
        help_text="Scripted only: a @scripted_bot class, e.g. scripted_bots.baselines.EchoBot",
    )
    enabled = models.BooleanField(default=True, help_text="Disabled bots get no new conversations.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.id})"

    def clean(self) -> None:
        """The fields each kind needs, and only those."""
        from scripted_bots import ScriptedBotError, resolve

        errors: dict[str, str] = {}
        if self.kind == self.Kind.RASA:
            if self.python_class:
                errors["python_class"] = "Only scripted (python) bots have a class."
            if self.api_url and not self.api_token_env:
                errors["api_token_env"] = "Rasa's HTTP API is only ever on with a token: name its variable."
        elif self.kind == self.Kind.PYTHON:
            if not self.python_class:
                errors["python_class"] = "A scripted bot needs the dotted path of its class."
            else:
                try:
                    resolve(self.python_class)
                except ScriptedBotError as exc:
                    errors["python_class"] = str(exc)
            for name in ("api_url", "api_token_env"):
                if getattr(self, name):
                    errors[name] = "Only Rasa bots have an HTTP API."
        if errors:
            raise ValidationError(errors)

    @property
    def display_label(self) -> str:
        """What participants see: the participant label when there is one."""
        return self.participant_label or self.label

    def jwt_secret(self) -> str:
        """The HS256 key for this bot's tokens, from the environment (never the database).

        Raises:
            BotUnavailable: The variable is not set or too short.
        """
        if self.jwt_secret_env == DEFAULT_SECRET_ENV:
            value = settings.RASA_JWT_SECRET  # checked when the settings loaded
        else:
            value = os.environ.get(self.jwt_secret_env, "").strip()
        if len(value) < MIN_KEY_LENGTH:
            state = "is not set" if not value else f"is shorter than {MIN_KEY_LENGTH} characters"
            raise BotUnavailable(f"bot {self.id!r}: the environment variable {self.jwt_secret_env} {state}")
        return value

    def api_token(self) -> str | None:
        """The token of Rasa's HTTP API, from the environment; None when the bot has no API."""
        if not self.api_url or not self.api_token_env:
            return None
        value = os.environ.get(self.api_token_env, "").strip()
        if not value:
            raise BotUnavailable(f"bot {self.id!r}: the environment variable {self.api_token_env} is not set")
        return value
