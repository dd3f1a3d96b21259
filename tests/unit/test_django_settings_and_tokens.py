"""Django: secrets come from the environment, production refuses to start without them; tokens.

Settings are split by environment (config/settings/): ``manage.py`` defaults to
production, ``make run`` uses local.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import pytest

from chat_contract import MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH
from chat_contract.tokens import issue_token
from launcher import paths


def manage_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RASA_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=paths.DJANGO_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    done = manage_check(RASA_JWT_SECRET="x" * 40)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in done.stderr


def test_refuses_to_start_without_jwt_secret_even_in_development():
    done = manage_check(DJANGO_SETTINGS_MODULE="config.settings.local")
    assert done.returncode != 0
    assert "RASA_JWT_SECRET is not set" in done.stderr


def test_development_settings_need_no_django_key():
    done = manage_check(DJANGO_SETTINGS_MODULE="config.settings.local", RASA_JWT_SECRET="s" * 40)
    assert done.returncode == 0, done.stderr


def test_production_ignores_django_debug():
    """DJANGO_DEBUG=1 no longer relaxes production: choosing development is choosing its settings module."""
    done = manage_check(DJANGO_DEBUG="1", RASA_JWT_SECRET="s" * 40)
    assert done.returncode != 0 and "DJANGO_SECRET_KEY is not set" in done.stderr


def test_jwt_secret_shorter_than_the_minimum_is_refused():
    done = manage_check(DJANGO_SECRET_KEY="k" * 50, RASA_JWT_SECRET="s" * (MIN_KEY_LENGTH - 1))
    assert done.returncode != 0 and f"at least {MIN_KEY_LENGTH} characters" in done.stderr


def test_starts_with_secrets_from_the_environment():
    done = manage_check(DJANGO_SECRET_KEY="k" * 50, RASA_JWT_SECRET="s" * 40)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("lifetime", ["0", str(MAX_TOKEN_LIFETIME + 1), "ten"])
def test_token_lifetime_must_be_short(lifetime):
    done = manage_check(DJANGO_SECRET_KEY="k" * 50, RASA_JWT_SECRET="s" * 40, RASA_JWT_LIFETIME=lifetime)
    assert done.returncode != 0 and "RASA_JWT_LIFETIME" in done.stderr


def test_issue_token_claims():
    token, expires = issue_token("conv-1", bot_id="demo", secret="s" * 40, lifetime=900, now=1_000_000)
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], audience="demo", options={"verify_exp": False})
    assert claims == {"sub": "conv-1", "aud": "demo", "iat": 1_000_000, "exp": 1_000_900}
    assert expires == 1_000_900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-sufficient-length-xx", algorithms=["HS256"], options={"verify_exp": False})
