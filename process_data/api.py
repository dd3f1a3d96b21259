"""High-level entry points used by the CLI, the launcher and the notebook."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .convert import DEFAULT_CLEANING, CleaningOptions, build_training_data, safe_name
from .csv_reader import Columns, CsvReader, _sniff
from .errors import ConversionError
from .model import TrainingData
from .split import split_train_test
from .writers import HEADER, iter_nlu, render_domain, render_rules, render_stories, write_files

DEFAULT_TEST_FILE = "tests/nlu_test.yml"


@dataclass
class ConversionResult:
    """What a conversion wrote and what it counted.

    Attributes:
        data: The cleaned training data, with ``stats`` and ``warnings``.
        files: The files written, in a fixed order.
        source: The input file.
        detected: A one-line account of the detected layout (encoding, delimiter, columns).
        notes: Extra lines for the summary.
        removed: Optional files an earlier run generated and this one did not, now removed.
    """

    data: TrainingData
    files: list[Path]
    source: Path | None = None
    detected: str = ""
    notes: list[str] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def load_action_map(path: str | Path) -> dict[str, str]:
    """Read a YAML mapping ``intent: action_name``."""
    path = Path(path)
    if not path.is_file():
        raise ConversionError("action map not found", path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConversionError(f"not valid YAML: {_one_line(exc)}", path) from exc
    if not isinstance(loaded, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()):
        raise ConversionError("expected a mapping of intent names to action names", path)
    return loaded


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def load_responses(path: str | Path) -> dict[str, list[str]]:
    """Read a responses file: intent -> one or more response texts.

    YAML: a mapping ``intent: text`` or ``intent: [text, ...]`` (a Rasa-style
    ``responses: {utter_intent: [{text: ...}]}`` block is accepted too).
    CSV: an intent column (``intent`` or ``label``) and a text column
    (``response``, ``text`` or ``answer``); several rows for one intent give
    several variations.

    Raises:
        ConversionError: The file is missing or not in one of those shapes.
    """
    path = Path(path)
    if not path.is_file():
        raise ConversionError("responses file not found", path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return _load_responses_csv(path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConversionError(f"not valid YAML: {_one_line(exc)}", path) from exc
    if isinstance(loaded, dict) and isinstance(loaded.get("responses"), dict):
        loaded = {
            str(k).removeprefix("utter_"): [v.get("text") if isinstance(v, dict) else v for v in (vs or [])]
            for k, vs in loaded["responses"].items()
        }
    if not isinstance(loaded, dict) or not loaded:
        raise ConversionError("expected a mapping of intent names to response texts", path)
    result: dict[str, list[str]] = {}
    for key, value in loaded.items():
        texts = value if isinstance(value, list) else [value]
        if not all(isinstance(t, str) for t in texts) or not texts:
            raise ConversionError(f"the response for '{key}' must be a text or a list of texts", path)
        result[str(key)] = texts
    return result


def _load_responses_csv(path: Path) -> dict[str, list[str]]:
    encoding, sample = _sniff(path, None)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding=encoding), newline=""), delimiter=delimiter))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConversionError(f"cannot read the responses CSV: {_one_line(exc)}", path) from exc
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ConversionError("the responses file is empty", path)
    header = [h.strip().lower() for h in rows[0]]
    try:
        ii = next(header.index(c) for c in ("intent", "label") if c in header)
        ti = next(header.index(c) for c in ("response", "text", "answer") if c in header)
    except StopIteration:
        raise ConversionError(
            f"a responses CSV needs an 'intent' and a 'response' column (columns found: {', '.join(rows[0])})", path
        ) from None
    result: dict[str, list[str]] = {}
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ConversionError(f"row has {len(row)} fields, the header has {len(header)}", path, n)
        if row[ii].strip() and row[ti].strip():
            result.setdefault(row[ii].strip(), []).append(row[ti])
    return result


def convert_csv(
    source: str | Path,
    out_dir: str | Path,
    *,
    columns: Columns = Columns(),
    action_map: str | Path | None = None,
    domain_file: str = "domain.yml",
    encoding: str | None = None,
    delimiter: str | None = None,
    responses: str | Path | None = None,
    cleaning: CleaningOptions = DEFAULT_CLEANING,
    test_fraction: float = 0.0,
    seed: int = 42,
    test_file: str = DEFAULT_TEST_FILE,
    stories: bool = False,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ConversionResult:
    """Convert a CSV corpus into a Rasa project's training data.

    Writes ``OUT/data/nlu.yml``, ``OUT/data/rules.yml`` and the domain
    (``OUT/domain.yml`` unless ``domain_file`` names another path relative to
    OUT); with ``stories`` also ``OUT/data/stories.yml``, and with a
    ``test_fraction`` the held-out examples to ``OUT/<test_file>``. Nothing is
    written unless the whole input converts: the files are replaced together.

    Args:
        source: The CSV corpus.
        out_dir: The Rasa project folder.
        columns: Column names; any left ``None`` are detected.
        action_map: Optional YAML file mapping intents to custom actions.
        domain_file: Where the domain goes, relative to ``out_dir``.
        encoding: The corpus encoding (default: detected; UTF-8, with or without BOM, or UTF-16 with a BOM).
        delimiter: The field delimiter (default: detected from the header line).
        responses: Optional responses file (YAML or CSV, intent -> text).
        cleaning: How texts are compared and checked: case folding, the conflict policy (a text under
            two intents is kept under the ``first``, the ``majority``, or ``drop``-ped), the thresholds
            of the small-intent and imbalance warnings.
        test_fraction: Share of each intent held out for testing (0: none).
        seed: Seed for the split.
        test_file: Where the held-out examples go, relative to ``out_dir``.
        stories: Also write a story per intent.
        strict: Treat warnings as errors.
        progress: Called now and then with (bytes read, file size).

    Raises:
        ConversionError: The input cannot be converted; nothing was written.
    """
    source = Path(source)
    reader = CsvReader(source, columns, encoding=encoding, delimiter=delimiter, progress=progress)
    result = _convert(
        source,
        reader,
        out_dir,
        action_map=action_map,
        domain_file=domain_file,
        responses=responses,
        cleaning=cleaning,
        test_fraction=test_fraction,
        seed=seed,
        test_file=test_file,
        stories=stories,
        strict=strict,
        read_stats=reader.stats,
    )
    result.detected = reader.layout.describe()
    result.notes = list(reader.layout.notes)
    return result


def _convert(
    source: Path,
    rows: Iterable[Sequence],
    out_dir: str | Path,
    *,
    action_map: str | Path | None,
    domain_file: str,
    responses: str | Path | None,
    cleaning: CleaningOptions,
    test_fraction: float,
    seed: int,
    test_file: str,
    stories: bool,
    strict: bool,
    read_stats=None,
    extra_files: dict[str, str] | None = None,
) -> ConversionResult:
    """The part shared by every input format: clean, split, check, write."""
    if not 0 <= test_fraction < 1:
        raise ConversionError(f"the test fraction must be at least 0 and below 1, not {test_fraction}")
    actions = load_action_map(action_map) if action_map else None
    answers = load_responses(responses) if responses else None
    try:
        data = build_training_data(
            rows,
            actions,
            str(action_map) if action_map else None,
            options=cleaning,
            responses=answers,
            responses_path=str(responses) if responses else None,
        )
    except ConversionError as exc:
        if exc.path is None:  # a problem with a row: name the corpus
            raise ConversionError(exc.message, source, exc.line) from exc
        raise
    if not data.examples:
        raise ConversionError("no usable rows: every row was empty or a duplicate", source)
    if read_stats is not None:
        data.stats["blank rows skipped"] = read_stats.blank_rows
        data.stats["entity values case-corrected"] = read_stats.entity_case_fixed
        if read_stats.categories:
            data.stats["categories"] = len(set(read_stats.categories.values()))
    split_train_test(data, test_fraction, seed)
    if strict and data.warnings:
        more = f" (and {len(data.warnings) - 1} more)" if len(data.warnings) > 1 else ""
        raise ConversionError(f"--strict: {data.warnings[0]}{more}; nothing written", source)
    out = Path(out_dir)
    name = source.name
    files: dict[Path, str | Iterable[str]] = {
        out / "data" / "nlu.yml": iter_nlu(data, name),
        out / "data" / "rules.yml": render_rules(data, name),
        out / domain_file: render_domain(data, name),
    }
    if stories:
        files[out / "data" / "stories.yml"] = render_stories(data, name)
    if test_fraction:
        files[out / test_file] = iter_nlu(data, name, data.test_examples)
    for rel, content in (extra_files or {}).items():
        files[out / rel] = content
    # Optional files an earlier run generated but this one does not: stale, so removed
    # (only when their first line shows they are ours; hand-written files are never touched).
    stale = [
        p
        for p in dict.fromkeys((out / "data" / "stories.yml", out / test_file, out / DEFAULT_TEST_FILE))
        if p not in files and _generated_by_us(p)
    ]
    try:
        write_files(files)
        for path in stale:
            path.unlink()
    except OSError as exc:
        raise ConversionError(
            f"cannot write the output: {exc.strerror or exc}", getattr(exc, "filename", None) or out
        ) from exc
    return ConversionResult(data=data, files=list(files), source=source, removed=stale)


def _generated_by_us(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.readline().startswith(HEADER.split("{")[0].encode("utf-8"))
    except OSError:
        return False


def convert_telegram(
    source: str | Path,
    out_dir: str | Path,
    *,
    server_id: str | None = None,
    server_name: str | None = None,
    pairs_file: str = "telegram_pairs.csv",
    action_map: str | Path | None = None,
    domain_file: str = "domain.yml",
    responses: str | Path | None = None,
    cleaning: CleaningOptions = DEFAULT_CLEANING,
    test_fraction: float = 0.0,
    seed: int = 42,
    test_file: str = DEFAULT_TEST_FILE,
    stories: bool = False,
    strict: bool = False,
) -> ConversionResult:
    """Convert a Telegram Desktop export into a pairs CSV and Rasa training data.

    Each (client message -> server reply) pair becomes a training example whose
    intent is named after the reply, answered by that reply; the pairs are also
    written to ``OUT/<pairs_file>`` (columns ``client,server,chat,date``).

    Args:
        source: ``result.json`` (one chat or a full export), or the export folder holding it.
        out_dir: The Rasa project folder.
        server_id: The ``from_id`` of the side that answers (``user123`` or ``123``).
        server_name: Or its display name.
        pairs_file: Where the pairs CSV goes, relative to ``out_dir``.
        action_map, domain_file, responses, cleaning, test_fraction, seed, test_file, stories, strict:
            As for :func:`convert_csv`.

    Raises:
        ConversionError: The input cannot be converted; nothing was written.
    """
    from .telegram import pairs_to_csv, read_telegram, reply_intents

    export = read_telegram(source, server_id=server_id, server_name=server_name)
    pairs = export.pairs
    if not pairs:
        raise ConversionError(
            f"no (client message -> server reply) pairs found in {len(export.chats)} chat(s) "
            f"with the server side {export.server}",
            export.path,
        )
    intents = reply_intents(p.server for p in pairs)
    rows = [(p.client, intents[p.server], n, p.server, ()) for n, p in enumerate(pairs, 2)]
    pairs_path = Path(pairs_file)
    result = _convert(
        pairs_path,
        rows,
        out_dir,
        action_map=action_map,
        domain_file=domain_file,
        responses=responses,
        cleaning=cleaning,
        test_fraction=test_fraction,
        seed=seed,
        test_file=test_file,
        stories=stories,
        strict=strict,
        extra_files={pairs_file: pairs_to_csv(pairs)},
    )
    result.source = export.path
    result.detected = export.describe()
    result.data.stats = {"messages read": export.messages, **result.data.stats}
    result.notes = export.notes
    return result


__all__ = [
    "CleaningOptions",
    "ConversionResult",
    "convert_csv",
    "convert_telegram",
    "load_action_map",
    "load_responses",
    "safe_name",
]
