"""High-level entry points used by the CLI, the launcher and the notebook."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .convert import build_training_data
from .csv_reader import Columns, read_csv
from .errors import ConversionError
from .model import TrainingData
from .writers import render_domain, render_nlu, render_rules, write_files


@dataclass
class ConversionResult:
    """What a conversion wrote and what it counted."""

    data: TrainingData
    files: list[Path]


def load_action_map(path: str | Path) -> dict[str, str]:
    """Read a YAML mapping ``intent: action_name``."""
    path = Path(path)
    if not path.is_file():
        raise ConversionError("action map not found", path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConversionError(f"not valid YAML: {exc}", path) from exc
    if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()):
        raise ConversionError("expected a mapping of intent names to action names", path)
    return loaded


def convert_csv(
    source: str | Path,
    out_dir: str | Path,
    *,
    columns: Columns = Columns(),
    action_map: str | Path | None = None,
    domain_file: str = "domain.yml",
) -> ConversionResult:
    """Convert a CSV corpus into a Rasa project's training data.

    Writes ``OUT/data/nlu.yml``, ``OUT/data/rules.yml`` and the domain
    (``OUT/domain.yml`` unless ``domain_file`` names another path relative to
    OUT). Nothing is written unless the whole input converts.

    Args:
        source: The CSV corpus.
        out_dir: The Rasa project folder.
        columns: Column names; any left ``None`` are detected.
        action_map: Optional YAML file mapping intents to custom actions.
        domain_file: Where the domain goes, relative to ``out_dir``.

    Raises:
        ConversionError: The input cannot be converted; nothing was written.
    """
    source = Path(source)
    actions = load_action_map(action_map) if action_map else None
    try:
        data = build_training_data(read_csv(source, columns), actions, str(action_map) if action_map else None)
    except ConversionError as exc:
        if exc.path is None:  # a problem with a row: name the corpus
            raise ConversionError(exc.message, source, exc.line) from exc
        raise
    if not data.examples:
        raise ConversionError("no usable rows: every row was empty or a duplicate", source)
    out = Path(out_dir)
    name = source.name
    files = {
        out / "data" / "nlu.yml": render_nlu(data, name),
        out / "data" / "rules.yml": render_rules(data, name),
        out / domain_file: render_domain(data, name),
    }
    try:
        write_files(files)
    except OSError as exc:
        raise ConversionError(
            f"cannot write the output: {exc.strerror or exc}", getattr(exc, "filename", None) or out
        ) from exc
    return ConversionResult(data=data, files=list(files))
