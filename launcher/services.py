"""Start, watch and stop the action server, the Rasa server(s), the scripted-bot server and Django.

Each service runs in its own process group with its output in a log file;
:meth:`Service.wait_ready` polls a health URL (never a fixed sleep). ``make run``
starts one Rasa bot (``demo``); ``make run-bots`` more Rasa bots (one server and
port each, their own tracker and lock stores) and the scripted-bot server. Before
Django starts, the bots are registered from a YAML file (``manage.py load_bots``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from chat_contract import DEFAULT_BOT_ID

from . import paths
from .build import rasa_env


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """Whether something already listens on ``127.0.0.1:port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM this child if the launcher dies, even by SIGKILL (no orphaned servers)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServiceError(RuntimeError):
    """A service did not start or died."""


@dataclass
class Service:
    """One server process."""

    name: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str]
    health_url: str
    log_path: Path
    #: Also ready only once the log (from this start on) has this line ``ready_count`` times:
    #: with several workers the health URL answers as soon as the first one serves.
    ready_line: str | None = None
    ready_count: int = 1
    #: Commands run to completion (same folder and environment) before each start, e.g. registering bots.
    prepare: list[list[str]] = field(default_factory=list)
    proc: subprocess.Popen | None = field(default=None, repr=False)
    _log_start: int = field(default=0, repr=False)

    def start(self) -> None:
        """Run :attr:`prepare`, then start the process, its output going to :attr:`log_path`.

        Raises:
            ServiceError: A preparing command failed (its output is in the message).
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for cmd in self.prepare:
            done = subprocess.run(
                cmd, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            with self.log_path.open("a", encoding="utf-8") as log:
                log.write(done.stdout)
            if done.returncode != 0:
                raise ServiceError(
                    f"{self.name}: {' '.join(cmd[1:])} failed (exit {done.returncode}):\n{done.stdout[-3000:]}"
                )
        log = self.log_path.open("ab")
        self._log_start = log.tell()
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        log.close()

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the service's log, for error messages."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def _started_fully(self) -> bool:
        if self.ready_line is None:
            return True
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().count(self.ready_line.encode()) >= self.ready_count

    def healthy(self) -> bool:
        """Whether the health URL answers 200 now."""
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Block until the health URL answers, the process dies, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            if self.healthy() and self._started_fully():
                return
            time.sleep(0.25)
        raise ServiceError(f"{self.name} was not ready after {timeout:.0f} s; log {self.log_path}:\n{self.log_tail()}")

    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group (nothing if it is gone)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout``."""
        stop_all([self], timeout)


def stop_all(services: list[Service], timeout: float = 15.0) -> None:
    """Stop ``services`` together: SIGTERM to each in the given order, one shared ``timeout``, then SIGKILL.

    Stopping them one after the other would add their waits up (five services slow to stop: over a minute).
    """
    running = [service for service in services if service.running()]
    for service in running:
        service.signal(signal.SIGTERM)
    for sig_next, wait in ((signal.SIGKILL, timeout), (None, 5.0)):
        deadline = time.monotonic() + wait
        for service in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.proc.wait(max(0.0, deadline - time.monotonic()))
        running = [service for service in running if service.running()]
        if not running or sig_next is None:
            return
        for service in running:
            service.signal(sig_next)


@dataclass
class RasaBot:
    """A further Rasa bot: its id in the registry, its label, its model and its port."""

    bot_id: str
    label: str
    model: Path
    port: int


@dataclass
class ScriptedServer:
    """The scripted-bot server (scripted_bots/server.py): its port and {bot id: (label, dotted class path)}."""

    port: int
    bots: dict[str, tuple[str, str]]


@dataclass
class StackConfig:
    """Everything needed to start the services."""

    bot_dir: Path
    model: Path
    log_dir: Path
    env: dict[str, str]
    rasa_port: int
    actions_port: int
    django_port: int
    host: str = "127.0.0.1"
    #: The first Rasa bot's id in the registry (its channels' audience).
    bot_id: str = DEFAULT_BOT_ID
    #: Further Rasa bots (``make run-bots``), each with its own server, port, tracker and lock stores.
    more_rasa: list[RasaBot] = field(default_factory=list)
    scripted: ScriptedServer | None = None
    #: The bots YAML Django loads before it starts (default: django_app/bots.yml, the demo bot alone).
    bots_file: Path | None = None

    @property
    def site_url(self) -> str:
        return f"http://{self.host}:{self.django_port}/"

    def bot_urls(self) -> dict[str, str]:
        """The full-page chat of each bot, by bot id."""
        ids = [self.bot_id, *(b.bot_id for b in self.more_rasa), *(self.scripted.bots if self.scripted else ())]
        return {bot_id: f"{self.site_url}bots/{bot_id}/" for bot_id in ids}


RASA_READY_LINE = "Rasa server is up and running."


def rasa_workers(env: dict[str, str]) -> int:
    """How many processes serve Rasa (``RASA_WORKERS``, default 1): Sanic workers sharing one port.

    Each loads the model and answers the sockets it accepted; the SQLite lock store
    (endpoints.yml) makes them take turns on a conversation and the tracker store is
    shared, so any of them can answer any conversation (docs/deploy.md, "Several processes on one host").
    """
    raw = env.get("RASA_WORKERS", "").strip() or "1"
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if not 1 <= workers <= 64:
        raise ServiceError(f"RASA_WORKERS must be a whole number from 1 to 64, not {raw!r}")
    return workers


def load_bots_command(bots_file: Path | None = None) -> list[str]:
    """``manage.py load_bots FILE --prune`` (run in django_app/): the registry becomes what the file says.

    Default: django_app/bots.yml, the demo bot alone, its socket URL from ``RASA_SOCKET_URL``.
    Bots the file does not name stay registered but disabled.
    """
    path = bots_file or paths.DJANGO_DIR / "bots.yml"
    return [paths.tool("python"), "manage.py", "load_bots", str(path), "--prune"]


def django_settings_module(env: dict[str, str]) -> str:
    """``DJANGO_SETTINGS_MODULE``, or the one ``DJANGO_DEBUG`` implies (a ``.env`` written before the split)."""
    if env.get("DJANGO_SETTINGS_MODULE"):
        return env["DJANGO_SETTINGS_MODULE"]
    debug = env.get("DJANGO_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    return "config.settings.local" if debug else "config.settings.production"


def _rasa_service(
    cfg: StackConfig, env: dict[str, str], *, name: str, bot_id: str, model: Path, port: int, log: str
) -> Service:
    extra: list[str] = []
    for origin in env["SITE_ORIGINS"].split(","):
        extra += ["--cors", origin.strip()]
    if env.get("RASA_API_TOKEN"):  # Rasa's HTTP API only ever with a token
        # one argument: a token may start with "-", which argparse would take for an option
        extra += ["--enable-api", f"--auth-token={env['RASA_API_TOKEN']}"]
    workers = rasa_workers(env)
    return Service(
        name,
        [
            paths.tool("rasa"),
            "run",
            "--model",
            str(model),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
            "--interface",
            cfg.host,
            "--port",
            str(port),
            *extra,
        ],
        cfg.bot_dir,
        {**env, "SANIC_WORKERS": str(workers), "RASA_BOT_ID": bot_id},
        f"http://{cfg.host}:{port}/webhooks/rest/",
        cfg.log_dir / log,
        ready_line=RASA_READY_LINE,  # each worker logs it once its model is loaded
        ready_count=workers,
    )


def make_services(cfg: StackConfig) -> list[Service]:
    """The action server, the Rasa server(s), the scripted-bot server if any, and Django, in start order."""
    actions_url = f"http://{cfg.host}:{cfg.actions_port}"
    site_origins = [f"http://localhost:{cfg.django_port}", f"http://127.0.0.1:{cfg.django_port}"]
    env = rasa_env(cfg.env)
    # Runtime state (conversations, orders, Django's sessions) lives beside the logs unless configured.
    state = cfg.log_dir.parent
    env.setdefault("RASA_TRACKER_DB", str(state / "tracker.sqlite3"))
    env.setdefault("RASA_LOCK_DB", str(state / "locks.sqlite3"))
    env.setdefault("ACTIONS_DATABASE_URL", f"sqlite:///{state / 'orders.sqlite3'}")
    env.setdefault("DJANGO_DB_PATH", str(state / "django.sqlite3"))
    env["ACTION_SERVER_URL"] = f"{actions_url}/webhook"
    env.setdefault("RASA_SOCKET_URL", f"http://{cfg.host}:{cfg.rasa_port}")
    env.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
    env.setdefault("SITE_ORIGINS", ",".join(site_origins))
    if env.get("RASA_API_TOKEN"):
        env.setdefault("RASA_API_URL", f"http://{cfg.host}:{cfg.rasa_port}")
    env["DJANGO_SETTINGS_MODULE"] = django_settings_module(env)
    actions = Service(
        "action server",
        [paths.tool("rasa"), "run", "actions", "--actions", "rasa_bot.actions", "--port", str(cfg.actions_port)],
        cfg.bot_dir,
        {**env, "SANIC_HOST": cfg.host},  # rasa-sdk binds 0.0.0.0 unless told otherwise
        f"{actions_url}/health",
        cfg.log_dir / "actions.log",
    )
    services = [
        actions,
        _rasa_service(
            cfg, env, name="Rasa server", bot_id=cfg.bot_id, model=cfg.model, port=cfg.rasa_port, log="rasa.log"
        ),
    ]
    for bot in cfg.more_rasa:  # each bot its own conversations: a tracker store and lock store of its own
        bot_env = {
            **env,
            "RASA_TRACKER_DB": str(state / f"tracker-{bot.bot_id}.sqlite3"),
            "RASA_LOCK_DB": str(state / f"locks-{bot.bot_id}.sqlite3"),
        }
        services.append(
            _rasa_service(
                cfg,
                bot_env,
                name=f"Rasa server ({bot.bot_id})",
                bot_id=bot.bot_id,
                model=bot.model,
                port=bot.port,
                log=f"rasa-{bot.bot_id}.log",
            )
        )
    if cfg.scripted is not None:
        bots = [f"--bot={bot_id}={path}" for bot_id, (_, path) in cfg.scripted.bots.items()]
        services.append(
            Service(
                "scripted bots",
                [
                    paths.tool("python"),
                    "-m",
                    "scripted_bots",
                    "--host",
                    cfg.host,
                    "--port",
                    str(cfg.scripted.port),
                    *bots,
                ],
                paths.REPO,
                env,
                f"http://{cfg.host}:{cfg.scripted.port}/",
                cfg.log_dir / "scripted-bots.log",
            )
        )
    services.append(
        Service(
            "Django",
            [paths.tool("python"), "manage.py", "runserver", f"{cfg.host}:{cfg.django_port}", "--noreload"],
            paths.DJANGO_DIR,
            env,
            f"http://{cfg.host}:{cfg.django_port}/healthz",
            cfg.log_dir / "django.log",
            # the registry matches what runs: these bots, and any other registered bot disabled
            prepare=[load_bots_command(cfg.bots_file)],
        )
    )
    return services


class Stack:
    """The services, started together and stopped together (a context manager)."""

    def __init__(self, cfg: StackConfig) -> None:
        self.cfg = cfg
        self.services = make_services(cfg)

    def __getitem__(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def start(self, timeout: float = 240.0) -> None:
        """Start all services and wait until each answers; on failure stop them all."""
        try:
            for service in self.services:
                service.start()
            for service in self.services:
                service.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop all services at once (the last started is signalled first)."""
        stop_all(list(reversed(self.services)))

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def migrate_django(env: dict[str, str], state_dir: Path | None = None) -> None:
    """Create or update Django's database (sessions, the bot registry, conversations)."""
    env = dict(env)
    env["DJANGO_SETTINGS_MODULE"] = django_settings_module(env)
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        env.setdefault("DJANGO_DB_PATH", str(state_dir / "django.sqlite3"))
    done = subprocess.run(
        [paths.tool("python"), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=paths.DJANGO_DIR,
        env=rasa_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode != 0:
        raise ServiceError(f"Django's migrate failed:\n{done.stdout[-3000:]}")
