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
    assert result.skipped == {
        "service messages (calls, pins, joins)": 1,
        "media without a caption": 1,
        "messages without a sender id": 1,
    }


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
    assert result.chats_without_pairs["empty"] == 2


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


# --- a whole account, written by hand in Telegram Desktop's JSON shapes ------------------

OWNER = 7000000001  # the support account: personal_information.user_id is an integer in real exports


def _m(mid: int, sender: str | int, name: str | None, text, **extra) -> dict:
    entities = [{"type": "plain", "text": text}] if isinstance(text, str) and text else []
    message = {
        "id": mid,
        "type": "message",
        "date": f"2024-03-04T10:{mid % 60:02d}:00",
        "date_unixtime": str(1709546400 + mid * 60),
        "from": name,
        "from_id": sender,
        "text": text,
        "text_entities": entities,
    }
    message.update(extra)
    return message


ACCOUNT = {
    "about": "Here is the data you requested.",
    "personal_information": {"user_id": OWNER, "first_name": "Northwind", "last_name": "Support"},
    "chats": {
        "about": "This page lists all chats from this export.",
        "list": [
            {
                "name": "Maria Lopez",
                "type": "personal_chat",
                "id": 5011223344,
                "messages": [
                    {
                        "id": 1,
                        "type": "service",
                        "date": "2024-03-04T09:58:12",
                        "actor": "Maria Lopez",
                        "actor_id": "user5011223344",
                        "action": "phone_call",
                        "discard_reason": "missed",
                        "text": "",
                        "text_entities": [],
                    },
                    _m(2, "user5011223344", "Maria Lopez", "Hi! Where is my order?"),
                    _m(
                        3,
                        "user5011223344",
                        "Maria Lopez",
                        ["It is ", {"type": "code", "text": "A-7741"}],
                        text_entities=[{"type": "plain", "text": "It is "}, {"type": "code", "text": "A-7741"}],
                    ),
                    _m(
                        4,
                        "user7000000001",
                        "Northwind Support",
                        "It is out for delivery today.",
                        edited="2024-03-04T10:05:00",
                        edited_unixtime="1709546700",
                    ),
                    _m(
                        5,
                        "user5011223344",
                        "Maria Lopez",
                        "",
                        file="(File not included. Change data exporting settings to download.)",
                        media_type="sticker",
                        sticker_emoji="👍",
                        width=512,
                        height=512,
                    ),
                    _m(6, "user5011223344", "Maria Lopez", "Can I pay by card?"),
                    _m(7, "user5011223344", "Maria Lopez", "And do you deliver on Sundays?"),
                    _m(
                        8,
                        "user5011223344",
                        "Maria Lopez",
                        "Look what I got",
                        forwarded_from="Northwind Deals",
                    ),
                    _m(9, "user7000000001", "Northwind Support", "Yes, every card.", reply_to_message_id=6),
                    _m(10, "user5011223344", "Maria Lopez", "Thanks"),
                ],
            },
            {
                "name": None,  # a deleted account: no name, legacy integer ids
                "type": "personal_chat",
                "id": 4000,
                "messages": [
                    _m(1, 4000, None, "", photo="(File not included.)", width=800, height=600),
                    _m(2, 4000, None, "Broken lid", photo="(File not included.)", width=800, height=600),
                    _m(3, OWNER, "Northwind Support", "Sorry! A refund is on its way."),
                    _m(4, 4000, None, "", media_type="voice_message", duration_seconds=4, file="(File not included.)"),
                ],
            },
            {
                "name": "Spam bot",
                "type": "bot_chat",
                "id": 6000,
                "messages": [_m(1, "user6000", "Spam bot", "WIN A PRIZE"), _m(2, "user6000", "Spam bot", "now")],
            },
            {"name": "Old colleague", "type": "personal_chat", "id": 6001, "messages": []},
        ],
    },
    "left_chats": {"about": "", "list": []},
}


def test_a_whole_account_each_case_handled_and_accounted(tmp_path: Path) -> None:
    result = read_telegram(export(tmp_path, ACCOUNT))
    assert [(p.client, p.server, p.chat) for p in result.pairs] == [
        ("Hi! Where is my order?\nIt is A-7741", "It is out for delivery today.", "Maria Lopez"),
        # the reply quotes message 6: paired with it, not with the forwarded one before it
        ("Can I pay by card?\nAnd do you deliver on Sundays?", "Yes, every card.", "Maria Lopez"),
        ("Broken lid", "Sorry! A refund is on its way.", "chat 4000"),
    ]
    assert result.server == "'Northwind Support' (user7000000001)"
    assert result.skipped == {
        "service messages (calls, pins, joins)": 1,
        "stickers": 1,
        "forwarded messages (not the sender's own words)": 1,
        "media without a caption": 2,
    }
    assert result.kept == {
        "edited: the final text is used": 1,
        "captions of media": 1,
        "merged into the message before": 3,  # one in the spam chat
    }
    assert result.unpaired == {"client turns never answered": 1}
    assert result.chats_without_pairs == {"empty": 1, "one speaker only": 1}
    account = "\n".join(result.account())
    assert "kept: 3 pairs from 2 of 4 chats, 11 of 16 messages used" in account
    assert "dropped messages: 2 media without a caption; 1 forwarded messages" in account
    assert "chats without pairs: 1 empty; 1 one speaker only" in account


def test_a_reply_quoting_a_message_already_answered_falls_back_to_the_turn_before(tmp_path: Path) -> None:
    data = chat(
        _m(1, CLIENT, "c", "q1"),
        _m(2, SERVER, "s", "a1"),
        _m(3, CLIENT, "c", "q2"),
        _m(4, SERVER, "s", "a2", reply_to_message_id=1),
        _m(5, SERVER + "0", "x", "noise"),  # a third sender in a group is a client too
        _m(6, SERVER, "s", "a3", reply_to_message_id=999),  # quotes a message not in the export
    )
    result = read_telegram(export(tmp_path, data), server_id=SERVER)
    assert [(p.client, p.server) for p in result.pairs] == [("q1", "a1"), ("q2", "a2"), ("noise", "a3")]


def test_server_never_answering_is_accounted(tmp_path: Path) -> None:
    data = {
        "personal_information": {"user_id": 200},
        "chats": {"list": [chat(msg(SERVER, "welcome"), msg(CLIENT, "hello?"), name="Silent")]},
    }
    result = read_telegram(export(tmp_path, data))
    assert result.pairs == []
    assert result.chats_without_pairs == {"the server never answered a client": 1}
    assert result.unpaired == {"server turns with no client message to answer": 1, "client turns never answered": 1}


def test_a_folder_of_several_exports(tmp_path: Path) -> None:
    first = chat(_m(1, CLIENT, "c", "q1"), _m(2, SERVER, "Support", "a1"), name="Ann")
    again = chat(_m(1, CLIENT, "c", "q1"), _m(2, SERVER, "Support", "a1"), _m(3, CLIENT, "c", "q2"), name="Ann")
    again["messages"].append(_m(4, SERVER, "Support", "a2"))
    other = dict(chat(_m(1, 300, "Bob", "q3"), _m(2, SERVER, "Support", "a3"), name="Bob"), id=43)
    for folder, data in [("ChatExport_2024-03-04", first), ("ChatExport_2024-03-05", again), ("b/ChatExport", other)]:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "result.json").write_text(json.dumps(data), encoding="utf-8")
    result = read_telegram(tmp_path, server_name="support")
    assert [(p.client, p.server, p.chat) for p in result.pairs] == [
        ("q1", "a1", "Ann"),
        ("q2", "a2", "Ann"),  # the second export's copy of q1/a1 is used once
        ("q3", "a3", "Bob"),
    ]
    assert result.skipped == {"duplicates (the same chat in two exports)": 2}
    assert len(result.files) == 3 and result.path == tmp_path
    assert result.describe().startswith("Telegram export, 3 files, 3 chat(s)")


def test_a_bad_file_in_a_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "result.json").write_text(json.dumps(chat(msg(CLIENT, "q"), msg(SERVER, "a"))))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "result.json").write_text("{oops")
    with pytest.raises(ConversionError, match="not valid JSON") as info:
        read_telegram(tmp_path, server_id=SERVER)
    assert info.value.path == str(tmp_path / "b" / "result.json")
    (tmp_path / "c" / "d").mkdir(parents=True)
    with pytest.raises(ConversionError, match="no result.json in this folder or below it"):
        read_telegram(tmp_path / "c")


def test_cli_prints_the_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from process_data.cli import main

    code = main(["telegram", str(export(tmp_path, ACCOUNT)), "--out", str(tmp_path / "bot"), "--min-examples", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "kept: 3 pairs from 2 of 4 chats" in out
    assert "dropped messages:" in out and "chats without pairs:" in out


def test_the_golden_folder_of_exports_is_accounted_for_in_full() -> None:
    result = read_telegram(GOLDEN / "telegram_folder" / "exports", server_id="7000000001")
    assert len(result.files) == 3 and result.messages == 22
    assert result.account() == [
        "kept: 4 pairs from 2 of 5 chats, 13 of 22 messages used (2 merged into the message before; "
        "1 captions of media; 1 edited: the final text is used)",
        "dropped messages: 4 duplicates (the same chat in two exports); 2 service messages (calls, pins, joins); "
        "1 forwarded messages (not the sender's own words); 1 media without a caption; 1 stickers",
        "turns without a pair: 2 client turns never answered",
        "chats without pairs: 1 empty; 1 one speaker only",
    ]
    # every message is either used or dropped with a reason
    assert result.used + sum(result.skipped.values()) == result.messages
