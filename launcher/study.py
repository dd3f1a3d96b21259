"""``make run-study``: the several-bots stack with a demo study loaded, its participant link and the admin link.

Development only: the keys a study needs (``STUDIES_ID_KEY``, and ``RASA_API_TOKEN`` so the site can read Rasa's
trackers) are derived from the ``.env`` file's ``DJANGO_SECRET_KEY`` when they are not set, so they stay the same
from one run to the next; a staff account ``admin`` is created on the first run with a password printed once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import subprocess
from pathlib import Path

import yaml

from . import paths
from .build import rasa_env
from .services import ServiceError, django_settings_module

#: The study ``make run-study`` loads unless told another (``STUDY=path``).
DEMO_STUDY = paths.DJANGO_DIR / "studies" / "examples" / "demo_study.yml"
ADMIN_USER = "admin"


def study_env(env: dict[str, str]) -> None:
    """Fill in, in place, the development keys a study needs, derived from ``DJANGO_SECRET_KEY`` (stable)."""
    base = env.get("DJANGO_SECRET_KEY", "")
    for name in ("STUDIES_ID_KEY", "RASA_API_TOKEN"):
        if not env.get(name) and base:
            env[name] = hmac.new(base.encode(), f"dev:{name}".encode(), hashlib.sha256).hexdigest()


def _manage(env: dict[str, str], state_dir: Path, *args: str, extra: dict[str, str] | None = None):
    run_env = dict(env)
    run_env["DJANGO_SETTINGS_MODULE"] = django_settings_module(run_env)
    run_env.setdefault("DJANGO_DB_PATH", str(state_dir / "django.sqlite3"))
    run_env.update(extra or {})
    return subprocess.run(
        [paths.tool("python"), "manage.py", *args],
        cwd=paths.DJANGO_DIR,
        env=rasa_env(run_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def study_slug(path: Path) -> str:
    """The slug of a study file (``load_study`` checks the rest)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ServiceError(f"cannot read the study file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("slug"), str):
        raise ServiceError(f"{path}: no slug")
    return data["slug"]


def load_study(env: dict[str, str], state_dir: Path, path: Path) -> str:
    """Load (or update) the study into the running site's database; its slug.

    Raises:
        ServiceError: The file has mistakes (listed with their lines) or the command failed.
    """
    done = _manage(env, state_dir, "load_study", str(path.resolve()))
    if done.returncode != 0:
        raise ServiceError(f"loading the study failed:\n{done.stdout[-3000:]}")
    return study_slug(path)


def ensure_admin(env: dict[str, str], state_dir: Path) -> str | None:
    """Create the staff account ``admin`` if there is none; its new password, or None when it existed."""
    password = secrets.token_urlsafe(12)
    done = _manage(
        env,
        state_dir,
        "createsuperuser",
        "--noinput",
        "--username",
        ADMIN_USER,
        "--email",
        "admin@localhost",
        extra={"DJANGO_SUPERUSER_PASSWORD": password},
    )
    if done.returncode == 0:
        return password
    if "already taken" in done.stdout or "already exists" in done.stdout:
        return None
    raise ServiceError(f"creating the admin account failed:\n{done.stdout[-2000:]}")


def study_links(site_url: str, slug: str, password: str | None) -> str:
    """What ``make run-study`` prints once the stack is up."""
    login = (
        f"log in as {ADMIN_USER} / {password} (shown once; change it in the admin)"
        if password
        else f"log in as {ADMIN_USER} (the password printed on the first run)"
    )
    return (
        f"  take part:  {site_url}study/{slug}/\n"
        f"  as a Prolific worker: {site_url}study/{slug}/?PROLIFIC_PID=test-worker-1&STUDY_ID=demo&SESSION_ID=1\n"
        f"  admin:      {site_url}admin/studies/study/  ({login})\n"
        "  exports:    on the study's admin page (CSV and JSON Lines, docs/studies.md)\n"
    )
