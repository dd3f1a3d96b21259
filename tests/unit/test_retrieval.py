"""Unit tests for process_data.retrieval: the reply index, its files, its settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from process_data import ConversionError
from process_data.retrieval import (
    PastPair,
    ReplyIndex,
    RetrievalConfig,
    ensure_index,
    load_config,
    pairs_digest,
    read_pairs_csv,
)
from process_data.telegram import pairs_to_csv, read_telegram

REPO = Path(__file__).resolve().parents[2]
FULL = REPO / "tests" / "golden" / "process_data" / "telegram_full" / "result.json"

PAIRS = [
    PastPair("Do you ship to Norway?", "Yes, we ship to Norway in 5 to 7 days.", "Ann"),
    PastPair("do you deliver to norway", "Yes, to Norway too. Anna Schmidt, Northwind", "Bob"),
    PastPair("Can I pay with PayPal?", "Yes: PayPal, cards and bank transfer.", "Cem"),
    PastPair("How do I reset my password?", "Use 'Forgot password' on the login page.", "Dan"),
    PastPair("my card 4111 1111 1111 1111 was charged twice", "Sorry! Mail refunds@northwind.example please.", "Eve"),
    PastPair("What are your opening hours?", "9 to 5, Monday to Friday. Call +49 30 1234 5678.", "Secret"),
]
CONFIG = RetrievalConfig(threshold=0.4, team_names=("Anna Schmidt",), exclude_conversations=("secret",))


@pytest.fixture(scope="module")
def index() -> ReplyIndex:
    return ReplyIndex.build(PAIRS, CONFIG)


def test_the_most_similar_past_message_answers(index: ReplyIndex) -> None:
    hit = index.answer("Do you ship to Norway please?")
    assert hit is not None and hit.reply == "Yes, we ship to Norway in 5 to 7 days." and hit.score > 0.6
    assert index.answer("pay by paypal?").reply == "Yes: PayPal, cards and bank transfer."


def test_below_the_threshold_nothing(index: ReplyIndex) -> None:
    assert index.answer("Quelle est la météo à Lyon demain ?") is None
    assert index.answer("") is None and index.search("") == []
    assert index.answer("reset password", threshold=1.0) is None


def test_replies_and_clients_are_redacted(index: ReplyIndex) -> None:
    assert "Yes, to Norway too. [name], Northwind" in index.replies
    assert "Sorry! Mail [email] please." in index.replies
    assert "my card [card] was charged twice" in index.clients


def test_excluded_conversations_are_never_used(index: ReplyIndex) -> None:
    assert len(index) == 5 and index.excluded == 1
    assert all("9 to 5" not in h.reply for h in index.search("What are your opening hours?", 10))


def test_top_k_replies_are_distinct_and_ranked(index: ReplyIndex) -> None:
    hits = index.search("do you ship to Norway", 5)
    assert [h.conversation for h in hits][:2] == ["Ann", "Bob"]
    assert len({h.reply for h in hits}) == len(hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    batch = index.search_many(["do you ship to Norway", "reset my password"], 1)
    assert batch[0][0] == hits[0] and batch[1][0].conversation == "Dan"


def test_save_and_load_give_the_same_answers(index: ReplyIndex, tmp_path: Path) -> None:
    path = index.save(tmp_path / "sub" / "index.npz")
    loaded = ReplyIndex.load(path)
    assert loaded.replies == index.replies and loaded.config == index.config and loaded.digest == index.digest
    for text in ["ship to norway?", "password reset", "paypal"]:
        assert loaded.search(text, 3) == index.search(text, 3)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["index.npz"]


def test_a_failed_save_leaves_nothing(index: ReplyIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path / "index.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"not an index", b"PK\x03\x04broken zip"])
def test_loading_something_else_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "index.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a reply index"):
        ReplyIndex.load(path)


def test_nothing_to_index() -> None:
    with pytest.raises(ValueError, match="no pairs to index"):
        ReplyIndex.build([PastPair("q", "a", "secret"), PastPair("  ", "a"), PastPair("q", "")], CONFIG)


def test_rebuilt_only_when_the_pairs_or_their_settings_change(tmp_path: Path) -> None:
    path, built = ensure_index(PAIRS, tmp_path, CONFIG)
    assert built and path.name.startswith("retrieval-") and path.suffix == ".npz"
    assert ensure_index(PAIRS, tmp_path, CONFIG) == (path, False)
    # the threshold is applied at lookup: same index
    assert pairs_digest(PAIRS, RetrievalConfig(**{**CONFIG.__dict__, "threshold": 0.9})) == pairs_digest(PAIRS, CONFIG)
    changed = [*PAIRS[:-1], PastPair("What are your opening hours?", "9 to 6 now.", "Secret")]
    assert pairs_digest(changed, CONFIG) != pairs_digest(PAIRS, CONFIG)
    assert pairs_digest(PAIRS, RetrievalConfig(team_names=("Tom",))) != pairs_digest(PAIRS, CONFIG)


def test_pairs_from_a_telegram_export_and_from_a_corpus_csv(tmp_path: Path) -> None:
    exported = read_telegram(FULL).pairs
    path = tmp_path / "telegram_pairs.csv"
    path.write_text(pairs_to_csv(exported), encoding="utf-8")
    pairs = read_pairs_csv(path)
    assert [(p.client, p.reply, p.conversation) for p in pairs] == [(p.client, p.server, p.chat) for p in exported]
    corpus = REPO / "process_data" / "demo" / "demo_corpus.csv"
    demo = read_pairs_csv(corpus, client="utterance", reply="response", conversation=None)
    assert len(demo) == 400 and demo[0].conversation == ""
    with pytest.raises(ConversionError, match="no column client, server, chat in the pairs; columns: utterance"):
        read_pairs_csv(corpus)
    with pytest.raises(ConversionError, match="cannot read the pairs"):
        read_pairs_csv(tmp_path / "missing.csv")


def test_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "retrieval.yml"
    path.write_text("pairs: telegram_pairs.csv\nthreshold: 0.6\nteam_names: [Anna Schmidt]\n", encoding="utf-8")
    assert load_config(path) == RetrievalConfig(threshold=0.6, team_names=("Anna Schmidt",))
    for text, message in [
        ("threshold: 2\n", "threshold must be between 0 and 1"),
        ("treshold: 0.5\n", "unknown setting\\(s\\) treshold"),
        ("- a\n", "must be a mapping"),
        ("a: [\n", "cannot read the retrieval settings"),
        ("ngram_min: 5\nngram_max: 2\n", "n-gram range"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConversionError, match=message):
            load_config(path)


WORDS = st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9)
MESSAGES = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(MESSAGES, MESSAGES, st.sampled_from(["a", "b", "c"])), min_size=1, max_size=25),
    st.sampled_from([(), ("b",), ("a", "c")]),
)
def test_an_indexed_message_finds_its_own_reply_and_excluded_ones_never(rows, excluded) -> None:
    pairs = [PastPair(q, r, c) for q, r, c in rows]
    kept = [p for p in pairs if p.conversation not in excluded]
    if not kept:
        with pytest.raises(ValueError):
            ReplyIndex.build(pairs, RetrievalConfig(exclude_conversations=excluded))
        return
    index = ReplyIndex.build(pairs, RetrievalConfig(exclude_conversations=excluded))
    assert len(index) == len(kept)
    for p in kept:
        hits = index.search(p.client, len(kept))
        # the message itself scores 1 (so may others with the same n-gram profile: "ab ab" and "ab")
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert p.reply.strip() in {h.reply for h in hits if h.score > 1 - 1e-4}
        assert all(h.conversation not in excluded for h in hits)


def test_the_index_command_builds_keeps_a_fixed_copy_and_removes_it_without_pairs(tmp_path: Path) -> None:
    import subprocess
    import sys

    pairs = tmp_path / "pairs.csv"
    pairs.write_text("client,server,chat\nwhere is my parcel,It left yesterday.,c1\n", encoding="utf-8")
    settings = tmp_path / "retrieval.yml"
    settings.write_text("pairs: pairs.csv\nthreshold: 0.4\n", encoding="utf-8")
    out = tmp_path / "models"

    def index(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "process_data", "index", "--settings", str(settings), "--out", str(out), *args],
            capture_output=True,
            text=True,
            check=False,
        )

    first = index("--current", "retrieval-current.npz")
    assert first.returncode == 0 and "built: reply index of 1 past pairs" in first.stdout
    current = out / "retrieval-current.npz"
    built = [p for p in out.iterdir() if p.name != current.name]
    assert len(built) == 1 and current.read_bytes() == built[0].read_bytes()
    assert ReplyIndex.load(current).answer("where is my parcel?").reply == "It left yesterday."
    again = index("--current", "retrieval-current.npz")
    assert "up to date" in again.stdout and sorted(out.iterdir()) == sorted([*built, current])
    assert not list(out.glob("*.tmp"))
    pairs.unlink()  # no pairs any more: no index, and the fixed copy does not keep answering
    gone = index("--current", "retrieval-current.npz")
    assert gone.returncode == 0 and "no pairs file" in gone.stdout and not current.exists()
    missing = index("--pairs", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "no such pairs file" in missing.stderr and "nope.csv" in missing.stderr
    pairs.write_text("client,server,chat\nhi,hello,c1\n", encoding="utf-8")
    settings.write_text("pairs: pairs.csv\nthreshold: 7\n", encoding="utf-8")
    bad = index()
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "retrieval.yml" in bad.stderr
    assert "Traceback" not in bad.stderr
