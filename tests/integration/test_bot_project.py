"""The Rasa project itself: data validation, test stories, and what its configs learn.

These train real models (each in well under a minute on 2 cores); they assert
behaviour, never timings (the figures are in bench/results/nlu.md).
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from launcher import paths
from launcher.build import convert, copy_bot_sources, rasa_env

pytestmark = pytest.mark.integration

CORPORA = paths.REPO.parent / "shared" / "corpora"
RASA = paths.tool("rasa")


def rasa(bot: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=bot, env=rasa_env(), capture_output=True, text=True)


def test_data_validates_without_warnings(demo_bot):
    bot, _ = demo_bot
    done = rasa(bot, "data", "validate", "--fail-on-warnings", "--domain", "domain", "--data", "data")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_test_stories_all_pass(demo_bot, tmp_path):
    bot, model = demo_bot
    out = tmp_path / "results"
    done = rasa(bot, "test", "core", "--stories", "tests", "--model", str(model), "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    failed = out / "failed_test_stories.yml"
    stories = (yaml.safe_load(failed.read_text()) or {}).get("stories") if failed.exists() else None
    assert not stories, failed.read_text()
    assert len(yaml.safe_load((bot / "tests" / "test_stories.yml").read_text())["stories"]) >= 13


def parse(bot: Path, model: Path, texts: list[str]) -> list[str]:
    """Intents predicted by ``model`` (loaded in a fresh process run from the bot folder)."""
    code = (
        "import asyncio, json, sys\n"
        "from rasa.core.agent import Agent\n"
        "agent = Agent.load(sys.argv[1])\n"
        "texts = json.loads(sys.stdin.read())\n"
        "async def go(): return [(await agent.parse_message(t))['intent']['name'] for t in texts]\n"
        "print('@@' + json.dumps(asyncio.run(go())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(model)],
        input=json.dumps(texts),
        cwd=bot,
        env=rasa_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("@@")[-1])


def train(bot: Path, config: str = "config.yml") -> Path:
    done = rasa(bot, "train", "--config", config, "--domain", "domain", "--data", "data", "--out", "models",
                "--fixed-model-name", "model")  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    return bot / "models" / "model.tar.gz"


def test_default_config_learns_a_small_corpus(demo_bot):
    """The demo corpus (400 utterances) trains the default config; unseen paraphrases get the right intent."""
    bot, model = demo_bot
    cases = {
        "could you cancel the order I placed yesterday": "cancel_order",
        "what's the status of my order 48213": "check_order_status",
        "I'd like to speak with a person please": "contact_human_agent",
        "has my refund been paid yet": "track_refund",
        "hi there!": "greet",
        "thanks a lot": "thank",
        "tell me a joke": "out_of_scope",
    }
    predicted = parse(bot, model, list(cases))
    assert predicted == list(cases.values())


def test_default_config_on_a_bitext_sample(tmp_path):
    official = CORPORA / "bitext-official"
    if not (official / "train.csv").is_file():
        pytest.skip(f"the shared corpora are not at {CORPORA}: the Bitext sample check needs them")
    from bench.bench_nlu import fixed_copy

    rng = random.Random(4)
    with (official / "train.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    sample = tmp_path / "sample.csv"
    picked = rng.sample(rows, 1500)
    with sample.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(picked)
    bot = copy_bot_sources(tmp_path / "bot")
    (bot / "intent_actions.yml").write_text("")
    convert(fixed_copy(sample, tmp_path / "fixed.csv"), bot, quiet=True)
    model = train(bot)
    with (official / "test.csv").open(encoding="utf-8") as f:
        test = rng.sample(list(csv.DictReader(f)), 200)
    predicted = parse(bot, model, [r["utterance"] for r in test])
    correct = sum(p == r["intent"] for p, r in zip(predicted, test, strict=True))
    assert correct >= 180, f"{correct}/200"


def test_gpu_config_trains_on_cpu_with_one_epoch(tmp_path):
    bot = copy_bot_sources(tmp_path / "bot")
    convert(paths.DEMO_CORPUS, bot, quiet=True)
    cfg = yaml.safe_load((bot / "config-gpu.yml").read_text())
    for part in ("pipeline", "policies"):
        for comp in cfg[part]:
            if "epochs" in comp:
                comp["epochs"] = 1
    (bot / "config-tiny.yml").write_text(yaml.safe_dump(cfg))
    model = train(bot, "config-tiny.yml")
    assert model.is_file()
    assert len(parse(bot, model, ["cancel my order"])) == 1
