"""Unit tests for process_data.csv_reader: layouts, encodings, line numbers and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from process_data.csv_reader import Columns, read_csv
from process_data.errors import ConversionError
from process_data.model import Entity, Example

ENTITY_HEADER = "utterance,intent,entity_type,entity_value,start_offset,end_offset\n"


def _write(tmp_path: Path, content: str | bytes, name: str = "corpus.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


DETECT = Columns()


def _read(path: Path, columns: Columns = DETECT) -> list[Example]:
    return list(read_csv(path, columns))


def _error(path: Path, columns: Columns = DETECT) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        _read(path, columns)
    return info.value


# --- layouts and encodings -------------------------------------------------


def test_bitext_sample_layout_with_bom(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "\ufeffflags,utterance,category,intent\n"
        "B,question about cancelling order {{Order Number}},ORDER,cancel_order\n"
        "BQZ,i need help cancelling puchase,ORDER,cancel_order\n"
        "BL,how do i change my shipping address,SHIPPING,change_shipping_address\n",
    )
    examples = _read(path)
    assert [(e.text, e.intent, e.line) for e in examples] == [
        ("question about cancelling order {{Order Number}}", "cancel_order", 2),
        ("i need help cancelling puchase", "cancel_order", 3),
        ("how do i change my shipping address", "change_shipping_address", 4),
    ]
    # No response column and no entity columns in this layout.
    assert all(e.response is None and e.entities == () for e in examples)


def test_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    # With the text column first, a BOM left on the header would hide 'utterance'.
    path = _write(tmp_path, "\ufeffutterance,intent\nhello there,greet\n")
    assert _read(path) == [Example(text="hello there", intent="greet", line=2)]


def test_crlf_line_endings(tmp_path: Path) -> None:
    path = _write(tmp_path, b"utterance,intent\r\nhi there,greet\r\nbye now,goodbye\r\nthanks,thank\r\n")
    examples = _read(path)
    assert [(e.text, e.intent, e.line) for e in examples] == [
        ("hi there", "greet", 2),
        ("bye now", "goodbye", 3),
        ("thanks", "thank", 4),
    ]
    assert not any("\r" in e.text or "\r" in e.intent for e in examples)


def test_quoted_field_with_embedded_newlines_reports_the_line_the_record_starts_on(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "utterance,intent\n"  # 1
        "first,greet\n"  # 2
        '"second starts here\n'  # 3
        "and goes on\n"  # 4
        'and ends here",greet\n'  # 5
        "third,goodbye\n",  # 6
    )
    examples = _read(path)
    assert [e.line for e in examples] == [2, 3, 6]
    assert examples[1].text == "second starts here\nand goes on\nand ends here"
    assert examples[2].text == "third"


def test_embedded_crlf_newline_in_quoted_field(tmp_path: Path) -> None:
    path = _write(tmp_path, b'utterance,intent\r\n"two\r\nlines",greet\r\nnext,greet\r\n')
    examples = _read(path)
    assert [(e.text, e.line) for e in examples] == [("two\r\nlines", 2), ("next", 4)]


def test_error_after_a_multiline_record_reports_the_right_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "utterance,intent\n"  # 1
        '"a\nb\nc",greet\n'  # 2-4
        "ok,greet\n"  # 5
        "no intent here,\n",  # 6
    )
    err = _error(path)
    assert err.line == 6
    assert str(err).startswith(f"{path}:6: ")


def test_error_in_a_multiline_record_reports_its_first_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "utterance,intent\n"  # 1
        "ok,greet\n"  # 2
        '"a\nb",greet,extra\n',  # 3-4
    )
    err = _error(path)
    assert err.line == 3


def test_blank_rows_are_skipped_and_do_not_shift_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\n\nhello,greet\n , \nbye,goodbye\n")
    assert [(e.text, e.line) for e in _read(path)] == [("hello", 3), ("bye", 5)]


def test_header_names_are_detected_case_and_space_insensitively(tmp_path: Path) -> None:
    path = _write(tmp_path, " Utterance , INTENT ,Response\nhello,greet,Hi!\n")
    assert _read(path) == [Example(text="hello", intent="greet", line=2, response="Hi!")]


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        ("text,label", "hello,greet", ("hello", "greet", None)),
        ("instruction,intent,answer", "hello,greet,Hi there", ("hello", "greet", "Hi there")),
        ("question,label,reply", "hello,greet,Hey", ("hello", "greet", "Hey")),
        ("message,intent", "hello,greet", ("hello", "greet", None)),
    ],
)
def test_detected_layouts(tmp_path: Path, header: str, row: str, expected: tuple) -> None:
    path = _write(tmp_path, f"{header}\n{row}\n")
    [ex] = _read(path)
    assert (ex.text, ex.intent, ex.response) == expected


def test_explicit_columns_override_detection(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "utterance,intent,clean_text,fine_label,bot_answer,response\n"
        "raw one,coarse,clean one,fine_a,answer a,ignored a\n",
    )
    [ex] = _read(path, Columns(text="clean_text", intent="fine_label", response="bot_answer"))
    assert (ex.text, ex.intent, ex.response) == ("clean one", "fine_a", "answer a")
    # Without the flags the usual names are used.
    [ex] = _read(path)
    assert (ex.text, ex.intent, ex.response) == ("raw one", "coarse", "ignored a")


def test_explicit_columns_with_unusual_names(tmp_path: Path) -> None:
    path = _write(tmp_path, "msg_body,topic\nwhere is my parcel,track\n")
    assert _read(path, Columns(text="msg_body", intent="topic")) == [
        Example(text="where is my parcel", intent="track", line=2)
    ]


def test_entities_are_read_with_their_offsets(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        ENTITY_HEADER + "cancel order 12345 now,cancel_order,order_id,12345,13,18\ncancel my order,cancel_order,,,,\n",
    )
    first, second = _read(path)
    assert first.entities == (Entity(start=13, end=18, type="order_id", value="12345"),)
    assert second.entities == ()


def test_intent_cell_is_stripped(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\nhello,  greet \n")
    assert _read(path)[0].intent == "greet"


# --- errors ------------------------------------------------------------------


def test_missing_intent_column_lists_the_columns_and_the_nearest_match(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intnt,category\nhello,greet,GREETING\n")
    err = _error(path)
    assert err.path == str(path)
    assert err.line is None
    assert "intent" in err.message
    assert "columns found: utterance, intnt, category" in err.message
    assert "did you mean 'intnt'" in err.message
    assert "--intent-column intnt" in err.message


def test_missing_intent_column_without_a_near_match_says_which_flag_to_use(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,category\nhello,GREETING\n")
    err = _error(path)
    assert "columns found: utterance, category" in err.message
    assert "--intent-column" in err.message
    assert "did you mean" not in err.message


def test_missing_text_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterence,intent\nhello,greet\n")
    err = _error(path)
    assert "utterance text" in err.message
    assert "did you mean 'utterence'" in err.message
    assert "--text-column" in err.message


def test_misspelled_explicit_text_column_suggests_the_real_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "flags,utterance,category,intent\nB,hello,GREETING,greet\n")
    err = _error(path, Columns(text="utterence"))
    assert err.path == str(path)
    assert "no column 'utterence'" in err.message
    assert "did you mean 'utterance'?" in err.message
    assert "columns found: flags, utterance, category, intent" in err.message


def test_misspelled_explicit_intent_column_suggests_the_real_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\nhello,greet\n")
    err = _error(path, Columns(intent="intents"))
    assert "no column 'intents'" in err.message
    assert "did you mean 'intent'?" in err.message


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"], ids=["empty", "bom-only"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content)
    err = _error(path)
    assert err.path == str(path)
    assert "empty" in err.message


def test_header_only_file_yields_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\n")
    assert _read(path) == []


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    err = _error(path)
    assert err.path == str(path)
    assert "not found" in err.message
    assert str(err) == f"{path}: file not found"


def test_a_directory_is_not_a_corpus(tmp_path: Path) -> None:
    err = _error(tmp_path)
    assert err.path == str(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        "utterance,intent\nhello,greet\ncafé au lait,order\n".encode("latin-1"),
        "utterance,intent\ncafé,order\n".encode("cp1252"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe\xfd",
        bytes(range(255, -1, -1)),
    ],
    ids=["latin-1", "cp1252", "png", "binary"],
)
def test_non_utf8_input_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content)
    err = _error(path)
    assert err.path == str(path)
    assert str(path) in str(err)
    assert "UTF-8" in err.message
    # Wrapped, not leaked: the cause is kept for debugging only.
    assert isinstance(err.__cause__, UnicodeDecodeError)


def test_non_utf8_byte_far_into_the_file_is_still_reported(tmp_path: Path) -> None:
    # Far beyond the first read buffer, so it is hit while reading rows.
    content = b"utterance,intent\n" + b"hello there,greet\n" * 3000 + "café,order\n".encode("latin-1")
    path = _write(tmp_path, content)
    err = _error(path)
    assert err.path == str(path)
    assert "UTF-8" in err.message


def test_non_utf8_error_reports_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\nhi,greet\nhello,greet\nbye,goodbye\ncafé,order\n".encode("latin-1"))
    assert _error(path).line == 5


def test_nul_byte_is_a_conversion_error_with_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b"utterance,intent\nhello,greet\nhi\x00,greet\n")
    err = _error(path)
    assert err.path == str(path)
    assert err.line == 3


@pytest.mark.parametrize(
    ("row", "count"),
    [("bye,goodbye,extra", 3), ("just one field", 1)],
    ids=["too-many", "too-few"],
)
def test_row_with_wrong_number_of_fields(tmp_path: Path, row: str, count: int) -> None:
    path = _write(tmp_path, f"utterance,intent\nhello,greet\nhi,greet\n{row}\nlater,greet\n")
    err = _error(path)
    assert err.line == 4
    assert str(err).startswith(f"{path}:4: ")
    assert f"row has {count} fields" in err.message
    assert "header has 2" in err.message


def test_examples_before_a_bad_row_are_yielded_first(tmp_path: Path) -> None:
    path = _write(tmp_path, "utterance,intent\nhello,greet\nbad,row,here\n")
    reader = read_csv(path)
    assert next(reader).text == "hello"
    with pytest.raises(ConversionError):
        next(reader)


def test_entity_offsets_that_do_not_match_the_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        ENTITY_HEADER + "cancel order 12345 now,cancel_order,order_id,12345,13,18\n"
        "cancel order 12345 now,cancel_order,order_id,12345,12,17\n",
    )
    err = _error(path)
    assert err.line == 3
    assert str(err).startswith(f"{path}:3: ")
    assert "'12345'" in err.message
    assert "order_id" in err.message
    assert "12-17" in err.message
    assert "' 1234'" in err.message  # what is really there


@pytest.mark.parametrize(
    ("start", "end"),
    [("20", "25"), ("-1", "4"), ("5", "5"), ("7", "3")],
    ids=["past-end", "negative", "empty-span", "reversed"],
)
def test_entity_offsets_out_of_range(tmp_path: Path, start: str, end: str) -> None:
    path = _write(tmp_path, ENTITY_HEADER + f"order 12345,track,order_id,12345,{start},{end}\n")
    err = _error(path)
    assert err.line == 2
    assert str(path) in str(err)


def test_entity_offsets_that_are_not_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, ENTITY_HEADER + "order 12345,track,order_id,12345,six,11\n")
    err = _error(path)
    assert err.line == 2
    assert "whole numbers" in err.message


@pytest.mark.parametrize("cell", ["", "   "], ids=["empty", "blank"])
def test_empty_intent_cell(tmp_path: Path, cell: str) -> None:
    path = _write(tmp_path, f"utterance,intent\nhello,greet\nwhere is my order,{cell}\n")
    err = _error(path)
    assert err.line == 3
    assert str(err) == f"{path}:3: empty intent in column 'intent'"


def test_empty_intent_cell_names_the_explicit_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "msg,topic\nhello,\n")
    err = _error(path, Columns(text="msg", intent="topic"))
    assert "'topic'" in err.message
    assert err.line == 2


def test_blank_line_before_the_header_is_not_reported_as_an_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "\nutterance,intent\nhello,greet\n")
    try:
        _read(path)
    except ConversionError as err:
        assert "empty" not in err.message
