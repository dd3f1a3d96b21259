"""Benchmark: convert a 1,000,000-row CSV with the whole CLI and record the figures.

Builds the corpus in a temporary folder (never in the repository) from
``../shared/corpora/bitext-sample-8k.csv`` with variations (greetings and
endings, case, extra whitespace and tabs, emoji and accents, exact duplicates,
texts under a second intent), runs ``python -m process_data csv`` on it in a
subprocess and measures wall time and the peak resident memory of that
process. Writes ``bench/results/convert.json`` and ``convert.md``.

    .venv/bin/python bench/bench_convert.py [--rows 1000000] [--repeat 3]

A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "corpora" / "bitext-sample-8k.csv"
RESULTS = REPO / "bench" / "results"

PREFIXES = ["", "hi, ", "hello ", "please ", "excuse me, ", "hey there ", "good morning, ", "sorry, ", "ok so ",
            "quick question: ", "yo ", "dear support, "]  # fmt: skip
SUFFIXES = ["", " please", " thanks", " asap", "?", " !!", " thank you", " right now", " today", " :)", " - urgent"]


def build_corpus(path: Path, rows: int) -> dict[str, int]:
    """Write ``rows`` rows in the sample's own layout (BOM, ``flags,utterance,category,intent``)."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        base = [r for r in reader if r]
    ti, ii = header.index("utterance"), header.index("intent")
    intents = sorted({r[ii] for r in base})
    n = len(base)
    counts = {"whitespace": 0, "duplicate": 0, "conflict": 0, "non_ascii": 0}
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        previous = base[0]
        for i in range(rows):
            if i % 97 == 96:  # an exact duplicate of the row before
                writer.writerow(previous)
                counts["duplicate"] += 1
                continue
            row = list(base[i % n])
            v = i // n
            text = PREFIXES[v % len(PREFIXES)] + row[ti] + SUFFIXES[(v // len(PREFIXES)) % len(SUFFIXES)]
            if v % 3 == 1:
                text = text.capitalize()
            if i % 50 == 7:
                text = "  " + text.replace(" ", "  \t", 2) + " \n"
                counts["whitespace"] += 1
            if i % 200 == 11:
                text += " \U0001f642 café"
                counts["non_ascii"] += 1
            row[ti] = text
            if i % 1000 == 500:  # the same text under another intent
                row[ii] = intents[(intents.index(row[ii]) + 1) % len(intents)]
                counts["conflict"] += 1
            writer.writerow(row)
            previous = row
    return counts


def run_cli(corpus: Path, out: Path) -> tuple[float, float, int, str]:
    """Run the CLI once; return (wall seconds, CPU seconds, peak RSS bytes, stdout)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out_f, tempfile.TemporaryFile("w+") as err_f:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "process_data", "csv", str(corpus), "--out", str(out)],
            cwd=REPO,
            env=env,
            stdout=out_f,
            stderr=err_f,
        )
        # wait4 gives this child's own peak RSS (ru_maxrss, KiB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    if proc.returncode != 0:
        raise SystemExit(f"the CLI failed ({proc.returncode}): {stderr.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, stdout


def machine() -> dict[str, object]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best and the median are recorded")
    parser.add_argument("--no-record", action="store_true", help="print the figures, write no results file")
    parser.add_argument("--keep", metavar="PATH", help="also copy the generated corpus to PATH (for profiling)")
    args = parser.parse_args()
    if not SAMPLE.is_file():
        print(f"skipped: {SAMPLE} is absent (the shared corpora sit beside the repository)", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_convert_") as tmp:
        corpus = Path(tmp) / "corpus_1m.csv"
        t0 = time.perf_counter()
        variations = build_corpus(corpus, args.rows)
        if args.keep:
            import shutil

            shutil.copyfile(corpus, args.keep)
        print(f"built {corpus.stat().st_size / 1e6:.1f} MB, {args.rows:,} rows in {time.perf_counter() - t0:.1f} s")
        runs = []
        for i in range(args.repeat):
            load = os.getloadavg()[0]
            wall, cpu, rss, stdout = run_cli(corpus, Path(tmp) / f"out{i}")
            runs.append(
                {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss_mb": round(rss / 2**20, 1), "load": load}
            )
            print(
                f"run {i + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss / 2**20:.0f} MiB peak RSS, "
                f"{args.rows / wall:,.0f} rows/s (load average before: {load:.2f})"
            )
        summary = stdout.split("examples per intent")[0]
        nlu_size = (Path(tmp) / "out0" / "data" / "nlu.yml").stat().st_size
    walls = sorted(r["wall_s"] for r in runs)
    best, median = walls[0], walls[len(walls) // 2]
    result = {
        "command": f"python -m process_data csv corpus_1m.csv --out OUT  ({args.rows:,} rows)",
        "rows": args.rows,
        "input_mb": round(corpus.stat().st_size / 1e6, 1) if corpus.exists() else None,
        "nlu_yml_mb": round(nlu_size / 1e6, 1),
        "variations": variations,
        "runs": runs,
        "best_wall_s": best,
        "median_wall_s": median,
        "rows_per_s_best": round(args.rows / best),
        "rows_per_s_median": round(args.rows / median),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "median_cpu_s": sorted(r["cpu_s"] for r in runs)[len(runs) // 2],
        "summary": summary,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "targets": {"wall_s": 5.0, "peak_rss_mb": 1024, "rows_per_s": 200_000},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=2))
    if not args.no_record:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "convert.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        m = result["machine"]
        (RESULTS / "convert.md").write_text(
            "# Converter benchmark\n\n"
            f"`bench/bench_convert.py`: {args.rows:,} rows built from the Bitext 8k sample with variations "
            f"({', '.join(f'{k} {v:,}' for k, v in variations.items())}), converted by the whole CLI "
            "(`python -m process_data csv`, all cleaning on), "
            f"best and median of {args.repeat} runs.\n\n"
            "| rows/s (median) | wall s (median) | wall s (best) | CPU s (median) | peak RSS MiB | nlu.yml MB |\n"
            "| ---: | ---: | ---: | ---: | ---: | ---: |\n"
            f"| {result['rows_per_s_median']:,} | {median:.2f} | {best:.2f} | {result['median_cpu_s']:.2f} "
            f"| {result['peak_rss_mb_max']:.0f} | {result['nlu_yml_mb']} |\n\n"
            "The machine is shared: the load average before each run is in `convert.json`; "
            "CPU seconds are less sensitive to it than wall seconds.\n\n"
            f"Machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory']} RAM, Python {m['python']}, "
            f"{m['platform']}; {result['date']}.\n\n"
            "Targets (issue 3): at most 5 s wall and 1 GiB peak memory, at least 200,000 rows/s.\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
