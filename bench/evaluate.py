"""``make evaluate``: train the default config on Bitext's official train split and run ``rasa test nlu``
on its held-out test split.

Writes Rasa's intent report, the misclassified messages and a confusion-matrix
PNG (plus the entity reports) to ``bench/results/evaluate/`` (git-ignored).
The corpora are read from ``../shared/corpora``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from bench.bench_nlu import OFFICIAL, fixed_copy, make_bot, train  # noqa: E402
from launcher.build import rasa_env  # noqa: E402
from process_data import convert_csv  # noqa: E402

OUT = REPO / "bench" / "results" / "evaluate"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "rasa_bot" / "config.yml")
    parser.add_argument("--split", default="test", choices=["test", "dev"], help="held-out split to test on")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not (OFFICIAL / "train.csv").is_file():
        print(f"error: the corpora are not at {OFFICIAL.parent} (see docs/rasa_bot.md)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp:
        bot = make_bot(args.config, OFFICIAL / "train.csv", Path(tmp) / "bot")
        wall, rss, _, model = train(bot)
        print(f"trained in {wall:.1f} s (peak {rss:.0f} MB)")
        held = Path(tmp) / "held"
        convert_csv(fixed_copy(OFFICIAL / f"{args.split}.csv", Path(tmp) / f"{args.split}.csv"), held)
        if args.out.exists():
            shutil.rmtree(args.out)
        cmd = [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--model", str(model)]
        cmd += ["--nlu", str(held / "data" / "nlu.yml"), "--out", str(args.out)]
        done = subprocess.run(cmd, cwd=bot, env=rasa_env())
        if done.returncode:
            return done.returncode
    for name in ("intent_report.json", "intent_errors.json", "intent_confusion_matrix.png"):
        print(f"{'wrote' if (args.out / name).exists() else 'missing'} {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
