"""NLU benchmark: train each config on a corpus with the real ``rasa train`` and score it on held-out data.

For every config it records the wall time of the whole ``rasa train`` (start-up
included), the peak resident memory of that process, and intent accuracy and
macro-F1 on each test set. The original tutorial's pipeline (DIET and
ResponseSelector at 1,000 epochs, TED at 100) would train for hours on CPU, so
it is trained with a few epochs and its full time is estimated from the
measured seconds per epoch.

With ``--datasets DIR`` it also trains the default config with ``rasa train nlu``
on every public intent benchmark found in DIR (one folder per benchmark holding
``train.csv`` and ``test.csv``, columns ``text`` and ``category``) and scores it
beside a scikit-learn baseline fitted on the same split in the same run
(TF-IDF of word 1-2 and char_wb 2-5 n-grams, sublinear, + ``LinearSVC``). The
baseline is fitted on Bitext's official split too. On a benchmark whose test
set has out-of-scope examples (label ``oos``) the report adds in-scope accuracy
and out-of-scope recall (``nlu_fallback`` or ``oos`` predicted).

Writes ``bench/results/nlu.json`` and ``bench/results/nlu.md``.

    .venv/bin/python bench/bench_nlu.py              # all configs
    .venv/bin/python bench/bench_nlu.py --only default --no-write
    .venv/bin/python bench/bench_nlu.py --only default --datasets ../nlu-datasets

The corpora are read from ``../shared/corpora`` and the benchmarks from DIR
(never copied into the repo).
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

#: benchmarks never used to choose a setting: evaluated once, at the end, and reported as they came out
HELD_OUT = {"clinc150_small"}
#: the out-of-scope label of a benchmark's test set; predicting it or nlu_fallback is the right answer
OOS_LABEL = "oos"
FALLBACK = "nlu_fallback"


@dataclass
class Result:
    config: str
    description: str
    train_corpus: str
    train_wall_s: float
    peak_rss_mb: float
    estimated: bool = False
    train_cpu_s: float = 0.0
    epoch_s: dict[str, float] = field(default_factory=dict)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class BenchmarkResult:
    benchmark: str
    config: str
    held_out: bool
    n_train: int
    n_intents: int
    train_wall_s: float
    train_cpu_s: float
    peak_rss_mb: float
    scores: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)


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
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"@@BENCH {wall:.3f} {use.ru_maxrss} {done.returncode} {use.ru_utime + use.ru_stime:.3f}")
"""


def train(bot: Path) -> tuple[float, float, str, Path]:
    """Run the whole ``rasa train``; return wall seconds, peak RSS (MB), its log and the model."""
    out = bot / "models"
    cmd = [sys.executable, "-c", _TRAIN, str(Path(sys.executable).parent / "rasa"), "train", "--out", str(out)]
    cmd += ["--fixed-model-name", "model", "--domain", "domain", "--data", "data", "--config", "config.yml"]
    done = subprocess.run(cmd, cwd=bot, env=rasa_env({"LOG_LEVEL": "INFO"}), capture_output=True, text=True)
    wall, rss, rc = done.stdout.rstrip().rsplit("\n", 1)[-1].split()[1:4]
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

    agent = Agent.load(model)
    tests = json.loads(Path(spec).read_text())

    async def predict(texts: list[str]) -> list[tuple[str, str]]:
        """(intent, best intent other than nlu_fallback) of each text."""
        found = []
        for t in texts:
            parsed = await agent.parse_message(t)
            ranking = [r["name"] for r in parsed.get("intent_ranking") or [] if r["name"] != FALLBACK]
            found.append((parsed["intent"]["name"], ranking[0] if ranking else parsed["intent"]["name"]))
        return found

    scores = {}
    for name, pairs in tests.items():
        gold = [i for _, i in pairs]
        t = time.perf_counter()
        found = asyncio.run(predict([x for x, _ in pairs]))
        ms = (time.perf_counter() - t) * 1000 / max(len(pairs), 1)
        scores[name] = {**metrics(gold, [p for p, _ in found], [r for _, r in found]), "parse_ms": ms}
    Path(out).write_text(json.dumps(scores))


def read_benchmark(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a benchmark CSV: columns ``text`` (or ``utterance``) and ``category`` (or ``intent``)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        text = next((k for k in ("text", "utterance") if k in fields), None)
        label = next((k for k in ("category", "intent", "label") if k in fields), None)
        if text is None or label is None:
            raise ValueError(f"{path}: needs a text and a category column, has {fields}")
        return [(row[text].strip(), row[label].strip()) for row in reader if row[text].strip()]


def benchmark_dirs(root: Path) -> list[Path]:
    """The folders of ``root`` holding a benchmark (``train.csv`` and ``test.csv``)."""
    return sorted(d for d in root.iterdir() if (d / "train.csv").is_file() and (d / "test.csv").is_file())


def write_nlu_data(pairs: list[tuple[str, str]], path: Path) -> None:
    """Rasa NLU training data (YAML) with one entry per intent."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in pairs:
        by_intent.setdefault(intent, []).append(text)
    nlu = [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)} for i, texts in sorted(by_intent.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True, sort_keys=False))


def baseline(train_pairs: list[tuple[str, str]], test_pairs: list[tuple[str, str]]) -> dict[str, float]:
    """The scikit-learn baseline: sublinear TF-IDF of word 1-2 and char_wb 2-5 n-grams, LinearSVC (default C=1)."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    t = time.perf_counter()
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    texts = [x for x, _ in train_pairs]
    x = sp.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LinearSVC().fit(x, [y for _, y in train_pairs])
    fit_s = time.perf_counter() - t
    tests = [x for x, _ in test_pairs]
    pred = list(model.predict(sp.hstack([words.transform(tests), chars.transform(tests)]).tocsr()))
    return {**metrics([y for _, y in test_pairs], pred, pred), "fit_s": round(fit_s, 1)}


def metrics(gold: list[str], pred: list[str], raw: list[str]) -> dict[str, float]:
    """Accuracy and macro-F1 of ``pred`` (``nlu_fallback`` is right only for out-of-scope examples), the
    accuracy of ``raw`` (the best intent, fallback or not), and, when ``gold`` has out-of-scope examples,
    in-scope accuracy (of ``pred`` and of ``raw``) and out-of-scope recall."""
    from sklearn.metrics import f1_score

    def as_oos(p: str) -> str:
        return OOS_LABEL if p == FALLBACK else p

    has_oos = OOS_LABEL in gold
    mapped = [as_oos(p) for p in pred] if has_oos else pred
    n = max(len(gold), 1)
    out = {
        "n": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, mapped, strict=True)) / n,
        "macro_f1": f1_score(gold, mapped, labels=sorted(set(gold)), average="macro", zero_division=0),
        "raw_accuracy": sum(g == p for g, p in zip(gold, raw, strict=True)) / n,
        "fallback_rate": sum(p == FALLBACK for p in pred) / n,
    }
    if has_oos:
        inside = [(g, p, r) for g, p, r in zip(gold, pred, raw, strict=True) if g != OOS_LABEL]
        outside = [p for g, p in zip(gold, mapped, strict=True) if g == OOS_LABEL]
        out["in_scope_accuracy"] = sum(g == p for g, p, _ in inside) / max(len(inside), 1)
        out["in_scope_raw_accuracy"] = sum(g == r for g, _, r in inside) / max(len(inside), 1)
        out["oos_recall"] = sum(p == OOS_LABEL for p in outside) / max(len(outside), 1)
    return out


def train_nlu(bot: Path) -> tuple[float, float, float, Path]:
    """Run ``rasa train nlu`` in ``bot``; return wall and CPU seconds (start-up included), peak RSS (MB), the model."""
    out = bot / "models"
    cmd = [sys.executable, "-c", _TRAIN, str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--out", str(out)]
    cmd += ["--fixed-model-name", "model", "--nlu", "data/nlu.yml", "--config", "config.yml"]
    done = subprocess.run(cmd, cwd=bot, env=rasa_env({"LOG_LEVEL": "INFO"}), capture_output=True, text=True)
    wall, rss, rc, cpu = done.stdout.rstrip().rsplit("\n", 1)[-1].split()[1:5]
    if int(rc) != 0:
        raise RuntimeError(f"rasa train nlu failed in {bot}:\n{done.stdout[-4000:]}")
    return float(wall), float(cpu), int(rss) / 1024, out / "model.tar.gz"


def run_benchmark(name: str, folder: Path) -> BenchmarkResult:
    """Train ``name`` on ``folder``/train.csv with ``rasa train nlu``; score it and the baseline on test.csv."""
    config, _ = CONFIG_FILES[name]
    train_pairs, test_pairs = read_benchmark(folder / "train.csv"), read_benchmark(folder / "test.csv")
    with tempfile.TemporaryDirectory(prefix=f"bench-{folder.name}-") as tmp:
        bot = Path(tmp) / "bot"
        write_nlu_data(train_pairs, bot / "data" / "nlu.yml")
        shutil.copy(config, bot / "config.yml")
        wall, cpu, rss, model = train_nlu(bot)
        scores = score(model, {folder.name: test_pairs}, bot)[folder.name]
    return BenchmarkResult(
        benchmark=folder.name,
        config=name,
        held_out=folder.name in HELD_OUT,
        n_train=len(train_pairs),
        n_intents=len({i for _, i in train_pairs}),
        train_wall_s=round(wall, 1),
        train_cpu_s=round(cpu, 1),
        peak_rss_mb=round(rss),
        scores=scores,
        baseline=baseline(train_pairs, test_pairs),
    )


def run_config(name: str, tests: dict[str, list[tuple[str, str]]], keep: Path | None = None) -> Result:
    config, description = CONFIG_FILES[name]
    epochs = {k: FEW_EPOCHS for k in ESTIMATED.get(name, {})}
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        bot = make_bot(config, OFFICIAL / "train.csv", Path(tmp) / "bot", epochs)
        wall, rss, log, model = train(bot)
        res = Result(name, description, "bitext-official/train.csv", round(wall, 1), round(rss))
        res.train_cpu_s = round(float(log.rstrip().rsplit("\n", 1)[-1].split()[4]), 1)
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


def write_results(
    results: list[Result],
    tests: dict[str, list[tuple[str, str]]],
    bitext_baseline: dict[str, dict[str, float]] | None = None,
    benchmarks: list[BenchmarkResult] | None = None,
    command: str = "make bench-nlu",
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU used, Python {platform.python_version()}"
    payload = {
        "machine": machine,
        "date": time.strftime("%Y-%m-%d"),
        "command": command,
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "results": [asdict(r) for r in results],
        "bitext_baseline": bitext_baseline or {},
        "benchmarks": [asdict(b) for b in benchmarks or []],
    }
    (RESULTS / "nlu.json").write_text(json.dumps(payload, indent=2) + "\n")
    names = list(tests)
    head = "| config | what | train wall s | train CPU s | peak RSS MB | " + " | ".join(
        f"{n} acc | {n} macro-F1" for n in names
    )
    lines = [
        "# NLU benchmark",
        "",
        f"Written by `{command}` ({payload['date']}) on {machine}; load average at the end "
        f"{' / '.join(str(v) for v in payload['load_average_1_5_15'])} (other work on the machine slows wall times).",
        "Every config is trained on `bitext-official/train.csv` (6,480 utterances, 27 intents) with the whole "
        "`rasa train` (start-up included); *official* is `bitext-official/test.csv` (810), *8k* is "
        "`bitext-sample-8k.csv` (8,175 utterances generated separately: the generalisation check).",
        "",
        head + " |",
        "|" + " --- |" * (5 + 2 * len(names)),
    ]
    for r in results:
        cells = []
        for n in names:
            s = r.scores.get(n)
            cells += [f"{100 * s['accuracy']:.2f} %", f"{100 * s['macro_f1']:.2f}"] if s else ["-", "-"]
        wall = f"~{r.train_wall_s:,.0f} (estimated)" if r.estimated else f"{r.train_wall_s:.1f}"
        cpu = "-" if r.estimated else f"{r.train_cpu_s:.1f}"
        lines.append(
            f"| {r.config} | {r.description} | {wall} | {cpu} | {r.peak_rss_mb:.0f} | " + " | ".join(cells) + " |"
        )
    if bitext_baseline:
        cells = []
        for n in names:
            s = bitext_baseline.get(n)
            cells += [f"{100 * s['accuracy']:.2f} %", f"{100 * s['macro_f1']:.2f}"] if s else ["-", "-"]
        fit = next(iter(bitext_baseline.values()))["fit_s"]
        lines.append(
            f"| baseline | scikit-learn TF-IDF (word 1-2 + char_wb 2-5) + LinearSVC, same split, fit only | "
            f"{fit:.1f} (fit) | - | - | " + " | ".join(cells) + " |"
        )
    est = [r for r in results if r.estimated]
    for r in est:
        per = ", ".join(f"{k} {v:.1f} s/epoch" for k, v in r.epoch_s.items())
        lines += [
            "",
            f"*{r.config}*: trained with {FEW_EPOCHS} epochs per neural component ({per}); the time shown adds "
            f"the measured seconds per epoch for the full epochs ({ESTIMATED[r.config]}). Not scored.",
        ]
    if benchmarks:
        lines += benchmark_table(benchmarks)
    (RESULTS / "nlu.md").write_text("\n".join(lines) + "\n")


def benchmark_table(benchmarks: list[BenchmarkResult]) -> list[str]:
    """The Markdown section of the public benchmarks: pipeline vs baseline."""
    lines = [
        "",
        "## Public intent benchmarks",
        "",
        "Each config is trained with `rasa train nlu` (start-up included) on the benchmark's train split and "
        "parsed message by message on its test split. *acc* counts `nlu_fallback` as wrong (right for an "
        "out-of-scope example); *top intent* is the classifier's best intent, fallback or not: the number "
        "comparable to the baseline, scikit-learn's TF-IDF (word 1-2 + char_wb 2-5, sublinear) + `LinearSVC` "
        "(C=1) fitted on the same split in the same run. Out-of-scope recall counts `nlu_fallback` or the "
        "benchmark's `oos` intent; in-scope accuracy counts a fallback as wrong, in-scope top intent does not.",
        "",
        "| benchmark | config | train | intents | train wall s | train CPU s | peak RSS MB | top intent | acc "
        "| macro-F1 | fallback | in-scope acc | in-scope top intent | OOS recall | baseline acc | baseline in-scope "
        "| baseline OOS recall "
        "| top intent - baseline |",
        "|" + " --- |" * 18,
    ]

    def pct(d: dict[str, float], k: str) -> str:
        return f"{100 * d[k]:.2f}" if k in d else "-"

    for b in benchmarks:
        s, base = b.scores, b.baseline
        name = b.benchmark + (" (held out)" if b.held_out else "")
        lines.append(
            f"| {name} | {b.config} | {b.n_train:,} | {b.n_intents} | {b.train_wall_s:.1f} | {b.train_cpu_s:.1f} "
            f"| {b.peak_rss_mb:.0f} "
            f"| {pct(s, 'raw_accuracy')} | {pct(s, 'accuracy')} | {pct(s, 'macro_f1')} | {pct(s, 'fallback_rate')} "
            f"| {pct(s, 'in_scope_accuracy')} | {pct(s, 'in_scope_raw_accuracy')} | {pct(s, 'oos_recall')} "
            f"| {pct(base, 'accuracy')} "
            f"| {pct(base, 'in_scope_accuracy')} | {pct(base, 'oos_recall')} "
            f"| {100 * (s['raw_accuracy'] - base['accuracy']):+.2f} |"
        )
    held = sorted({b.benchmark for b in benchmarks if b.held_out})
    if held:
        lines += [
            "",
            f"Held out: {', '.join(held)}: evaluated only once the pipeline was fixed; no setting was chosen on it.",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_score":
        _score_main(*argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", help=f"configs to run (default: all of {', '.join(CONFIG_FILES)})")
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    parser.add_argument("--keep", type=Path, help="copy each trained bot folder here")
    parser.add_argument("--datasets", type=Path, help="folder of public intent benchmarks (one folder each)")
    parser.add_argument(
        "--bench-configs", nargs="*", default=["default"], help="configs trained on each benchmark (default: default)"
    )
    args = parser.parse_args(argv)
    if args.datasets and not args.datasets.is_dir():
        print(f"error: --datasets {args.datasets} is not a folder", file=sys.stderr)
        return 2
    if not (OFFICIAL / "train.csv").is_file():
        print(f"error: the corpora are not at {CORPORA} (see the README's Tests section)", file=sys.stderr)
        return 2
    tests = {
        "official": read_examples(OFFICIAL / "test.csv"),
        "8k": read_examples(CORPORA / "bitext-sample-8k.csv"),
    }
    results = []
    for name in args.only if args.only is not None else list(CONFIG_FILES):
        print(f"== {name}", flush=True)
        res = run_config(name, tests, args.keep)
        print(json.dumps(asdict(res)), flush=True)
        results.append(res)
    official = read_examples(OFFICIAL / "train.csv")
    bitext_baseline = {n: baseline(official, pairs) for n, pairs in tests.items()}
    print(json.dumps({"baseline": bitext_baseline}), flush=True)
    benchmarks = []
    for folder in benchmark_dirs(args.datasets) if args.datasets else []:
        for name in args.bench_configs:
            print(f"== {folder.name} / {name}", flush=True)
            bench = run_benchmark(name, folder)
            print(json.dumps(asdict(bench)), flush=True)
            benchmarks.append(bench)
    if not args.no_write:
        command = " ".join(["bench/bench_nlu.py", *argv])
        write_results(results, tests, bitext_baseline, benchmarks, command)
        print(f"wrote {RESULTS / 'nlu.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
