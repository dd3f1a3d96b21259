"""System checks: ``manage.py check --deploy`` says when the key of the external ids' hashes is missing or short."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from chat_contract import MIN_KEY_LENGTH


@checks.register(checks.Tags.security, deploy=True)
def studies_id_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """``STUDIES_ID_KEY`` set and long enough (participants arriving with an external id need it)."""
    key = getattr(settings, "STUDIES_ID_KEY", None) or ""
    if len(key) >= MIN_KEY_LENGTH:
        return []
    state = "is not set" if not key else f"is shorter than {MIN_KEY_LENGTH} characters"
    return [
        checks.Error(
            f"STUDIES_ID_KEY {state}: study participants arriving with an external id (Prolific, MTurk) cannot "
            "be enrolled.",
            hint="Set it in the environment (see .env.example) and keep it.",
            id="studies.E001",
        )
    ]
