"""Django: secrets come from the environment, production refuses to start without them; tokens."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import pytest

from launcher import paths

sys.path.insert(0, str(paths.DJANGO_DIR))
from chat.tokens import issue_token  # noqa: E402


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


def test_refuses_to_start_without_jwt_secret_even_in_debug():
    done = manage_check(DJANGO_DEBUG="1")
    assert done.returncode != 0
    assert "RASA_JWT_SECRET is not set" in done.stderr


def test_starts_with_secrets_from_the_environment():
    done = manage_check(DJANGO_SECRET_KEY="k" * 50, RASA_JWT_SECRET="s" * 40)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("lifetime", ["0", "3600", "ten"])
def test_token_lifetime_must_be_short(lifetime):
    done = manage_check(DJANGO_SECRET_KEY="k" * 50, RASA_JWT_SECRET="s" * 40, RASA_JWT_LIFETIME=lifetime)
    assert done.returncode != 0 and "RASA_JWT_LIFETIME" in done.stderr


def test_issue_token_claims():
    token, expires = issue_token("conv-1", secret="s" * 40, lifetime=900, now=1_000_000)
    claims = jwt.decode(token, "s" * 40, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"sub": "conv-1", "iat": 1_000_000, "exp": 1_000_900}
    assert expires == 1_000_900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-sufficient-length-xx", algorithms=["HS256"], options={"verify_exp": False})
