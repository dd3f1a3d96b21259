"""Convert a corpus into a Rasa project and train it, unless a model of the same inputs exists."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from chat_contract import DEFAULT_BOT_ID
from process_data import ConversionResult, convert_csv

from . import paths

GENERATED_DOMAIN = "domain/generated.yml"
#: Inputs of training besides the config file, relative to the bot folder: their content decides the fingerprint.
TRAINING_INPUTS = ("domain", "data")
DEFAULT_CONFIG = "config.yml"
#: Settings of the answers from past conversations, relative to the bot folder.
RETRIEVAL_SETTINGS = "retrieval.yml"


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for any Rasa process: no telemetry (no internet here), quiet TensorFlow.

    ``RASA_BOT_ID`` (the audience credentials.yml gives the channels) defaults to the demo bot's id.
    """
    env = dict(os.environ)
    env.update({"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    if not env.get("RASA_BOT_ID"):
        env["RASA_BOT_ID"] = DEFAULT_BOT_ID
    return env


def convert(corpus: Path, bot_dir: Path = paths.BOT_DIR, quiet: bool = False) -> ConversionResult:
    """Write the generated training data and domain of ``corpus`` into ``bot_dir``."""
    result = convert_csv(corpus, bot_dir, action_map=bot_dir / "intent_actions.yml", domain_file=GENERATED_DOMAIN)
    if not quiet:
        stats = result.data.stats
        print(f"converted {corpus.name}: {stats['kept']} examples, {stats['intents']} intents")
        for warning in result.data.warnings:
            print(f"  warning: {warning}")
    return result


def fingerprint(bot_dir: Path, config: str = DEFAULT_CONFIG) -> str:
    """A hash of everything training reads (the config file, domain, data), by relative path and content."""
    digest = hashlib.sha256()
    for name in (config, *TRAINING_INPUTS):
        root = bot_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*.yml") if p.is_file())
        for file in files:
            digest.update(file.relative_to(bot_dir).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def train(bot_dir: Path = paths.BOT_DIR, cache: Path = paths.MODEL_CACHE, config: str = DEFAULT_CONFIG) -> Path:
    """Return a model trained on ``bot_dir``'s data with ``config`` (a file in it), training only if none is cached.

    Raises:
        RuntimeError: ``rasa train`` failed; its output has been shown.
    """
    cache.mkdir(parents=True, exist_ok=True)
    model = cache / f"{fingerprint(bot_dir, config)}.tar.gz"
    if model.exists():
        print(f"model up to date: {model}")
        return model
    print(f"training the model ({config}; about a minute on 2 cores)…", flush=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [
            paths.tool("rasa"),
            "train",
            "--config",
            config,
            "--domain",
            "domain",
            "--data",
            "data",
            "--out",
            tmp,
            "--fixed-model-name",
            "model",
        ]
        done = subprocess.run(
            cmd, cwd=bot_dir, env=rasa_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        if done.returncode != 0:
            sys.stdout.write(done.stdout[-5000:])
            raise RuntimeError(f"rasa train failed (exit {done.returncode}); see the output above")
        os.replace(Path(tmp) / "model.tar.gz", model)
    print(f"trained: {model}")
    return model


def retrieval_index(
    bot_dir: Path = paths.BOT_DIR, cache: Path = paths.MODEL_CACHE, *, quiet: bool = False
) -> Path | None:
    """The reply index of the bot's past conversations, beside the models; built only when its pairs changed.

    ``bot_dir/retrieval.yml`` names the pairs file (``pairs:``, relative to the bot folder; ``telegram_pairs.csv``
    as ``process_data telegram`` writes it) and the settings. None when there is no such file or no pairs file.

    Raises:
        ConversionError: The settings or the pairs cannot be read.
    """
    from process_data.retrieval import index_for_bot

    result = index_for_bot(bot_dir / RETRIEVAL_SETTINGS, cache)
    if result.path is not None and not quiet:
        state = "built" if result.built else "up to date"
        print(f"{state}: reply index of {result.pairs:,} past pairs: {result.path}")
    return result.path


def copy_bot_sources(dest: Path) -> Path:
    """Copy the hand-written parts of the bot into ``dest`` (for tests and experiments)."""
    generated = {
        paths.BOT_DIR / "data" / "nlu.yml",
        paths.BOT_DIR / "data" / "rules.yml",
        paths.BOT_DIR / GENERATED_DOMAIN,
        paths.BOT_DIR / "tests" / "nlu_test.yml",
        # what the review inbox exported into this checkout (manage.py review_export / review_story): a test bot
        # is the project's, not this machine's reviewed conversations
        paths.BOT_DIR / "data" / "review_nlu.yml",
        paths.BOT_DIR / "domain" / "review.yml",
        paths.BOT_DIR / "tests" / "review_stories.yml",
    }

    # what Rasa, its CLI and the servers write at run time (models, caches, reports, SQLite files and their WAL)
    run_time = {"models", ".rasa", "__pycache__", "results", "story_graph.dot"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in run_time or ".sqlite3" in n}
        return skipped | {n for n in names if Path(folder, n) in generated}

    # symlinks=True: domain.yml stays a link to domain/ (copied as a folder it would carry a stale generated.yml)
    shutil.copytree(paths.BOT_DIR, dest, ignore=ignore, dirs_exist_ok=True, symlinks=True)
    return dest
