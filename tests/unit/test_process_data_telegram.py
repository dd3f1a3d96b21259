"""Unit tests for process_data.telegram: message shapes, pairing, server side, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from process_data import CleaningOptions, ConversionError
from process_data.api import convert_telegram
from process_data.telegram import message_text, norm_id, pairs_to_csv, read_telegram, reply_intents

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "process_data"
SINGLE = GOLDEN / "telegram_single" / "result.json"
FULL = GOLDEN / "telegram_full" / "result.json"

CLIENT, SERVER = "user100", "user200"


def msg(sender: str | int | None, text, **extra) -> dict:
    message = {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "from": f"name {sender}", "text": text}
    if sender is not None:
        message["from_id"] = sender
    message.update(extra)
    return message


def chat(*messages: dict, name: str | None = "Chat") -> dict:
    return {"name": name, "type": "personal_chat", "id": 42, "messages": list(messages)}


def export(tmp_path: Path, data) -> Path:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def pairs_of(tmp_path: Path, data, **kwargs) -> list[tuple[str, str]]:
    kwargs.setdefault("server_id", SERVER)
    return [(p.client, p.server) for p in read_telegram(export(tmp_path, data), **kwargs).pairs]


# --- message shapes ---------------------------------------------------------------------


def test_text_as_string_list_and_entities() -> None:
    assert message_text({"text": "plain"}) == "plain"
    assert message_text({"text": ["a ", {"type": "bold", "text": "b"}, " c"]}) == "a b c"
    assert message_text({"text": "ignored", "text_entities": [{"type": "plain", "text": "x"}, {"text": "y"}]}) == "xy"
    assert message_text({"text": ["a", 5, None, {"type": "link"}]}) == "a"
    assert message_text({}) == ""


@pytest.mark.parametrize(("value", "expected"), [("user123", "123"), ("123", "123"), (123, "123"), ("channel9", "9")])
def test_sender_ids_string_or_legacy_integer(value, expected: str) -> None:
    assert norm_id(value) == expected


def test_norm_id_of_nothing() -> None:
    assert norm_id(None) is None and norm_id(True) is None and norm_id(["x"]) is None


# --- pairing ------------------------------------------------------------------------------


def test_every_pair_is_kept_including_the_last(tmp_path: Path) -> None:
    data = chat(msg(CLIENT, "q1"), msg(SERVER, "a1"), msg(CLIENT, "q2"), msg(SERVER, "a2"))
    assert pairs_of(tmp_path, data) == [("q1", "a1"), ("q2", "a2")]


def test_consecutive_messages_from_one_sender_are_merged(tmp_path: Path) -> None:
    data = chat(msg(CLIENT, "hi"), msg(CLIENT, "my order?"), msg(SERVER, "which one?"), msg(SERVER, "number please"))
    assert pairs_of(tmp_path, data) == [("hi\nmy order?", "which one?\nnumber please")]


def test_service_messages_empty_texts_and_missing_senders_are_skipped(tmp_path: Path) -> None:
    data = chat(
        {"id": 1, "type": "service", "actor": "x", "action": "pin_message", "text": ""},
        msg(CLIENT, "q1"),
        msg(CLIENT, "", photo="photo.jpg"),
        msg(None, "ghost"),
        msg(SERVER, "a1"),
    )
    result = read_telegram(export(tmp_path, data), server_id=SERVER)
    assert [(p.client, p.server) for p in result.pairs] == [("q1", "a1")]
    assert result.skipped == {"service messages": 1, "messages without text": 1, "messages without a sender": 1}


def test_null_sender_name_and_legacy_integer_ids(tmp_path: Path) -> None:
    data = chat(msg(100, "q1", **{"from": None}), msg(200, "a1"))
    assert pairs_of(tmp_path, data, server_id="200") == [("q1", "a1")]
    assert pairs_of(tmp_path, data, server_id="user200") == [("q1", "a1")]


def test_server_speaking_first_and_a_client_without_reply_give_no_pair(tmp_path: Path) -> None:
    data = chat(msg(SERVER, "welcome"), msg(CLIENT, "q1"), msg(SERVER, "a1"), msg(CLIENT, "thanks, bye"))
    assert pairs_of(tmp_path, data) == [("q1", "a1")]


def test_empty_chats_are_counted(tmp_path: Path) -> None:
    data = {
        "personal_information": {"user_id": 200},
        "chats": {"list": [chat(), chat(msg(CLIENT, "q"), msg(SERVER, "a")), {"name": "x", "id": 5}]},
    }
    result = read_telegram(export(tmp_path, data))
    assert [(p.client, p.server) for p in result.pairs] == [("q", "a")]
    assert result.skipped["empty chats"] == 2


def test_full_export_defaults_to_the_account_owner_and_reads_left_chats(tmp_path: Path) -> None:
    data = {
        "personal_information": {"user_id": 200},
        "chats": {"list": [chat(msg(CLIENT, "q1"), msg(SERVER, "a1"), name="A")]},
        "left_chats": {"list": [chat(msg(CLIENT, "q2"), msg(SERVER, "a2"), name="B")]},
    }
    result = read_telegram(export(tmp_path, data))
    assert [(p.client, p.chat) for p in result.pairs] == [("q1", "A"), ("q2", "B")]


def test_server_by_name_ignores_case(tmp_path: Path) -> None:
    data = chat(msg(CLIENT, "q1"), msg(SERVER, "a1"))
    assert pairs_of(tmp_path, data, server_id=None, server_name="NAME user200") == [("q1", "a1")]


def test_export_folder_is_accepted() -> None:
    assert len(read_telegram(SINGLE.parent, server_name="Northwind Support").pairs) == 3


def test_pairs_csv_round_trips() -> None:
    pairs = read_telegram(FULL).pairs
    rows = list(csv.reader(io.StringIO(pairs_to_csv(pairs))))
    assert rows[0] == ["client", "server", "chat", "date"]
    assert [tuple(r) for r in rows[1:]] == [(p.client, p.server, p.chat, p.date) for p in pairs]


def test_reply_intents_are_deterministic_and_unique() -> None:
    names = reply_intents(["Sure, which order?", "Sure, which order?!", "😀", "Здравствуйте", "Sure which order"])
    assert names == {
        "Sure, which order?": "reply_sure_which_order",
        "Sure, which order?!": "reply_sure_which_order_2",
        "😀": "reply_2",
        "Здравствуйте": "reply_3",
        "Sure which order": "reply_sure_which_order_3",
    }


# --- into Rasa data ---------------------------------------------------------------------


def test_convert_telegram_writes_pairs_and_rasa_data(tmp_path: Path) -> None:
    out = tmp_path / "bot"
    result = convert_telegram(SINGLE, out, server_id="user7000000001", cleaning=CleaningOptions(min_examples=1))
    assert (out / "telegram_pairs.csv").read_text(encoding="utf-8").startswith("client,server,chat,date\n")
    nlu = load_data(str(out / "data" / "nlu.yml"))
    assert len(nlu.training_examples) == 3
    domain = Domain.load(out / "domain.yml")
    texts = [r[0]["text"] for r in domain.responses.values()]
    assert "Between 2 and 6 pm. Anything else?" in texts
    assert result.data.stats["messages read"] == 10
    assert "server side 'Northwind Support'" in result.detected


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"name": "x", "list": []}', "not a Telegram Desktop export"),
        (b"[1, 2, 3]", "not a Telegram Desktop export"),
        (b'"just a string"', "not a Telegram Desktop export"),
        (b"\xff\xfe\x00\x01binary", "not UTF-8"),
    ],
)
def test_not_an_export(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(content)
    with pytest.raises(ConversionError, match=message) as info:
        read_telegram(path, server_id="1")
    assert info.value.path == str(path)


def test_missing_file_and_folder_without_result_json(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="file not found"):
        read_telegram(tmp_path / "nope.json")
    with pytest.raises(ConversionError, match="no result.json"):
        read_telegram(tmp_path)


def test_no_server_side_lists_the_senders() -> None:
    with pytest.raises(ConversionError, match="pass --server-id or --server-name; senders: 'Maria Lopez'"):
        read_telegram(SINGLE)


def test_unknown_server_id_or_name(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="--server-id user999 sent no message"):
        read_telegram(SINGLE, server_id="user999")
    with pytest.raises(ConversionError, match="no sender named 'Nobody'"):
        read_telegram(SINGLE, server_name="Nobody")


def test_no_pairs_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    path = export(tmp_path, chat(msg(SERVER, "hello?"), msg(SERVER, "anyone?")))
    with pytest.raises(ConversionError, match="no \\(client message -> server reply\\) pairs"):
        convert_telegram(path, tmp_path / "bot", server_id=SERVER)
    assert not (tmp_path / "bot").exists()
