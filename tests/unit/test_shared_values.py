"""Values shared across components are written once (chat_contract/constants.py); the files that must
repeat them (Dockerfiles, .env.example, rasa_bot/cli.env) agree with it."""

from __future__ import annotations

import re

import pytest

from chat_contract import DEFAULT_PORTS, MAX_TOKEN_LIFETIME, MIN_KEY_LENGTH, RUN_BOTS_PORTS
from launcher import paths
from launcher.envfile import DEV_DEFAULTS

REPO = paths.REPO
ALL_PORTS = {**DEFAULT_PORTS, **RUN_BOTS_PORTS}


def env_example() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", (REPO / ".env.example").read_text(), re.M))


def test_env_example_and_the_generated_env_use_the_default_ports():
    example = env_example()
    for name, port in ALL_PORTS.items():
        assert example[name] == str(port), name
        assert DEV_DEFAULTS[name] == str(port), name


@pytest.mark.parametrize(
    ("dockerfile", "port"),
    [("rasa.Dockerfile", "RASA_PORT"), ("actions.Dockerfile", "ACTIONS_PORT"), ("django.Dockerfile", "DJANGO_PORT")],
)
def test_each_image_exposes_its_default_port(dockerfile, port):
    text = (REPO / dockerfile).read_text()
    assert re.search(rf"^EXPOSE {DEFAULT_PORTS[port]}$", text, re.M), dockerfile
    others = {p for p in re.findall(r"\b(50\d\d|8000)\b", text)} - {str(DEFAULT_PORTS[port])}
    assert not others, f"{dockerfile} names other ports: {others}"


def test_rasa_cli_settings_point_at_the_default_ports():
    cli_env = (paths.BOT_DIR / "cli.env").read_text()
    assert f"127.0.0.1:{DEFAULT_PORTS['ACTIONS_PORT']}/webhook" in cli_env
    assert f"127.0.0.1:{DEFAULT_PORTS['DJANGO_PORT']}" in cli_env


def test_token_lifetime_and_key_length_are_not_written_elsewhere():
    assert int(env_example()["RASA_JWT_LIFETIME"]) <= MAX_TOKEN_LIFETIME
    assert "max_token_lifetime" not in (paths.BOT_DIR / "credentials.yml").read_text().split("#")[0]
    sources = [
        *(REPO / "rasa_bot" / "channels").glob("*.py"),
        *(REPO / "django_app").rglob("*.py"),
        *(REPO / "scripted_bots").glob("*.py"),
        *(REPO / "launcher").glob("*.py"),
    ]
    for source in sources:
        if "migrations" in source.parts or "node_modules" in source.parts:
            continue
        text = source.read_text()
        assert not re.search(rf"\b{MAX_TOKEN_LIFETIME}\b", text), f"{source} writes {MAX_TOKEN_LIFETIME} itself"
        assert not re.search(rf"len\(.*\)\s*<\s*{MIN_KEY_LENGTH}\b", text), f"{source} writes the key length itself"
