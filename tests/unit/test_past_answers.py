"""action_clarify with answers from past conversations: the index from RETRIEVAL_INDEX, else the old fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from process_data.retrieval import PastPair, ReplyIndex, RetrievalConfig
from rasa_bot.actions import actions as A
from rasa_bot.actions import past_answers
from tests.unit.test_actions import run, tracker

PAIRS = [
    PastPair("Do you ship to Norway?", "Yes, we ship to Norway in 5 to 7 days. Anna", "Ann"),
    PastPair("Can I bring my dog to the shop?", "Dogs are welcome in all our shops!", "Bob"),
]


@pytest.fixture
def index_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = ReplyIndex.build(PAIRS, RetrievalConfig(threshold=0.5, team_names=("Anna",))).save(tmp_path / "i.npz")
    monkeypatch.setenv(past_answers.RETRIEVAL_INDEX_ENV, str(path))
    monkeypatch.delenv(past_answers.RETRIEVAL_THRESHOLD_ENV, raising=False)
    past_answers.load_index.cache_clear()
    yield path
    past_answers.load_index.cache_clear()


def clarify(text: str, intent: str = "nlu_fallback") -> list[dict]:
    return run(A.ActionClarify(), tracker(text, intent))[0]


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope"])
def test_a_close_past_message_answers_with_its_redacted_reply(index_file: Path, intent: str) -> None:
    messages = clarify("do you ship to norway?", intent)
    assert len(messages) == 1 and not messages[0]["buttons"]
    assert (
        messages[0]["text"]
        == "From our past conversations with customers: Yes, we ship to Norway in 5 to 7 days. [name]"
    )


def test_nothing_close_keeps_the_usual_fallback(index_file: Path) -> None:
    messages = clarify("what is the meaning of life")
    assert messages[0]["text"].startswith("Sorry, I can't help with that.") and messages[0]["buttons"]


def test_only_for_fallbacks_and_not_for_button_payloads(index_file: Path) -> None:
    assert clarify("do you ship to norway?", "greet")[0]["text"].startswith("Sorry")
    assert clarify("/out_of_scope", "out_of_scope")[0]["text"].startswith("Sorry")


def test_threshold_from_the_environment(index_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(past_answers.RETRIEVAL_THRESHOLD_ENV, "1")
    assert clarify("do you ship to norway")[0]["text"].startswith("Sorry")
    monkeypatch.setenv(past_answers.RETRIEVAL_THRESHOLD_ENV, "0.01")
    assert clarify("dog shop")[0]["text"].endswith("Dogs are welcome in all our shops!")
    monkeypatch.setenv(past_answers.RETRIEVAL_THRESHOLD_ENV, "lots")
    assert past_answers.threshold() is None


def test_off_when_unset_missing_or_unreadable(index_file: Path, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.delenv(past_answers.RETRIEVAL_INDEX_ENV)
    assert clarify("do you ship to norway?")[0]["text"].startswith("Sorry")
    monkeypatch.setenv(past_answers.RETRIEVAL_INDEX_ENV, str(index_file.parent / "gone.npz"))
    assert clarify("do you ship to norway?")[0]["text"].startswith("Sorry")
    index_file.write_bytes(b"garbage")
    monkeypatch.setenv(past_answers.RETRIEVAL_INDEX_ENV, str(index_file))
    assert clarify("do you ship to norway?")[0]["text"].startswith("Sorry")
    assert "past answers are off" in caplog.text


def test_a_rebuilt_index_is_read_again(index_file: Path) -> None:
    assert clarify("dog in the shop?")[0]["text"].endswith("Dogs are welcome in all our shops!")
    ReplyIndex.build([PastPair("dog in the shop?", "No pets, sorry.")]).save(index_file)
    assert clarify("dog in the shop?")[0]["text"].endswith("No pets, sorry.")
