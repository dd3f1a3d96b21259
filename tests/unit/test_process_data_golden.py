"""Golden files: one small hand-written input per layout, its expected output byte for byte.

Each case under ``tests/golden/process_data/<case>/`` holds the input and an
``expected/`` tree. To regenerate after an intended change, run with
``UPDATE_GOLDEN=1`` and review the diff. No corpus content is copied here:
every input was written for these tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from process_data.cli import main

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "process_data"

CASES: dict[str, list[str]] = {
    # Bitext's sample layout: BOM, CRLF, flags first; a case variant (kept), whitespace, a quoted newline,
    # a conflict.
    "bitext_sample_layout": ["csv", "input.csv", "--stories", "--max-imbalance", "0"],
    # The same with case folded: the case variant is a duplicate.
    "fold_case": ["csv", "../bitext_sample_layout/input.csv", "--fold-case", "--stories", "--max-imbalance", "0"],
    # Bitext's official layout: entity offsets, a value differing in case from the text, categories.
    "bitext_official_layout": ["csv", "input.csv", "--min-examples", "1"],
    # Unusual column names given by flag, ';' delimiter, a responses file, YAML-special texts and labels.
    "custom_columns": [
        "csv",
        "input.csv",
        "--text-column",
        "question",
        "--intent-column",
        "topic",
        "--response-column",
        "answer",
        "--responses",
        "responses.yml",
        "--max-imbalance",
        "0",
    ],  # fmt: skip
    # UTF-16 with a BOM, tab-separated, non-Latin scripts and emoji, labels that need renaming.
    "utf16_tab": ["csv", "input.tsv", "--domain-file", "domain/generated.yml"],
    # A seeded stratified split.
    "split": [
        "csv",
        "../bitext_sample_layout/input.csv",
        "--test-fraction",
        "0.34",
        "--seed",
        "7",
        "--conflicts",
        "majority",
        "--max-imbalance",
        "0",
    ],  # fmt: skip
    # Telegram Desktop: one chat, and a full export with chats.list.
    "telegram_single": ["telegram", "result.json", "--server-name", "Northwind Support", "--min-examples", "1"],
    "telegram_full": ["telegram", "result.json", "--min-examples", "1", "--stories"],
    # A folder of three exports (an older export of one chat, the newer one, a full-account export with legacy
    # integer ids): replies that quote a message, an edit, a forward, a sticker, a voice message, a captioned photo,
    # a group where one bot talks alone, an empty chat.
    "telegram_folder": ["telegram", "exports", "--server-id", "user7000000001", "--min-examples", "1"],
}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_golden_output(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = GOLDEN / case
    out = tmp_path / "out"
    monkeypatch.chdir(folder)
    assert main([*CASES[case], "--out", str(out), "-q"]) == 0
    expected = folder / "expected"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
    got, want = _tree(out), _tree(expected)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].decode("utf-8") == want[name].decode("utf-8"), name


@pytest.mark.parametrize("case", list(CASES))
def test_golden_output_is_byte_identical_on_a_second_run(case: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(GOLDEN / case)
    for run in ("a", "b"):
        assert main([*CASES[case], "--out", str(tmp_path / run), "-q"]) == 0
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
