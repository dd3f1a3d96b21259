"""Hold out part of a corpus, and evaluate a trained model's NLU on it (the notebook's evaluate step).

``convert_with_held_out`` converts a corpus as :func:`launcher.build.convert`
does, keeping ``test_fraction`` of each intent out of the training data;
``evaluate_nlu`` runs ``rasa test nlu`` on the held-out examples and returns
an :class:`NluReport` (per-intent precision/recall/F1, accuracy, the confusion
matrix PNG) that renders as a table in Jupyter.
"""

from __future__ import annotations

import html
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from process_data import ConversionResult, convert_csv

from . import paths
from .build import GENERATED_DOMAIN, rasa_env

HELD_OUT_FILE = "tests/nlu_test.yml"


def convert_with_held_out(corpus: Path, bot_dir: Path, test_fraction: float = 0.2, seed: int = 42) -> ConversionResult:
    """Convert ``corpus`` into ``bot_dir``, writing ``test_fraction`` of each intent to ``tests/nlu_test.yml``."""
    return convert_csv(
        corpus,
        bot_dir,
        action_map=bot_dir / "intent_actions.yml",
        domain_file=GENERATED_DOMAIN,
        test_fraction=test_fraction,
        seed=seed,
        test_file=HELD_OUT_FILE,
    )


@dataclass
class NluReport:
    """What ``rasa test nlu`` found, per intent."""

    intents: dict[str, dict[str, float]]
    accuracy: float
    macro_f1: float
    confusion_matrix: Path | None
    errors: list[dict] = field(default_factory=list)
    out_dir: Path | None = None

    def rows(self) -> list[tuple[str, float, float, float, int]]:
        """(intent, precision, recall, F1, support), worst F1 first."""
        rows = [
            (name, m["precision"], m["recall"], m["f1-score"], int(m["support"])) for name, m in self.intents.items()
        ]
        return sorted(rows, key=lambda r: (r[3], r[0]))

    def _repr_html_(self) -> str:
        head = "<tr><th>intent</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"
        body = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{p:.3f}</td><td>{r:.3f}</td><td>{f:.3f}</td><td>{s}</td></tr>"
            for n, p, r, f, s in self.rows()
        )
        summary = f"<p>accuracy {self.accuracy:.3f}, macro F1 {self.macro_f1:.3f}, {len(self.errors)} errors</p>"
        return f"{summary}<table>{head}{body}</table>"

    def __str__(self) -> str:
        lines = [f"accuracy {self.accuracy:.3f}, macro F1 {self.macro_f1:.3f}, {len(self.errors)} errors"]
        lines += [f"{n:<32}{p:>7.3f}{r:>7.3f}{f:>7.3f}{s:>6}" for n, p, r, f, s in self.rows()]
        return "\n".join(lines)


def read_report(out_dir: Path) -> NluReport:
    """Read the files ``rasa test nlu`` wrote into ``out_dir``."""
    report = json.loads((out_dir / "intent_report.json").read_text())
    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and not k.endswith(" avg")}
    errors_file = out_dir / "intent_errors.json"
    matrix = out_dir / "intent_confusion_matrix.png"
    return NluReport(
        intents=intents,
        accuracy=float(report.get("accuracy", report.get("micro avg", {}).get("f1-score", 0.0))),
        macro_f1=float(report.get("macro avg", {}).get("f1-score", 0.0)),
        confusion_matrix=matrix if matrix.exists() else None,
        errors=json.loads(errors_file.read_text()) if errors_file.exists() else [],
        out_dir=out_dir,
    )


def evaluate_nlu(model: Path, bot_dir: Path, test_data: Path | None = None, out_dir: Path | None = None) -> NluReport:
    """Run ``rasa test nlu`` with ``model`` on ``test_data`` (default: the held-out file) and read its report.

    Raises:
        RuntimeError: ``rasa test nlu`` failed; the message has the end of its output.
    """
    test_data = test_data or bot_dir / HELD_OUT_FILE
    out_dir = out_dir or bot_dir / "results"
    cmd = [paths.tool("rasa"), "test", "nlu", "--model", str(model), "--nlu", str(test_data), "--out", str(out_dir)]
    done = subprocess.run(
        cmd,
        cwd=bot_dir,
        env=rasa_env({"MPLBACKEND": "Agg"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rasa test nlu failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return read_report(out_dir)


def load_agent(model: Path, bot_dir: Path):
    """A Rasa ``Agent`` for ``model`` in this process (the project's components come from the installed package)."""

    from rasa.core.agent import Agent

    return Agent.load(str(model))
