from django.apps import AppConfig


class ChatConfig(AppConfig):
    """The customer-facing chat: widget page and token issuing."""

    name = "chat"
