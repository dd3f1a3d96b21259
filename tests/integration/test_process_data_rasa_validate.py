"""``rasa data validate --fail-on-warnings`` on what the converter writes.

- The output of every shared corpus (``../shared/corpora``, beside the
  repository; skipped with a message where absent), through the real ``rasa``
  command in a subprocess, with stories and a held-out split.
- Every golden output (``tests/golden/process_data/*/expected``), through
  Rasa's own validator in-process (the same function the command calls),
  which is quicker for many small projects.

Rasa's validator needs a config.yml: a minimal one is written into each
temporary project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from process_data import convert_csv

REPO = Path(__file__).resolve().parents[2]
CORPORA = REPO.parent / "shared" / "corpora"
GOLDEN = REPO / "tests" / "golden" / "process_data"
RASA = Path(sys.executable).with_name("rasa")

CONFIG = """\
recipe: default.v1
language: en
assistant_id: process-data-validate
pipeline:
- name: WhitespaceTokenizer
- name: CountVectorsFeaturizer
- name: LogisticRegressionClassifier
policies:
- name: RulePolicy
"""

CORPUS_FILES = [
    "bitext-sample-8k.csv",
    "bitext-official/train.csv",
    "bitext-official/dev.csv",
    "bitext-official/test.csv",
]

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_shared_corpus_output_passes_rasa_data_validate(name: str, tmp_path: Path) -> None:
    corpus = CORPORA / name
    if not corpus.is_file():
        pytest.skip(f"shared corpus {corpus} is absent (it sits beside the repository, in ../shared/corpora)")
    result = convert_csv(corpus, tmp_path, stories=True, test_fraction=0.2, strict=True)
    assert result.data.warnings == []
    assert (tmp_path / "tests" / "nlu_test.yml").is_file()
    (tmp_path / "config.yml").write_text(CONFIG, encoding="utf-8")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    proc = subprocess.run(
        [str(RASA), "data", "validate", "--fail-on-warnings"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # The held-out part loads as NLU data for `rasa test nlu`.
    from rasa.shared.nlu.training_data.loading import load_data

    test = load_data(str(tmp_path / "tests" / "nlu_test.yml"))
    train = load_data(str(tmp_path / "data" / "nlu.yml"))
    assert len(test.training_examples) == result.data.stats["test examples"]
    assert len(train.training_examples) == result.data.stats["train examples"]
    # No text is in both parts, not even in another spelling (case variants stay on one side).
    assert not {m.get("text").casefold() for m in test.training_examples} & {
        m.get("text").casefold() for m in train.training_examples
    }
    # Rasa drops repeated examples silently: every example written is one Rasa counts.
    for part in (train, test):
        assert len({m.get("text") for m in part.training_examples}) == len(part.training_examples)


def _validate_in_process(project: Path) -> list[str]:
    """Run the function behind `rasa data validate --fail-on-warnings`; return Rasa's warnings."""
    from rasa.cli.utils import validate_files
    from rasa.shared.importers.importer import TrainingDataImporter

    domain = project / "domain.yml"
    if not domain.exists():
        domain = project / "domain"
    importer = TrainingDataImporter.load_from_config(
        config_path=str(project / "config.yml"),
        domain_path=str(domain),
        training_data_paths=[str(project / "data")],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            validate_files(True, None, importer)
        except SystemExit as exc:
            pytest.fail(f"rasa data validate failed on {project} (exit {exc.code})")
    return [
        str(w.message)
        for w in caught
        if "rasa" in w.filename and not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)
    ]


@pytest.mark.parametrize("case", sorted(p.parent.name for p in GOLDEN.glob("*/expected")))
def test_golden_output_passes_rasa_validation(case: str, tmp_path: Path) -> None:
    project = tmp_path / case
    shutil.copytree(GOLDEN / case / "expected", project)
    (project / "config.yml").write_text(CONFIG, encoding="utf-8")
    rasa_warnings = _validate_in_process(project)
    assert [w for w in rasa_warnings if "Slot auto-fill" not in w] == []
