"""The scale-out topology on one machine, from Debian's packages, for tests and benchmarks.

Starts a real PostgreSQL (Rasa's tracker store), Redis (Rasa's lock store), the
action server, several Rasa instances using ``rasa_bot/endpoints-scale.yml``
and nginx rendering ``deploy/nginx/site.conf.template`` (TLS with a
self-signed certificate) in front of them. Everything listens on 127.0.0.1 on
free ports, keeps its files in one temporary folder and is stopped at the end.
Django runs with production settings under the ``/chat`` prefix behind nginx.

    with ScaleStack(bot_dir, model, root, instances=2) as stack:
        stack.rasa_urls, stack.proxy_url, stack.tracker(sender_id, instance)

PostgreSQL refuses to run as root: as root the database runs as the
``postgres`` user (Debian's package creates it).
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from launcher import paths
from launcher.build import rasa_env
from launcher.services import Service, ServiceError, free_port, load_bots_command, migrate_django

DEPLOY_DIR = Path(__file__).resolve().parent
NGINX_TEMPLATE = DEPLOY_DIR / "nginx" / "site.conf.template"
SCALE_ENDPOINTS = paths.BOT_DIR / "endpoints-scale.yml"
HOST = "127.0.0.1"


def postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL server binaries, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


def nginx_bin() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def redis_bin() -> str | None:
    return shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server",) if os.access(p, os.X_OK)), None)


def missing_binaries() -> list[str]:
    """Which of the Debian packages the scale-out topology needs are not installed."""
    missing = []
    if postgres_bin() is None:
        missing.append("postgresql")
    if redis_bin() is None:
        missing.append("redis-server")
    if nginx_bin() is None:
        missing.append("nginx-light")
    if shutil.which("openssl") is None:
        missing.append("openssl")
    return missing


def render_template(text: str, values: dict[str, str]) -> str:
    """Replace ``${NAME}`` as the nginx image's envsubst does; every name must have a value."""
    names = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))
    if names - values.keys():
        raise KeyError(f"no value for {sorted(names - values.keys())}")
    return re.sub(r"\$\{([A-Z0-9_]+)\}", lambda m: values[m.group(1)], text)


def _wait(check: Callable[[], bool], what: str, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise ServiceError(f"{what} was not ready after {timeout:.0f} s\n{tail}")


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if done.returncode != 0:
        raise ServiceError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return done


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster on loopback (password authentication)."""

    root: Path
    port: int = field(default_factory=free_port)
    user: str = "rasa"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    database: str = "rasa"

    def _as_owner(self) -> list[str]:
        # initdb and postgres refuse to run as root.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def start(self) -> None:
        bindir = postgres_bin()
        if bindir is None:
            raise ServiceError("PostgreSQL is not installed (apt-get install postgresql)")
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(pwfile, "postgres")
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        _run(
            [*self._as_owner(), str(bindir / "initdb"), "-D", str(self.data), "-U", self.user]
            + ["--pwfile", str(pwfile), "--auth", "scram-sha-256", "-E", "UTF8", "--no-sync"]
        )
        opts = f"-c listen_addresses={HOST} -p {self.port} -k {self.root} -c fsync=off"
        self._pg_ctl = str(bindir / "pg_ctl")
        _run(
            [*self._as_owner(), self._pg_ctl, "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log)]
            + ["-o", opts]
        )
        self.execute(f"CREATE DATABASE {self.database}")

    def execute(self, sql: str, database: str = "postgres", params: tuple = ()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(host=HOST, port=self.port, user=self.user, password=self.password, dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def stop(self) -> None:
        if getattr(self, "_pg_ctl", None):
            subprocess.run(
                [*self._as_owner(), self._pg_ctl, "stop", "-m", "fast", "-w", "-D", str(self.data)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )


@dataclass
class Redis:
    """A throw-away Redis on loopback, nothing persisted."""

    root: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    proc: subprocess.Popen | None = None

    def client(self, db: int = 1):
        import redis

        return redis.Redis(host=HOST, port=self.port, password=self.password, db=db)

    def start(self) -> None:
        binary = redis_bin()
        if binary is None:
            raise ServiceError("Redis is not installed (apt-get install redis-server)")
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "redis.conf"
        conf.write_text(
            f"bind {HOST}\nport {self.port}\nprotected-mode yes\nrequirepass {self.password}\n"
            f'dir {self.root}\nsave ""\nappendonly no\ndaemonize no\nlogfile {self.root / "redis.log"}\n'
        )
        self.proc = subprocess.Popen([binary, str(conf)], stdin=subprocess.DEVNULL, start_new_session=True)

        def ready() -> bool:
            try:
                return bool(self.client().ping())
            except Exception:  # noqa: BLE001 - not up yet
                return False

        _wait(ready, "Redis", 30, self.root / "redis.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class Nginx:
    """nginx with deploy/nginx/site.conf.template, TLS on a self-signed certificate."""

    root: Path
    rasa_addrs: list[str]
    django_addr: str
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def render(self) -> str:
        """The nginx.conf: a minimal main context that includes the rendered site template."""
        self.root.mkdir(parents=True, exist_ok=True)
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        if not cert.exists():
            _run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}"]
                + ["-keyout", str(key), "-out", str(cert)]
            )
        site = render_template(
            NGINX_TEMPLATE.read_text(),
            {
                "SERVER_NAME": HOST,
                "HTTP_LISTEN": f"{HOST}:{self.http_port}",
                "HTTPS_LISTEN": f"{HOST}:{self.https_port}",
                "TLS_CERT": str(cert),
                "TLS_KEY": str(key),
                "RASA_SERVERS": " ".join(f"server {a};" for a in self.rasa_addrs),
                "DJANGO_SERVER": self.django_addr,
            },
        )
        (self.root / "site.conf").write_text(site)
        temp = self.root / "temp"
        temp.mkdir(exist_ok=True)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes 1;\npid {self.root / 'nginx.pid'};\nerror_log {self.root / 'error.log'} info;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"  access_log {self.root / 'access.log'};\n"
            + "".join(
                f"  {name}_temp_path {temp / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {self.root / 'site.conf'};\n}}\n"
        )

    def start(self) -> None:
        binary = nginx_bin()
        if binary is None:
            raise ServiceError("nginx is not installed (apt-get install nginx-light)")
        conf = self.root / "nginx.conf"
        conf.write_text(self.render())
        os.chmod(self.root, 0o755)  # workers run as nobody
        cmd = [binary, "-p", str(self.root), "-e", str(self.root / "error.log"), "-c", str(conf)]
        _run([*cmd, "-t"])
        self.proc = subprocess.Popen([*cmd, "-g", "daemon off;"], stdin=subprocess.DEVNULL, start_new_session=True)

        def ready() -> bool:
            try:
                return requests.get(f"{self.url}/healthz", verify=False, timeout=2).status_code == 200
            except requests.RequestException:
                return False

        _wait(ready, "nginx", 30, self.root / "error.log")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)


class ScaleStack:
    """Postgres + Redis + the action server + ``instances`` Rasa servers + Django (under /chat) + nginx."""

    def __init__(
        self,
        bot_dir: Path,
        model: Path,
        root: Path,
        instances: int = 2,
        site_origin: str = "http://127.0.0.1:8000",
        credentials: Path | None = None,
    ) -> None:
        """``credentials``: another credentials file (default: the bot's credentials.yml)."""
        self.bot_dir, self.model, self.root = bot_dir, model, root
        self.credentials = str(credentials) if credentials else "credentials.yml"
        self.jwt_secret = secrets.token_urlsafe(32)
        self.api_token = secrets.token_urlsafe(24)
        self.site_origin = site_origin
        self.postgres = Postgres(Path(_tmp_dir("pg-")))
        self.redis = Redis(root / "redis")
        self.rasa_ports = [free_port() for _ in range(instances)]
        self.actions_port = free_port()
        self.django_port = free_port()
        self.nginx = Nginx(root / "nginx", [f"{HOST}:{p}" for p in self.rasa_ports], f"{HOST}:{self.django_port}")
        self.services: list[Service] = []

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://{HOST}:{p}" for p in self.rasa_ports]

    @property
    def proxy_url(self) -> str:
        return self.nginx.url

    def env(self) -> dict[str, str]:
        return rasa_env(
            {
                "RASA_JWT_SECRET": self.jwt_secret,
                "SITE_ORIGINS": f"{self.site_origin},{self.proxy_url}",
                "ACTION_SERVER_URL": f"http://{HOST}:{self.actions_port}/webhook",
                "ACTIONS_DATABASE_URL": f"sqlite:///{self.root / 'orders.sqlite3'}",
                "POSTGRES_HOST": HOST,
                "POSTGRES_PORT": str(self.postgres.port),
                "POSTGRES_USER": self.postgres.user,
                "POSTGRES_PASSWORD": self.postgres.password,
                "RASA_TRACKER_DB_NAME": self.postgres.database,
                "REDIS_HOST": HOST,
                "REDIS_PORT": str(self.redis.port),
                "REDIS_PASSWORD": self.redis.password,
            }
        )

    def _django(self, env: dict[str, str]) -> Service:
        """Django as in production: under /chat behind the TLS proxy, deploy settings on."""
        env = {
            **env,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "1",
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": self.proxy_url,
            "DJANGO_SCRIPT_NAME": "/chat",
            "DJANGO_PROXY_SSL_HEADER": "1",
            "DJANGO_SSL_REDIRECT": "1",
            "DJANGO_HSTS_SECONDS": "3600",
            "DJANGO_DB_PATH": str(self.root / "django.sqlite3"),
            "RASA_SOCKET_URL": self.proxy_url,
        }
        migrate_django(env)
        cmd = [paths.tool("python"), "manage.py", "runserver", f"{HOST}:{self.django_port}", "--noreload"]
        return Service(
            "django",
            cmd,
            paths.DJANGO_DIR,
            env,
            f"http://{HOST}:{self.django_port}/healthz",
            self.root / "django.log",
            prepare=[load_bots_command()],  # the demo bot, reached through the proxy (RASA_SOCKET_URL)
        )

    def _rasa(self, index: int, env: dict[str, str]) -> Service:
        port = self.rasa_ports[index]
        cmd = [paths.tool("rasa"), "run", "--model", str(self.model), "--endpoints", str(SCALE_ENDPOINTS)]
        cmd += ["--credentials", self.credentials, "--interface", HOST, "--port", str(port)]
        cmd += ["--cors", self.site_origin, "--enable-api", f"--auth-token={self.api_token}"]  # may start with "-"
        return Service(
            f"rasa-{index + 1}", cmd, self.bot_dir, env, f"http://{HOST}:{port}/", self.root / f"rasa-{index + 1}.log"
        )

    def start(self, timeout: float = 300) -> None:
        try:
            self.postgres.start()
            self.redis.start()
            env = self.env()
            actions = Service(
                "actions",
                [
                    paths.tool("rasa"),
                    "run",
                    "actions",
                    "--actions",
                    "rasa_bot.actions",
                    "--port",
                    str(self.actions_port),
                ],
                self.bot_dir,
                {**env, "SANIC_HOST": HOST},
                f"http://{HOST}:{self.actions_port}/health",
                self.root / "actions.log",
            )
            self.services.append(actions)
            actions.start()
            # The first instance creates the tracker tables; the others start once it is up
            # (two create_all at once can race in Postgres' catalog).
            rasas = [self._rasa(i, env) for i in range(len(self.rasa_ports))]
            self.services += rasas
            rasas[0].start()
            rasas[0].wait_ready(timeout)
            for rasa in rasas[1:]:
                rasa.start()
            for rasa in rasas[1:]:
                rasa.wait_ready(timeout)
            actions.wait_ready(timeout)
            django = self._django(env)
            self.services.append(django)
            django.start()
            django.wait_ready(timeout)
            self.nginx.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.nginx.stop()
        for service in reversed(self.services):
            service.stop()
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self.postgres.root, ignore_errors=True)

    def __enter__(self) -> ScaleStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def tracker(self, sender_id: str, instance: int) -> dict:
        """The conversation's tracker as Rasa instance ``instance`` reads it (Rasa's HTTP API)."""
        resp = requests.get(
            f"{self.rasa_urls[instance]}/conversations/{sender_id}/tracker",
            params={"token": self.api_token, "include_events": "ALL"},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()

    def stored_events(self, sender_id: str) -> list[str]:
        """The event types of a conversation as stored in Postgres, in order."""
        rows = self.postgres.execute(
            "SELECT type_name FROM events WHERE sender_id = %s ORDER BY id", self.postgres.database, (sender_id,)
        )
        return [r[0] for r in rows]


def _tmp_dir(prefix: str) -> str:
    """A temporary folder outside pytest's private ones (the postgres user must be able to reach it)."""
    import tempfile

    return tempfile.mkdtemp(prefix=prefix)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0
