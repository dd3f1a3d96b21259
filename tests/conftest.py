"""Shared fixtures: a trained demo bot and the real running stack.

The stack fixture starts the real action server, Rasa server and Django on
free loopback ports with fresh secrets and databases in a temporary folder;
``several_bots`` starts what ``make run-bots`` starts (two Rasa bots trained
with different pipelines, the scripted-bot server, all in the bot registry).
Models are cached by the fingerprint of their training inputs (in
``.cache/models``), so a second run does not train again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from launcher import paths
from launcher.build import convert, copy_bot_sources, train
from launcher.services import Stack, migrate_django
from tests.stacks import SeveralBots, several_bots_stack, stack_config, stack_env

ARTIFACTS = paths.REPO / "test-artifacts"


@dataclass
class RunningStack:
    """What a test needs to talk to the stack."""

    stack: Stack
    site_url: str
    rasa_url: str
    jwt_secret: str
    tracker_db: Path
    api_token: str

    def log(self, name: str) -> str:
        return self.stack[name].log_tail(20000)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def demo_bot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of rasa_bot/ with the demo corpus converted into it, and its trained model."""
    bot_dir = copy_bot_sources(tmp_path_factory.mktemp("bot"))
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    return bot_dir, train(bot_dir)


@contextmanager
def launch_stack(demo_bot: tuple[Path, Path], state: Path, **env_overrides: str) -> Iterator[RunningStack]:
    """Start the three services for real on free ports, with fresh secrets and databases under ``state``."""
    env = {**stack_env(state), "RASA_API_TOKEN": secrets.token_urlsafe(32), **env_overrides}
    secret = env["RASA_JWT_SECRET"]
    cfg = stack_config(demo_bot, state, env)
    migrate_django(env)
    stack = Stack(cfg)
    stack.start()
    try:
        yield RunningStack(
            stack=stack,
            site_url=f"http://127.0.0.1:{cfg.django_port}",
            rasa_url=f"http://127.0.0.1:{cfg.rasa_port}",
            jwt_secret=secret,
            tracker_db=state / "tracker.sqlite3",
            api_token=env["RASA_API_TOKEN"],
        )
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def running_stack(demo_bot: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack shared by tests that leave it as they found it."""
    with launch_stack(demo_bot, tmp_path_factory.mktemp("state")) as running:
        yield running


@pytest.fixture(scope="module")
def private_stack(demo_bot: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack of the module's own, for tests that kill and restart services."""
    with launch_stack(demo_bot, tmp_path_factory.mktemp("private-state")) as running:
        yield running


@pytest.fixture(scope="session")
def several_bots(demo_bot: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeveralBots]:
    """``make run-bots``'s stack (``several_bots_stack``), shared by the session's tests that leave it as it was."""
    with several_bots_stack(demo_bot, tmp_path_factory.mktemp("several-bots")) as running:
        yield running


from tests.attack_log import ATTACKS  # noqa: E402  (one list, whichever way this module is imported)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if ATTACKS:
        refused = sum(ok for _, ok in ATTACKS)
        terminalreporter.write_line(f"security suite: {len(ATTACKS)} attacks tried, {refused} refused")
        for name, ok in ATTACKS:
            if not ok:
                terminalreporter.write_line(f"  NOT refused: {name}")
