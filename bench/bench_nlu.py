"""NLU benchmark: train each config on a corpus with the real ``rasa train`` and score it on held-out data.

For every config it records the wall time of the whole ``rasa train`` (start-up
included), the peak resident memory of that process, and intent accuracy and
macro-F1 on each test set. The original tutorial's pipeline (DIET and
ResponseSelector at 1,000 epochs, TED at 100) would train for hours on CPU, so
it is trained with a few epochs and its full time is estimated from the
measured seconds per epoch.

Writes ``bench/results/nlu.json`` and ``bench/results/nlu.md``.

    .venv/bin/python bench/bench_nlu.py              # all configs
    .venv/bin/python bench/bench_nlu.py --only default --no-write

The corpora are read from ``../shared/corpora`` (never copied into the repo).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

from launcher.build import copy_bot_sources, rasa_env  # noqa: E402
from process_data import convert_csv  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"
OFFICIAL = CORPORA / "bitext-official"
RESULTS = REPO / "bench" / "results"
CONFIGS = REPO / "bench" / "configs"

#: name -> (config file, description)
CONFIG_FILES: dict[str, tuple[Path, str]] = {
    "default": (REPO / "rasa_bot" / "config.yml", "shipped default (CPU)"),
    "gpu": (REPO / "rasa_bot" / "config-gpu.yml", "DIET + TED (GPU config)"),
    "tutorial": (CONFIGS / "tutorial.yml", "original tutorial pipeline (DIET/RS 1000 ep., TED 100)"),
}
for _extra in sorted(CONFIGS.glob("cand-*.yml")):
    CONFIG_FILES[_extra.stem] = (_extra, (_extra.read_text().splitlines() or [""])[0].lstrip("# "))

#: configs whose full training would take hours on CPU: trained with FEW_EPOCHS, time extrapolated
ESTIMATED = {
    "tutorial": {"DIETClassifier": 1000, "ResponseSelector": 1000, "TEDPolicy": 100},
    "gpu": {"DIETClassifier": 100, "TEDPolicy": 100},
}
FEW_EPOCHS = 2


@dataclass
class Result:
    config: str
    description: str
    train_corpus: str
    train_wall_s: float
    peak_rss_mb: float
    estimated: bool = False
    epoch_s: dict[str, float] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Bitext CSV (either layout; a BOM is fine)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [(row["utterance"], row["intent"]) for row in csv.DictReader(f)]


def fixed_copy(corpus: Path, dest: Path) -> Path:
    """A copy of a Bitext CSV whose ``entity_value`` is the text at its offsets.

    In the official split 592 rows give the value in another case than the text
    ('Platinum' for 'platinum'), which the converter rightly refuses.
    """
    with corpus.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        fields = reader.fieldnames or []
    for row in rows:
        if row.get("entity_type"):
            span = row["utterance"][int(row["start_offset"]) : int(row["end_offset"])]
            if span.casefold() == row["entity_value"].casefold():
                row["entity_value"] = span
    with dest.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return dest


def make_bot(config: Path, corpus: Path, dest: Path, epochs: dict[str, int] | None = None) -> Path:
    """A copy of rasa_bot/ with ``corpus`` converted in and ``config`` as its config.yml."""
    copy_bot_sources(dest)
    corpus = fixed_copy(corpus, dest.parent / corpus.name)
    intents = {intent for _, intent in read_examples(corpus)}
    amap = yaml.safe_load((dest / "intent_actions.yml").read_text()) or {}
    # the action map names demo-corpus intents; keep those this corpus has
    (dest / "intent_actions.yml").write_text(yaml.safe_dump({k: v for k, v in amap.items() if k in intents}))
    convert_csv(corpus, dest, action_map=dest / "intent_actions.yml", domain_file="domain/generated.yml")
    cfg = yaml.safe_load(config.read_text())
    if epochs:
        for part in ("pipeline", "policies"):
            for comp in cfg.get(part) or []:
                if comp["name"] in epochs:
                    comp["epochs"] = epochs[comp["name"]]
    (dest / "config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return dest


_TRAIN = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
wall = time.perf_counter() - t
sys.stdout.write(done.stdout)
print(f"@@BENCH {wall:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {done.returncode}")
"""


def train(bot: Path) -> tuple[float, float, str, Path]:
    """Run the whole ``rasa train``; return wall seconds, peak RSS (MB), its log and the model."""
    out = bot / "models"
    cmd = [sys.executable, "-c", _TRAIN, str(Path(sys.executable).parent / "rasa"), "train", "--out", str(out)]
    cmd += ["--fixed-model-name", "model", "--domain", "domain", "--data", "data", "--config", "config.yml"]
    done = subprocess.run(cmd, cwd=bot, env=rasa_env({"LOG_LEVEL": "INFO"}), capture_output=True, text=True)
    wall, rss, rc = done.stdout.rstrip().rsplit("\n", 1)[-1].split()[1:]
    if int(rc) != 0:
        raise RuntimeError(f"rasa train failed in {bot}:\n{done.stdout[-4000:]}")
    return float(wall), int(rss) / 1024, done.stdout, out / "model.tar.gz"


def epoch_seconds(log: str) -> dict[str, float]:
    """Seconds per epoch of each neural component, read from tqdm's progress bars in the training log."""
    result: dict[str, float] = {}
    component = None
    for line in re.split(r"[\r\n]", log):
        started = re.search(r"Starting to train component '(\w+)'", line)
        if started:
            component = started.group(1)
        bar = re.search(r"Epochs: 100%.*?(\d+)/(\d+) \[(\d+):(\d+)", line)
        if bar and component:
            n = int(bar.group(2))
            result[component] = (int(bar.group(3)) * 60 + int(bar.group(4))) / n
    return result


def score(model: Path, tests: dict[str, list[tuple[str, str]]], bot: Path) -> dict[str, dict[str, float]]:
    """Intent accuracy and macro-F1 of ``model`` on each test set (parsed in a fresh process)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "tests.json"
        spec.write_text(json.dumps(tests))
        out = Path(tmp) / "scores.json"
        cmd = [sys.executable, __file__, "_score", str(model), str(spec), str(out)]
        # in the bot folder, as `rasa run` runs
        subprocess.run(cmd, check=True, env=rasa_env(), cwd=bot, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def _score_main(model: str, spec: str, out: str) -> None:
    import asyncio

    from rasa.core.agent import Agent
    from sklearn.metrics import accuracy_score, f1_score

    agent = Agent.load(model)
    tests = json.loads(Path(spec).read_text())

    async def predict(texts: list[str]) -> list[str]:
        return [(await agent.parse_message(t))["intent"]["name"] for t in texts]

    scores = {}
    for name, pairs in tests.items():
        gold = [i for _, i in pairs]
        t = time.perf_counter()
        pred = asyncio.run(predict([x for x, _ in pairs]))
        ms = (time.perf_counter() - t) * 1000 / max(len(pairs), 1)
        labels = sorted(set(gold))
        scores[name] = {
            "n": len(pairs),
            "accuracy": accuracy_score(gold, pred),
            "macro_f1": f1_score(gold, pred, labels=labels, average="macro", zero_division=0),
            "fallback_rate": sum(p == "nlu_fallback" for p in pred) / max(len(pred), 1),
            "parse_ms": ms,
        }
    Path(out).write_text(json.dumps(scores))


def run_config(name: str, tests: dict[str, list[tuple[str, str]]], keep: Path | None = None) -> Result:
    config, description = CONFIG_FILES[name]
    epochs = {k: FEW_EPOCHS for k in ESTIMATED.get(name, {})}
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        bot = make_bot(config, OFFICIAL / "train.csv", Path(tmp) / "bot", epochs)
        wall, rss, log, model = train(bot)
        res = Result(name, description, "bitext-official/train.csv", round(wall, 1), round(rss))
        if name in ESTIMATED:
            res.estimated = True
            res.epoch_s = {k: round(v, 2) for k, v in epoch_seconds(log).items()}
            extra = sum(res.epoch_s.get(c, 0.0) * (n - FEW_EPOCHS) for c, n in ESTIMATED[name].items())
            res.train_wall_s = round(wall + extra)
        else:
            res.scores = score(model, tests, bot)
        if keep:
            shutil.copytree(bot, keep / name, dirs_exist_ok=True)
    return res


def write_results(results: list[Result], tests: dict[str, list[tuple[str, str]]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU used, Python {platform.python_version()}"
    payload = {"machine": machine, "date": time.strftime("%Y-%m-%d"), "results": [asdict(r) for r in results]}
    (RESULTS / "nlu.json").write_text(json.dumps(payload, indent=2) + "\n")
    names = list(tests)
    head = "| config | what | train wall s | peak RSS MB | " + " | ".join(f"{n} acc | {n} macro-F1" for n in names)
    lines = [
        "# NLU benchmark",
        "",
        f"Written by `make bench-nlu` ({payload['date']}) on {machine}.",
        "Every config is trained on `bitext-official/train.csv` (6,480 utterances, 27 intents) with the whole "
        "`rasa train` (start-up included); *official* is `bitext-official/test.csv` (810), *8k* is "
        "`bitext-sample-8k.csv` (8,175 utterances generated separately: the generalisation check).",
        "",
        head + " |",
        "|" + " --- |" * (4 + 2 * len(names)),
    ]
    for r in results:
        cells = []
        for n in names:
            s = r.scores.get(n)
            cells += [f"{100 * s['accuracy']:.2f} %", f"{100 * s['macro_f1']:.2f}"] if s else ["-", "-"]
        wall = f"~{r.train_wall_s:,.0f} (estimated)" if r.estimated else f"{r.train_wall_s:.1f}"
        lines.append(f"| {r.config} | {r.description} | {wall} | {r.peak_rss_mb:.0f} | " + " | ".join(cells) + " |")
    est = [r for r in results if r.estimated]
    for r in est:
        per = ", ".join(f"{k} {v:.1f} s/epoch" for k, v in r.epoch_s.items())
        lines += [
            "",
            f"*{r.config}*: trained with {FEW_EPOCHS} epochs per neural component ({per}); the time shown adds "
            f"the measured seconds per epoch for the full epochs ({ESTIMATED[r.config]}). Not scored.",
        ]
    (RESULTS / "nlu.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_score":
        _score_main(*argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help=f"configs to run (default: all of {', '.join(CONFIG_FILES)})")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    parser.add_argument("--keep", type=Path, help="copy each trained bot folder here")
    args = parser.parse_args(argv)
    if not (OFFICIAL / "train.csv").is_file():
        print(f"error: the corpora are not at {CORPORA} (see the README's Tests section)", file=sys.stderr)
        return 2
    tests = {
        "official": read_examples(OFFICIAL / "test.csv"),
        "8k": read_examples(CORPORA / "bitext-sample-8k.csv"),
    }
    results = []
    for name in args.only or list(CONFIG_FILES):
        print(f"== {name}", flush=True)
        res = run_config(name, tests, args.keep)
        print(json.dumps(asdict(res)), flush=True)
        results.append(res)
    if not args.no_write:
        write_results(results, tests)
        print(f"wrote {RESULTS / 'nlu.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
