"""Stacks the tests start: ``make run-bots``'s several bots (the ``several_bots`` fixture, and tests that need a
stack of their own, such as the studies' browser test)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from launcher.__main__ import LOGREG_BOT, SCRIPTED_BOT, write_bots_file
from launcher.build import train
from launcher.services import RasaBot, ScriptedServer, Stack, StackConfig, free_port, migrate_django


def stack_env(state: Path) -> dict[str, str]:
    """A stack's environment: fresh secrets, production-like Django, every database a file under ``state``."""
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "RASA_JWT_SECRET": secrets.token_urlsafe(32),
        "DJANGO_DB_PATH": str(state / "django.sqlite3"),
        "RASA_TRACKER_DB": str(state / "tracker.sqlite3"),
        "ACTIONS_DATABASE_URL": f"sqlite:///{state / 'orders.sqlite3'}",
    }


def stack_config(demo_bot: tuple[Path, Path], state: Path, env: dict[str, str], **more: Any) -> StackConfig:
    """The demo bot's stack on free ports, logging under ``state`` (``more``: more bots, ``StackConfig``'s fields)."""
    bot_dir, model = demo_bot
    return StackConfig(
        bot_dir=bot_dir,
        model=model,
        log_dir=state / "logs",
        env=env,
        rasa_port=free_port(),
        actions_port=free_port(),
        django_port=free_port(),
        **more,
    )


@dataclass
class SeveralBots:
    """The several-bots stack: the site, and where each bot's server is, by bot id."""

    stack: Stack
    site_url: str
    bot_urls: dict[str, str]
    jwt_secret: str
    env: dict[str, str]
    state: Path

    def server(self, bot_id: str):
        """The service that serves ``bot_id``."""
        name = {"demo": "Rasa server", SCRIPTED_BOT[0]: "scripted bots"}.get(bot_id, f"Rasa server ({bot_id})")
        return self.stack[name]


@contextmanager
def several_bots_stack(
    demo_bot: tuple[Path, Path], state: Path, *, extra_env: dict[str, str] | None = None, rasa_api: bool = False
) -> Iterator[SeveralBots]:
    """Start ``make run-bots``'s stack in ``state``: demo (default pipeline), logreg (Rasa's logistic regression),
    faq (scripted), all in the registry, stopped on exit.

    The two Rasa bots share the JWT secret, as a deployment may: their tokens differ only in ``aud``.

    Args:
        extra_env: More environment for every service (a study's ``STUDIES_ID_KEY``, say).
        rasa_api: Turn on the demo bot's HTTP API (with a fresh ``RASA_API_TOKEN``), registered for the site.
    """
    bot_dir = demo_bot[0]
    logreg_id, logreg_label, logreg_config = LOGREG_BOT
    faq_id, faq_label, faq_class = SCRIPTED_BOT
    env = {**stack_env(state), **(extra_env or {})}
    secret = env["RASA_JWT_SECRET"]
    if rasa_api:
        env["RASA_API_TOKEN"] = secrets.token_urlsafe(32)
    cfg = stack_config(
        demo_bot,
        state,
        env,
        more_rasa=[RasaBot(logreg_id, logreg_label, train(bot_dir, config=logreg_config), free_port())],
        scripted=ScriptedServer(free_port(), {faq_id: (faq_label, faq_class)}),
    )
    if rasa_api:
        cfg.env["RASA_API_URL"] = f"http://127.0.0.1:{cfg.rasa_port}"
    cfg.bots_file = write_bots_file(cfg, state / "bots.yml", {"demo": "Customer service (linear SVM)"})
    migrate_django(env)
    stack = Stack(cfg)
    stack.start()
    try:
        yield SeveralBots(
            stack=stack,
            site_url=f"http://127.0.0.1:{cfg.django_port}",
            bot_urls={
                "demo": f"http://127.0.0.1:{cfg.rasa_port}",
                logreg_id: f"http://127.0.0.1:{cfg.more_rasa[0].port}",
                faq_id: f"http://127.0.0.1:{cfg.scripted.port}",
            },
            jwt_secret=secret,
            env=env,
            state=state,
        )
    finally:
        stack.stop()
