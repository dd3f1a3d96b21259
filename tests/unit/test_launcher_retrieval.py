"""launcher.build.retrieval_index: the reply index built beside the models, only when the pairs change."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.build import retrieval_index
from process_data import ConversionError
from process_data.retrieval import ReplyIndex

REPO = Path(__file__).resolve().parents[2]
PAIRS = "client,server,chat,date\nDo you ship to Norway?,Yes: 5 to 7 days.,Ann,2024-01-01\n"


def bot(tmp_path: Path, pairs: str | None = PAIRS, settings: str | None = None) -> Path:
    bot_dir = tmp_path / "bot"
    bot_dir.mkdir()
    settings = settings if settings is not None else (REPO / "rasa_bot" / "retrieval.yml").read_text()
    (bot_dir / "retrieval.yml").write_text(settings, encoding="utf-8")
    if pairs is not None:
        (bot_dir / "telegram_pairs.csv").write_text(pairs, encoding="utf-8")
    return bot_dir


def test_built_once_then_reused_then_rebuilt_when_the_pairs_change(tmp_path: Path, capsys) -> None:
    bot_dir, cache = bot(tmp_path), tmp_path / "models"
    first = retrieval_index(bot_dir, cache)
    assert (
        first is not None and first.parent == cache and "built: reply index of 1 past pairs" in capsys.readouterr().out
    )
    assert retrieval_index(bot_dir, cache) == first and "up to date" in capsys.readouterr().out
    assert ReplyIndex.load(first).answer("ship to norway?").reply == "Yes: 5 to 7 days."
    (bot_dir / "telegram_pairs.csv").write_text(PAIRS + "Hi,Hello!,Bob,2024-01-02\n", encoding="utf-8")
    second = retrieval_index(bot_dir, cache)
    assert second != first and sorted(p.name for p in cache.iterdir()) == sorted([first.name, second.name])


def test_off_without_settings_or_pairs(tmp_path: Path) -> None:
    assert retrieval_index(bot(tmp_path, pairs=None), tmp_path / "models") is None
    (tmp_path / "bot" / "retrieval.yml").unlink()
    (tmp_path / "bot" / "telegram_pairs.csv").write_text(PAIRS, encoding="utf-8")
    assert retrieval_index(tmp_path / "bot", tmp_path / "models") is None
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize(
    ("settings", "pairs", "message"),
    [
        ("threshold: 7\n", PAIRS, "threshold must be between 0 and 1"),
        ("threshold: 0.5\n", "a,b\n1,2\n", "no column client, server, chat"),
        ("exclude_conversations: [ann]\n", PAIRS, "no pairs to index"),
    ],
)
def test_bad_settings_or_pairs_are_clear_errors(tmp_path: Path, settings: str, pairs: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        retrieval_index(bot(tmp_path, pairs, settings), tmp_path / "models")
    assert not list((tmp_path / "models").glob("*.npz")) if (tmp_path / "models").exists() else True
