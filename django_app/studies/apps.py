from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "studies"
    verbose_name = "Human-evaluation studies"
    default_auto_field = "django.db.models.BigAutoField"
