"""``python -m launcher run|run-bots|run-study|build [--corpus CSV]``: convert, train if needed, serve, print the URLs.

``run`` (``make run``) serves the one demo bot; ``run-bots`` (``make run-bots``)
serves three bots side by side: the demo bot (``demo``, the default pipeline),
the same corpus trained with Rasa's stock logistic-regression pipeline
(``logreg``, rasa_bot/config-logreg.yml) and a scripted FAQ baseline (``faq``),
each on its own port, all registered in the site's bot registry. ``run-study``
(``make run-study``) serves the same bots with a demo study loaded (launcher/study.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

import yaml

from chat_contract import DEFAULT_BOT_ID, DEFAULT_PORTS, RUN_BOTS_PORTS
from process_data import ConversionError

from . import paths
from .build import convert, retrieval_index, train
from .envfile import ensure_env_file, load_env
from .services import (
    RasaBot,
    ScriptedServer,
    ServiceError,
    Stack,
    StackConfig,
    migrate_django,
    port_in_use,
    rasa_workers,
)
from .study import DEMO_STUDY, ensure_admin, load_study, study_env, study_links

#: ``make run-bots``: the second Rasa bot (same corpus, Rasa's stock logistic-regression pipeline) ...
LOGREG_BOT = ("logreg", "Customer service (logistic regression)", "config-logreg.yml")
#: ... and the scripted baseline.
SCRIPTED_BOT = ("faq", "FAQ baseline (scripted)", "scripted_bots.baselines.FaqBot")


def _ports(env: dict[str, str], defaults: dict[str, int] = DEFAULT_PORTS) -> dict[str, int]:
    ports = {}
    for key, default in defaults.items():
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
    model = train(bot_dir)
    retrieval_index(bot_dir)  # answers from past conversations, beside the model, when the bot has pairs
    return model


def write_bots_file(cfg: StackConfig, path: Path, labels: dict[str, str]) -> Path:
    """The registry of a ``run-bots`` stack: every bot it starts, at the address the browser reaches it."""
    host = cfg.host
    bots: dict[str, dict[str, str]] = {
        cfg.bot_id: {
            "label": labels[cfg.bot_id],
            "kind": "rasa",
            "socket_url": f"http://{host}:{cfg.rasa_port}",
            "api_url": "${RASA_API_URL:-}",
            "jwt_secret_env": "RASA_JWT_SECRET",
            "api_token_env": "RASA_API_TOKEN",
        }
    }
    for bot in cfg.more_rasa:
        bots[bot.bot_id] = {
            "label": bot.label,
            "kind": "rasa",
            "socket_url": f"http://{host}:{bot.port}",
            "jwt_secret_env": "RASA_JWT_SECRET",
        }
        if cfg.env.get("RASA_API_TOKEN"):
            bots[bot.bot_id].update(api_url=f"http://{host}:{bot.port}", api_token_env="RASA_API_TOKEN")
    if cfg.scripted is not None:
        for bot_id, (label, class_path) in cfg.scripted.bots.items():
            bots[bot_id] = {
                "label": label,
                "kind": "python",
                "python_class": class_path,
                "socket_url": f"http://{host}:{cfg.scripted.port}",
                "jwt_secret_env": "RASA_JWT_SECRET",
            }
    header = "# Written by `make run-bots` (python -m launcher run-bots) at each start; not committed.\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump({"bots": bots}, sort_keys=False), encoding="utf-8")
    return path


def cmd_run(args: argparse.Namespace, several: bool = False, study: Path | None = None) -> int:
    env_file, state_dir = Path(args.env_file), Path(args.state_dir)
    if ensure_env_file(env_file):
        print(f"wrote development secrets to {env_file} (not committed)")
    env = load_env(env_file)
    if study is not None:
        study_env(env)
    ports = _ports(env, {**DEFAULT_PORTS, **RUN_BOTS_PORTS} if several else DEFAULT_PORTS)
    rasa_workers(env)  # a bad RASA_WORKERS fails now, not after converting and training
    model = cmd_build(args)
    index = retrieval_index(Path(args.bot_dir), quiet=True)  # built (or found) by cmd_build just now
    if index is not None and not env.get("RETRIEVAL_INDEX", "").strip():
        env["RETRIEVAL_INDEX"] = str(index)
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
    if several:
        bot_id, label, config = LOGREG_BOT
        cfg.more_rasa = [RasaBot(bot_id, label, train(Path(args.bot_dir), config=config), ports["RASA_LOGREG_PORT"])]
        bot_id, label, class_path = SCRIPTED_BOT
        cfg.scripted = ScriptedServer(ports["SCRIPTED_BOTS_PORT"], {bot_id: (label, class_path)})
        labels = {DEFAULT_BOT_ID: "Customer service (linear SVM)"}
        cfg.bots_file = write_bots_file(cfg, state_dir / "bots.yml", labels)
    migrate_django(env, state_dir)
    stack = Stack(cfg)
    # `kill` (SIGTERM) stops the services as cleanly as Ctrl-C does; Ctrl-C (SIGINT) does so even when the
    # launcher was started by a parent that ignores SIGINT (a background job), which Python would inherit.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    names = ", ".join(s.name for s in stack.services)
    print(f"starting {names} (logs in {log_dir})…", flush=True)
    started = time.monotonic()
    try:
        stack.start()
        if study is not None:
            slug = load_study(env, state_dir, study)
            print(
                f"\nready in {time.monotonic() - started:.0f} s. The study {slug!r}:\n"
                f"{study_links(cfg.site_url, slug, ensure_admin(env, state_dir))}Press Ctrl-C to stop.\n",
                flush=True,
            )
        elif several:
            lines = "".join(f"  {bot_id:<8} Open {url}\n" for bot_id, url in cfg.bot_urls().items())
            print(
                f"\nready in {time.monotonic() - started:.0f} s. One chat per bot:\n{lines}"
                f"  all side by side: {cfg.site_url}bots/\nPress Ctrl-C to stop.\n",
                flush=True,
            )
        else:
            print(
                f"\nready in {time.monotonic() - started:.0f} s. Open {cfg.site_url}\nPress Ctrl-C to stop.\n",
                flush=True,
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
    for name, helptext in (
        ("build", "convert the corpus and train if needed"),
        ("run", "build, then serve the demo bot"),
        ("run-bots", "build, then serve two Rasa bots (default and logistic-regression pipelines) and a scripted bot"),
        ("run-study", "run-bots with a study loaded; prints the participant link and the admin link"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--corpus", default=str(paths.DEMO_CORPUS), help="CSV corpus (default: the demo corpus)")
        p.add_argument(
            "--bot-dir", default=str(paths.BOT_DIR), help="Rasa project to convert into (default: rasa_bot/)"
        )
        if name.startswith("run"):
            p.add_argument(
                "--env-file", default=str(paths.ENV_FILE), help="settings file, made if missing (default: .env)"
            )
            p.add_argument("--state-dir", default=str(paths.RUN_DIR), help="logs and SQLite databases (default: .run/)")
        if name == "run-study":
            p.add_argument("--study", default=str(DEMO_STUDY), help="the study YAML (default: the demo study)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            cmd_build(args)
            return 0
        study = Path(args.study) if args.command == "run-study" else None
        return cmd_run(args, several=args.command in ("run-bots", "run-study"), study=study)
    except (ConversionError, RuntimeError, ServiceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
