"""What the review inbox's real-stack tests share: manage.py against the running site's database, a staff user."""

from __future__ import annotations

import subprocess

import requests

from launcher import paths

STAFF = ("reviewer", "review-test-password")


def django_env(running_stack) -> dict[str, str]:
    """The environment the stack's Django runs with (its database, secrets and settings)."""
    return dict(next(s for s in running_stack.stack.services if s.name == "Django").env)


def manage(running_stack, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` on the running site's database."""
    done = subprocess.run(
        [paths.tool("python"), "manage.py", *args],
        cwd=paths.DJANGO_DIR,
        env={**django_env(running_stack), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def staff_user(running_stack) -> tuple[str, str]:
    """A superuser of the running site (made once), as (username, password)."""
    username, password = STAFF
    done = manage(
        running_stack,
        "createsuperuser",
        "--noinput",
        check=False,
        DJANGO_SUPERUSER_USERNAME=username,
        DJANGO_SUPERUSER_PASSWORD=password,
        DJANGO_SUPERUSER_EMAIL="reviewer@example.org",
    )
    assert done.returncode == 0 or "already taken" in done.stderr, done.stderr
    return username, password


def tracker(running_stack, sender: str) -> dict:
    """The conversation's tracker from Rasa's HTTP API."""
    url = f"{running_stack.rasa_url}/conversations/{sender}/tracker"
    response = requests.get(url, params={"token": running_stack.api_token}, timeout=10)
    response.raise_for_status()
    return response.json()


def story_report(running_stack, bot_dir, model, out_dir, *conversations: str) -> tuple[dict, str]:
    """``review_story`` for these conversations, then ``rasa test core`` of the stories with ``model``.

    Returns the story report (``accuracy`` …) and the failed stories' text.
    """
    import json

    from launcher.build import rasa_env

    stories = bot_dir / "tests" / "review_stories.yml"
    chosen = [arg for sender in conversations for arg in ("--conversation", sender)]
    out = manage(running_stack, "review_story", "--bot-dir", str(bot_dir), "--out", str(stories), *chosen).stdout
    assert f"wrote {len(conversations)} stories" in out, out
    done = subprocess.run(
        [paths.tool("rasa"), "test", "core", "--model", str(model), "--stories", str(stories), "--out", str(out_dir)],
        cwd=bot_dir,
        env=rasa_env({"MPLBACKEND": "Agg"}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    failed = out_dir / "failed_test_stories.yml"
    return json.loads((out_dir / "story_report.json").read_text()), failed.read_text() if failed.exists() else ""
