"""Rasa's own CLI, typed by hand in rasa_bot/ (docs/rasa_bot.md, "Rasa's own CLI").

Each command runs as a data scientist types it: the venv's ``rasa`` found on
``PATH``, the bot folder as the working directory, no ``--domain``/``--data``/
``--config``/``--endpoints``/``--credentials`` options, nothing on
``PYTHONPATH`` and none of the project's settings in the environment except
what ``rasa_bot/cli.env`` sets. The only options added are ``--port`` (this
machine is shared: Rasa's default 5005 may be taken) and ``--model`` for
``rasa interactive`` (it would otherwise train again). Everything runs in a
temporary copy of the bot with the demo corpus converted in, as ``make build``
converts it; the last test checks that whatever the commands wrote there is
git-ignored, so running them in rasa_bot/ itself leaves the repository clean.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
import pytest
import requests
import yaml

from launcher import paths
from launcher.build import convert, copy_bot_sources
from launcher.services import free_port

pytestmark = pytest.mark.integration

VENV_BIN = Path(paths.tool("rasa")).parent
#: Loads cli.env as the docs say; ``exec`` so that stopping the shell stops Rasa.
WITH_CLI_ENV = "set -a && . ./cli.env && set +a && exec "
#: Rasa's own coloured warnings and log lines (ANSI codes removed before matching).
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cli_env(**extra: str) -> dict[str, str]:
    """A terminal's environment: the venv's bin first on PATH, none of the project's settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RASA_", "ACTION", "SITE_", "SANIC_", "DJANGO_")) and k != "PYTHONPATH"
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["RASA_TELEMETRY_ENABLED"] = "false"  # the one setting every Rasa process here needs (no internet)
    env["TERM"] = "xterm"
    env.update(extra)
    return env


def typed(bot: Path, command: str, timeout: float = 600, **env: str) -> str:
    """Run ``command`` in ``bot`` as typed in a shell; return its output (stdout and stderr), ANSI codes removed."""
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=bot,
        env=cli_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    out = ANSI.sub("", done.stdout)
    assert done.returncode == 0, f"`{command}` exited with {done.returncode}:\n{out[-5000:]}"
    return out


@contextmanager
def background(bot: Path, command: str, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """Run ``command`` in ``bot`` in its own process group; stop the group afterwards."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=bot,
            env=cli_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def action_server(bot: Path, tmp_path: Path) -> Iterator[str]:
    """``rasa run actions`` as typed (plus a free port); yields the URL Rasa reaches it at."""
    port = free_port()
    log = tmp_path / "actions.log"
    with background(bot, f"exec rasa run actions --port {port}", log) as proc:
        wait_for(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}/webhook"


def spawn(bot: Path, command: str, log: Path, **env: str) -> pexpect.spawn:
    """An interactive command in a pseudo-terminal, as in a real terminal window."""
    child = pexpect.spawn(
        "bash", ["-c", command], cwd=str(bot), env=cli_env(**env), encoding="utf-8", timeout=180, dimensions=(50, 250)
    )
    child.logfile_read = log.open("w")
    return child


def stop(child: pexpect.spawn) -> None:
    if child.isalive():
        child.terminate(force=True)
    child.logfile_read.close()


def domain_of(bot: Path) -> dict:
    """The merged domain folder (forms, responses and actions are all this module needs)."""
    merged: dict = {"forms": {}, "responses": {}, "actions": []}
    for file in sorted((bot / "domain").glob("*.yml")):
        part = yaml.safe_load(file.read_text()) or {}
        merged["forms"].update(part.get("forms") or {})
        merged["responses"].update(part.get("responses") or {})
        merged["actions"] += part.get("actions") or []
    return merged


def form_questions(domain: dict) -> set[str]:
    """The response each form asks each of its slots with, looked up as Rasa's FormAction does.

    ``rasa/core/actions/forms.py`` (``_name_of_utterance``) takes the first of
    ``action_ask_<form>_<slot>``, ``utter_ask_<form>_<slot>``, ``action_ask_<slot>``,
    ``utter_ask_<slot>`` that the domain has.
    """
    questions = set()
    for form, spec in domain["forms"].items():
        for slot in spec.get("required_slots") or []:
            candidates = [
                f"action_ask_{form}_{slot}",
                f"utter_ask_{form}_{slot}",
                f"action_ask_{slot}",
                f"utter_ask_{slot}",
            ]
            found = [c for c in candidates if c in domain["responses"] or c in domain["actions"]]
            assert found, f"form {form} has no question for its slot {slot} (none of {candidates})"
            if found[0].startswith("utter_"):
                questions.add(found[0])
    return questions


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, set[str]]]:
    """A copy of rasa_bot/ with the demo corpus converted in, and the files it held before any command ran."""
    bot_dir = copy_bot_sources(tmp_path_factory.mktemp("cli") / "rasa_bot")
    convert(paths.DEMO_CORPUS, bot_dir, quiet=True)
    before = {p.relative_to(bot_dir).as_posix() for p in bot_dir.rglob("*")}
    yield bot_dir, before


@pytest.fixture(scope="module")
def trained(bot: tuple[Path, set[str]]) -> tuple[Path, Path, str]:
    """``rasa train``, exactly as typed (the domain found through domain.yml, the custom classifier from cwd)."""
    bot_dir, _ = bot
    out = typed(bot_dir, "rasa train")
    models = sorted((bot_dir / "models").glob("*.tar.gz"))
    assert len(models) == 1, out[-3000:]
    return bot_dir, models[0], out


def test_domain_yml_is_a_link_to_the_domain_folder():
    """Rasa's default domain path exists in the repository itself and points at the folder."""
    link = paths.BOT_DIR / "domain.yml"
    assert link.is_symlink() and os.readlink(link) == "domain", "rasa_bot/domain.yml must be the link `domain`"
    assert link.resolve() == (paths.BOT_DIR / "domain").resolve()


def test_train_as_typed(trained):
    bot_dir, model, out = trained
    assert "The path 'domain.yml' does not exist" not in out
    # the project's classifier was trained (config.yml names rasa_bot.components.…, from the installed package)
    assert "Finished training component 'LinearSvmIntentClassifier'" in out
    assert model.parent == bot_dir / "models"


def test_data_validate_as_typed_has_no_warning_but_the_form_questions(bot):
    """``rasa data validate --fail-on-warnings`` passes; the only warnings are Rasa 3.6's about form questions.

    Rasa's validator counts every domain response as an utterance action and
    calls it used only if a story or rule step runs it. A form asks its
    questions itself, while it runs, so no story or rule can list them
    (docs/rasa_bot.md, "Rasa's own CLI"). Any other warning fails this test.
    """
    bot_dir, _ = bot
    out = typed(bot_dir, "rasa data validate --fail-on-warnings")
    questions = form_questions(domain_of(bot_dir))
    assert questions, "the project's forms ask with responses from the domain"
    warnings = re.findall(r"UserWarning: (.+)", out)
    unexpected = [
        w for w in warnings if not (m := re.fullmatch(r"The utterance '(\w+)' is not used in any story or rule\.", w))
        or m.group(1) not in questions
    ]  # fmt: skip
    assert not unexpected, "\n".join(unexpected)
    assert not re.search(r"\bWARNING\s+rasa\.", out), out[-3000:]
    assert "No story structure conflicts found." in out


def test_rasa_test_as_typed(trained):
    """``rasa test``: the test stories in tests/ end to end (NLU included) and NLU on the training data."""
    bot_dir, _, _ = trained
    out = typed(bot_dir, "rasa test")
    results = bot_dir / "results"
    stories = json.loads((results / "story_report.json").read_text())
    intents = json.loads((results / "intent_report.json").read_text())
    evaluated = int(re.search(r"Evaluating (\d+) stories", out).group(1))
    assert evaluated == len(yaml.safe_load((bot_dir / "tests" / "test_stories.yml").read_text())["stories"])
    assert intents["accuracy"] >= 0.95, intents["accuracy"]
    # Every story passes end to end: each message's intent and entities, each action.
    failed = (results / "failed_test_stories.yml").read_text()
    wrong_turns = [line for line in failed.splitlines() if re.match(r"\s*- (intent|action):.*# predicted:", line)]
    assert not wrong_turns, failed
    assert stories["accuracy"] == 1.0, failed


def test_shell_as_typed_talks_with_the_project_actions(trained, tmp_path):
    """``rasa shell`` after ``. ./cli.env``: the bot greets, and a custom action answers from the orders database."""
    bot_dir, _, _ = trained
    greeting = domain_of(bot_dir)["responses"]["utter_greet"][0]["text"]
    with action_server(bot_dir, tmp_path) as actions_url:
        child = spawn(
            bot_dir,
            WITH_CLI_ENV + f"rasa shell --port {free_port()}",
            tmp_path / "shell.log",
            ACTION_SERVER_URL=actions_url,
        )
        try:
            child.expect("Your input ->")
            child.sendline("hello")
            child.expect_exact(greeting)
            child.expect("Your input ->")
            child.sendline("where is my order 12345")
            child.expect(r"12345.*shipped")
            child.expect("Your input ->")
            child.sendline("/stop")
            child.expect(pexpect.EOF)
        finally:
            stop(child)
    log = ANSI.sub("", (tmp_path / "shell.log").read_text())
    assert "Error" not in log.split("Bot loaded.")[-1], log[-3000:]
    # the conversation went to the project's SQLite tracker store, as endpoints.yml and cli.env say
    assert (bot_dir / "tracker.sqlite3").is_file()


def test_interactive_shows_the_predicted_intent_and_action(trained, tmp_path):
    """``rasa interactive`` (with ``--model``, so it does not train again) asks about its predictions."""
    bot_dir, model, _ = trained
    command = f"rasa interactive --model {model.relative_to(bot_dir)} --port {free_port()} --skip-visualization"
    child = spawn(bot_dir, WITH_CLI_ENV + command, tmp_path / "interactive.log")
    try:
        child.expect("Your input ->")
        child.sendline("hello")
        child.expect(r"classified 'hello' with intent 'greet'")
        child.expect_exact("(Y/n)")
        child.sendline("y")
        child.expect(r"The bot wants to run 'utter_greet', correct\?")
    finally:
        stop(child)


def test_run_as_typed_serves_the_project_channels(trained, tmp_path):
    """``rasa run`` loads the project's socket.io and REST channels from credentials.yml (classes found from cwd)."""
    bot_dir, _, _ = trained
    port = free_port()
    log = tmp_path / "rasa.log"
    secret = secrets.token_urlsafe(32)
    with background(bot_dir, WITH_CLI_ENV + f"rasa run --port {port}", log, RASA_JWT_SECRET=secret) as proc:
        wait_for(f"http://127.0.0.1:{port}/", proc, log)
        handshake = requests.get(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling", timeout=10)
        assert handshake.status_code == 200 and handshake.text.startswith("0{"), handshake.text[:200]
        # the project's REST channel: no token, no answer
        refused = requests.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", json={"message": "hi"}, timeout=10)
        assert refused.status_code in (401, 403), refused.status_code


def test_run_refuses_to_start_with_cli_env_s_empty_jwt_secret(trained, tmp_path):
    """cli.env holds no secret: the web channels refuse to start until a real one is set."""
    bot_dir, _, _ = trained
    done = subprocess.run(
        ["bash", "-c", WITH_CLI_ENV + f"rasa run --port {free_port()}"],
        cwd=bot_dir,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "jwt_key must be set and at least 32 characters" in done.stdout


def test_cli_env_matches_the_action_server_default_port():
    from rasa_sdk.constants import DEFAULT_SERVER_PORT

    done = subprocess.run(
        ["bash", "-c", WITH_CLI_ENV + 'printf %s "$ACTION_SERVER_URL"'],
        cwd=paths.BOT_DIR,
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert done.stdout == f"http://127.0.0.1:{DEFAULT_SERVER_PORT}/webhook"


def test_what_the_commands_wrote_is_git_ignored(bot):
    """Run in rasa_bot/ itself, the commands above leave nothing for git to show (models, results, SQLite...)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    bot_dir, before = bot
    written = sorted(
        p.relative_to(bot_dir).as_posix()
        for p in bot_dir.rglob("*")
        if p.is_file() and p.relative_to(bot_dir).as_posix() not in before
    )
    assert written, "the commands above wrote nothing?"
    candidates = [f"rasa_bot/{p}" for p in written]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=paths.REPO,
        input="\n".join(candidates),
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    assert set(candidates) - set(done.stdout.splitlines()) == set()
