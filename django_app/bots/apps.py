from django.apps import AppConfig


class BotsConfig(AppConfig):
    """The registry of bots (Rasa servers and scripted baselines) the site's widgets talk to."""

    name = "bots"
    verbose_name = "Bots"
