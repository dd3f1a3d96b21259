"""``python -m launcher run [--corpus CSV]``: convert, train if needed, serve, print the URL."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from process_data import ConversionError

from . import paths
from .build import convert, train
from .envfile import ensure_env_file, load_env
from .services import ServiceError, Stack, StackConfig, migrate_django, port_in_use, rasa_workers


def _ports(env: dict[str, str]) -> dict[str, int]:
    ports = {}
    for key, default in (("RASA_PORT", 5005), ("ACTIONS_PORT", 5055), ("DJANGO_PORT", 8000)):
        try:
            ports[key] = int(env.get(key, default))
        except ValueError:
            raise SystemExit(f"error: {key}={env[key]!r} is not a port number") from None
        if port_in_use(ports[key]):
            raise SystemExit(
                f"error: port {ports[key]} ({key}) is already in use. Stop what uses it "
                f"or choose another port: make run {key}=NNNN"
            )
    return ports


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_build(args: argparse.Namespace) -> Path:
    bot_dir = Path(args.bot_dir)
    convert(Path(args.corpus), bot_dir)
    return train(bot_dir)


def cmd_run(args: argparse.Namespace) -> int:
    env_file, state_dir = Path(args.env_file), Path(args.state_dir)
    if ensure_env_file(env_file):
        print(f"wrote development secrets to {env_file} (not committed)")
    env = load_env(env_file)
    ports = _ports(env)
    rasa_workers(env)  # a bad RASA_WORKERS fails now, not after converting and training
    model = cmd_build(args)
    migrate_django(env, state_dir)
    log_dir = state_dir / "logs"
    cfg = StackConfig(
        bot_dir=Path(args.bot_dir),
        model=model,
        log_dir=log_dir,
        env=env,
        rasa_port=ports["RASA_PORT"],
        actions_port=ports["ACTIONS_PORT"],
        django_port=ports["DJANGO_PORT"],
    )
    stack = Stack(cfg)
    # `kill` (SIGTERM) stops the services as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"starting the action server, Rasa and Django (logs in {log_dir})…", flush=True)
    started = time.monotonic()
    try:
        stack.start()
        print(
            f"\nready in {time.monotonic() - started:.0f} s. Open {cfg.site_url}\nPress Ctrl-C to stop.\n", flush=True
        )
        while True:
            for service in stack.services:
                if service.proc is not None and service.proc.poll() is not None:
                    raise ServiceError(
                        f"{service.name} stopped (exit {service.proc.returncode}); log:\n{service.log_tail()}"
                    )
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description="Build and run the demo stack.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("build", "convert the corpus and train if needed"), ("run", "build, then serve")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--corpus", default=str(paths.DEMO_CORPUS), help="CSV corpus (default: the demo corpus)")
        p.add_argument(
            "--bot-dir", default=str(paths.BOT_DIR), help="Rasa project to convert into (default: rasa_bot/)"
        )
        if name == "run":
            p.add_argument(
                "--env-file", default=str(paths.ENV_FILE), help="settings file, made if missing (default: .env)"
            )
            p.add_argument("--state-dir", default=str(paths.RUN_DIR), help="logs and SQLite databases (default: .run/)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            cmd_build(args)
            return 0
        return cmd_run(args)
    except (ConversionError, RuntimeError, ServiceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
