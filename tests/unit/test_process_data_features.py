"""Unit tests for the converter's options: layouts and flags, conflicts, responses, split, strict, summary."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.loading import load_data

from process_data import ConversionError, convert_csv
from process_data.api import load_responses
from process_data.convert import (
    CleaningOptions,
    build_training_data,
    clean_plain,
    clean_text,
    is_clean,
    normalize,
    safe_name,
)
from process_data.csv_reader import Columns, CsvReader, read_csv
from process_data.model import Entity, Example
from process_data.split import split_train_test
from process_data.summary import ProgressBar, print_warnings, render_summary

pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed")


def write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def ex(text: str, intent: str, line: int = 2, response: str | None = None) -> Example:
    return Example(text, intent, line, response)


def rasa_texts(path: Path) -> list[tuple[str, str]]:
    return sorted((m.get("text"), m.get("intent")) for m in load_data(str(path)).training_examples)


# --- delimiters, encodings, columns -------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    path = write(tmp_path / "c.csv", f"utterance{d}intent\nhello, there{d}greet\n")
    if d == ",":
        path = write(tmp_path / "c.csv", 'utterance,intent\n"hello, there",greet\n')
    reader = CsvReader(path)
    assert reader.layout.delimiter == d
    assert [r[:2] for r in reader] == [("hello, there", "greet")]


@pytest.mark.parametrize(("flag", "char"), [(";", ";"), ("tab", "\t"), ("\\t", "\t"), ("|", "|")])
def test_delimiter_flag_overrides_detection(tmp_path: Path, flag: str, char: str) -> None:
    path = write(tmp_path / "c.csv", f"utterance{char}intent\na,b{char}greet\n")
    assert [e.text for e in read_csv(path, delimiter=flag)] == ["a,b"]


def test_bad_delimiter_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent\na,greet\n")
    with pytest.raises(ConversionError, match="one character"):
        list(read_csv(path, delimiter=";;"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_detected(tmp_path: Path, encoding: str) -> None:
    text = "utterance,intent\nwo ist meine Bestellung,track\nпривет 😀,greet\n"
    raw = text.encode(encoding)
    if encoding != "utf-16":  # add the BOM the codec left out
        raw = ("\ufeff" + text).encode(encoding)
    path = write(tmp_path / "c.csv", raw)
    assert [e.text for e in read_csv(path)] == ["wo ist meine Bestellung", "привет 😀"]


def test_encoding_flag_reads_a_latin1_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent\ncafé au lait,order\n".encode("cp1252"))
    with pytest.raises(ConversionError, match="--encoding cp1252"):
        list(read_csv(path))
    assert [e.text for e in read_csv(path, encoding="cp1252")] == ["café au lait"]


def test_unknown_encoding_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent\na,b\n")
    with pytest.raises(ConversionError, match="unknown encoding 'klingon'"):
        list(read_csv(path, encoding="klingon"))


def test_binary_file_says_binary(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe\xfd" * 20)
    with pytest.raises(ConversionError, match="binary data"):
        list(read_csv(path))


def test_quoted_newlines_keep_the_record_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", 'utterance,intent\n"line one\nline two",greet\nnext,greet\n')
    assert [(e.text, e.line) for e in read_csv(path)] == [("line one\nline two", 2), ("next", 4)]


def test_entity_columns_by_flag(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,label,kind,what,from,to\norder 77 please,track,order_id,77,6,8\n")
    cols = Columns(entity_type="kind", entity_value="what", entity_start="from", entity_end="to")
    [example] = read_csv(path, cols)
    assert example.entities == (Entity(6, 8, "order_id", "77"),)


def test_entity_without_offsets_is_located_in_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent,entity_type,entity_value\nsend it to Porto,ship,city,porto\n")
    reader = CsvReader(path)
    [row] = list(reader)
    assert row[4] == (Entity(11, 16, "city", "Porto"),)
    assert reader.stats.entity_located == 1


def test_entity_without_offsets_that_is_not_in_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent,entity_type,entity_value\nsend it,ship,city,Porto\n")
    with pytest.raises(ConversionError, match="'Porto' .* is not in the text") as info:
        list(read_csv(path))
    assert info.value.line == 2


def test_entity_value_differing_only_in_case_takes_the_text_and_is_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.csv",
        "utterance,intent,entity_type,entity_value,start_offset,end_offset\nmy Gold plan,upgrade,plan,gold,3,7\n",
    )
    reader = CsvReader(path)
    [row] = list(reader)
    assert row[4] == (Entity(3, 7, "plan", "Gold"),)
    assert reader.stats.entity_case_fixed == 1


def test_entity_type_column_without_value_column(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent,entity_type\nhi,greet,x\n")
    with pytest.raises(ConversionError, match="entity type but none for the entity value"):
        CsvReader(path)


def test_one_column_given_for_two_roles(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\n")
    with pytest.raises(ConversionError, match="two roles: 'utterance' is the utterance text \\(--text-column\\) and"):
        CsvReader(path, Columns(text="utterance", response="utterance"))


def test_a_required_role_whose_only_column_is_given_for_another_says_so(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\n")
    with pytest.raises(ConversionError, match="no column for the utterance text .*'utterance' is the response"):
        CsvReader(path, Columns(response="utterance"))


def test_category_column_is_detected_and_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.csv",
        "\ufeffflags,utterance,category,intent\nB,hi,GREETING,greet\nB,hello,GREETING,greet\nB,bye,END,bye\n"
        "B,ciao,END,bye\n",
    )
    result = convert_csv(path, tmp_path / "out")
    assert result.data.stats["categories"] == 2
    assert "category=category" in result.detected
    assert "flags" not in (tmp_path / "out" / "data" / "nlu.yml").read_text(encoding="utf-8")


def test_explicit_category_column_misspelled(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,intent,category\nhi,greet,G\n")
    with pytest.raises(ConversionError, match="did you mean 'category'"):
        CsvReader(path, Columns(category="categroy"))


# --- the quick test of the hot path agrees with normalisation ------------------------------


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_is_clean_is_true_exactly_when_normalize_changes_nothing(text: str) -> None:
    assert is_clean(text) == (bool(text) and normalize(text)[0] == text)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="utf-8"), max_size=40))
def test_build_gives_the_same_texts_as_normalize(text: str) -> None:
    data = build_training_data([ex(text, "greet")], options=CleaningOptions(min_examples=0))
    expected = normalize(text)[0]
    assert [e.text for e in data.examples.get("greet", [])] == ([expected] if expected else [])


def _reference_clean(text: str, brackets: bool = True) -> str:
    """The plain per-character definition of cleaning the fast functions must match."""
    out = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn"):
            out.append({"[": "(", "]": ")"}.get(ch, ch) if brackets else ch)
    return " ".join("".join(out).split())


_ODD = st.one_of(
    st.characters(),
    st.sampled_from(list("\x00\x07\t\n\x0b\x1c\x1f\x7f\x85\x9f\xa0\u2028\u3000\ud800\ue000\U000f0000\u0378[] ")),
)


@settings(max_examples=500, deadline=None)
@given(st.text(_ODD, max_size=40))
def test_fast_cleaning_matches_the_per_character_definition(text: str) -> None:
    assert clean_plain(text) == _reference_clean(text)
    assert normalize(text)[0] == _reference_clean(text)
    assert clean_text(text) == _reference_clean(text, brackets=False)


def test_safe_name_is_cached_and_stable() -> None:
    assert safe_name("Order Status!") == "order_status" == safe_name("Order Status!")


# --- conflicts -----------------------------------------------------------------------------


def _conflicted() -> list[Example]:
    return [
        ex("where is my refund", "track_refund", 2),
        ex("where is my refund", "get_refund", 3),
        ex("Where is my refund", "get_refund", 4),
        ex("hello", "greet", 5),
        ex("hi", "greet", 6),
        ex("refund status", "track_refund", 7),
        ex("give money back", "get_refund", 8),
    ]


def _adds_up(data) -> None:
    s = data.stats
    dropped = s["dropped: empty text"] + s["dropped: duplicate"] + s["dropped: same text, other intent"]
    assert s["kept"] + dropped == s["rows read"]
    assert s["kept"] == sum(len(v) for v in data.examples.values())


def test_conflicts_first_keeps_the_first_and_reports_both_lines() -> None:
    data = build_training_data(_conflicted())
    assert [e.text for e in data.examples["track_refund"]] == ["where is my refund", "refund status"]
    assert data.stats["dropped: same text, other intent"] == 2
    assert any("line 3" in w and "line 2" in w for w in data.warnings)
    _adds_up(data)


def test_conflicts_majority_moves_the_text_to_the_most_frequent_intent() -> None:
    data = build_training_data(_conflicted(), options=CleaningOptions(conflicts="majority"))
    assert [e.text for e in data.examples["track_refund"]] == ["refund status"]
    # Both spellings of the majority go with it: case variants are examples of their own.
    assert [(e.text, e.line) for e in data.examples["get_refund"]] == [
        ("give money back", 8),
        ("where is my refund", 3),
        ("Where is my refund", 4),
    ]
    [warning] = [w for w in data.warnings if "majority" in w]
    assert "line 2" in warning and "line 3" in warning and "'get_refund'" in warning and "1 to 2" in warning
    assert data.stats["dropped: same text, other intent"] == 1
    _adds_up(data)


def test_conflicts_majority_with_folded_case_moves_one_text() -> None:
    data = build_training_data(_conflicted(), options=CleaningOptions(conflicts="majority", fold_case=True))
    assert [(e.text, e.line) for e in data.examples["get_refund"]] == [
        ("give money back", 8),
        ("where is my refund", 3),
    ]
    assert data.stats["dropped: same text, other intent"] == 2
    _adds_up(data)


def test_conflicts_majority_tie_goes_to_the_first() -> None:
    data = build_training_data(
        [ex("x y", "a", 2), ex("x y", "b", 3), ex("p", "a"), ex("q", "b")],
        options=CleaningOptions(conflicts="majority"),
    )
    assert [e.text for e in data.examples["a"]] == ["x y", "p"]
    assert [e.text for e in data.examples["b"]] == ["q"]
    _adds_up(data)


def test_conflicts_majority_counts_repeats_after_the_conflict() -> None:
    rows = [ex("x y", "a", 2), ex("x y", "b", 3), ex("x y", "a", 4), ex("x y", "b", 5), ex("x y", "b", 6)]
    data = build_training_data(rows, options=CleaningOptions(conflicts="majority", min_examples=0))
    assert list(data.examples) == ["b"]
    assert data.examples["b"][0].line == 3
    _adds_up(data)


def test_conflicts_drop_removes_the_text_everywhere() -> None:
    data = build_training_data(_conflicted(), options=CleaningOptions(conflicts="drop"))
    assert "where is my refund" not in [e.text for v in data.examples.values() for e in v]
    assert data.stats["dropped: same text, other intent"] == 3
    assert any("dropped it from all" in w and "line 2" in w and "line 3" in w for w in data.warnings)
    _adds_up(data)


def test_conflicts_drop_can_empty_an_intent() -> None:
    data = build_training_data(
        [ex("a", "x"), ex("a", "y"), ex("b", "z"), ex("c", "z")], options=CleaningOptions(conflicts="drop")
    )
    assert list(data.examples) == ["z"]
    _adds_up(data)


def test_unknown_conflict_policy() -> None:
    with pytest.raises(ValueError, match="conflicts"):
        CleaningOptions(conflicts="vote")  # type: ignore[arg-type]


# --- names, warnings -----------------------------------------------------------------------


def test_renamed_labels_are_listed_and_merges_warned_about() -> None:
    data = build_training_data([ex("a", "Order Status"), ex("b", "order_status"), ex("c", "greet"), ex("d", "greet")])
    assert data.renamed == {"Order Status": "order_status"}
    assert any("'Order Status', 'order_status'" in w and "merged" in w for w in data.warnings)


def test_class_imbalance_is_warned_about() -> None:
    rows = [ex(f"big {i}", "big") for i in range(30)] + [ex("s1", "small"), ex("s2", "small")]
    data = build_training_data(rows)
    assert any("imbalance" in w and "'big'" in w and "'small'" in w for w in data.warnings)
    assert not any(
        "imbalance" in w for w in build_training_data(rows, options=CleaningOptions(max_imbalance=20)).warnings
    )
    assert not any(
        "imbalance" in w for w in build_training_data(rows, options=CleaningOptions(max_imbalance=0)).warnings
    )


def test_min_examples_is_configurable() -> None:
    rows = [ex("a", "x"), ex("b", "x"), ex("c", "y"), ex("d", "y"), ex("e", "y")]
    assert build_training_data(rows).warnings == []
    assert build_training_data(rows, options=CleaningOptions(min_examples=3)).warnings == [
        "intent 'x' has only 2 example(s)"
    ]


# --- responses ---------------------------------------------------------------------------


def test_responses_file_yaml_overrides_the_column_and_adds_variations(tmp_path: Path) -> None:
    src = write(
        tmp_path / "c.csv", "utterance,intent,response\nhi,greet,Hey\nhello,greet,\nbye,Bye Bye,\nciao,Bye Bye,\n"
    )
    answers = write(tmp_path / "r.yml", 'greet: ["Hello!", "Hi there!"]\nBye Bye: "See you: soon #1"\nghost: Boo\n')
    result = convert_csv(src, tmp_path / "out", responses=answers)
    domain = Domain.load(tmp_path / "out" / "domain.yml")
    assert domain.responses["utter_greet"] == [{"text": "Hello!"}, {"text": "Hi there!"}]
    assert domain.responses["utter_bye_bye"] == [{"text": "See you: soon #1"}]
    assert any("'ghost'" in w for w in result.data.warnings)
    assert result.data.placeholders == []


def test_responses_file_csv_and_rasa_style(tmp_path: Path) -> None:
    csv_file = write(tmp_path / "r.csv", 'intent,response\ngreet,"Hello, you"\ngreet,Hi\n')
    assert load_responses(csv_file) == {"greet": ["Hello, you", "Hi"]}
    rasa_style = write(tmp_path / "r.yml", "responses:\n  utter_greet:\n  - text: Hello\n  - text: Hi\n")
    assert load_responses(rasa_style) == {"greet": ["Hello", "Hi"]}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.yml", None, "not found"),
        ("bad.yml", "a: [b\n", "not valid YAML"),
        ("list.yml", "- a\n- b\n", "mapping of intent names"),
        ("nested.yml", "greet: {a: b}\n", "text or a list of texts"),
        ("cols.csv", "name,value\na,b\n", "needs an 'intent' and a 'response' column"),
        ("empty.csv", "", "empty"),
    ],
)
def test_bad_responses_files(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        write(path, content)
    with pytest.raises(ConversionError, match=message) as info:
        load_responses(path)
    assert info.value.path == str(path)


def test_placeholder_responses_are_counted_and_validate(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\nhello,greet\n")
    result = convert_csv(src, tmp_path / "out")
    assert result.data.placeholders == ["greet"]
    assert result.data.stats["placeholder responses"] == 1
    assert "No answer written yet" in Domain.load(tmp_path / "out" / "domain.yml").responses["utter_greet"][0]["text"]


# --- split ---------------------------------------------------------------------------------


def _many() -> list[Example]:
    return [
        ex(f"{intent} text {i}", intent, i + 2)
        for intent, n in (("a", 50), ("b", 10), ("c", 3), ("d", 1))
        for i in range(n)
    ]


def test_split_is_stratified_and_keeps_one_for_training() -> None:
    data = build_training_data(_many(), options=CleaningOptions(min_examples=0, max_imbalance=0))
    split_train_test(data, 0.2, seed=1)
    test = {k: len(v) for k, v in data.test_examples.items()}
    train = {k: len(v) for k, v in data.examples.items()}
    assert test == {"a": 10, "b": 2, "c": 1}
    assert train == {"a": 40, "b": 8, "c": 2, "d": 1}
    assert data.stats["test examples"] == 13 and data.stats["train examples"] == 51


def test_split_is_seeded_and_keeps_the_corpus_order() -> None:
    def run(seed: int) -> list[str]:
        data = build_training_data(_many(), options=CleaningOptions(min_examples=0, max_imbalance=0))
        split_train_test(data, 0.3, seed=seed)
        for examples in (*data.examples.values(), *data.test_examples.values()):
            assert [e.line for e in examples] == sorted(e.line for e in examples)
        return [e.text for v in data.test_examples.values() for e in v]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_split_keeps_case_variants_on_one_side() -> None:
    # 10 texts, each in two spellings: 20 examples, 10 units of the draw.
    rows = [ex(text, "a", 2 * i + 2) for i in range(10) for text in (f"text {i}", f"TEXT {i}")]
    for seed in range(20):
        data = build_training_data(rows)
        assert data.stats["case variants kept"] == 10
        split_train_test(data, 0.3, seed=seed)
        test = [e.text for e in data.test_examples["a"]]
        train = {e.text.casefold() for e in data.examples["a"]}
        assert len(test) == 6  # 3 of the 10 units, both spellings each
        assert not {t.casefold() for t in test} & train
    # Without case variants the draw is over examples, as before.
    plain = build_training_data(rows[::2])
    split_train_test(plain, 0.3, seed=0)
    assert len(plain.test_examples["a"]) == 3


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_split_fraction_out_of_range(fraction: float, tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\nhello,greet\n")
    with pytest.raises(ConversionError, match="test fraction"):
        convert_csv(src, tmp_path / "out", test_fraction=fraction)


def test_split_writes_a_test_file_rasa_reads(tmp_path: Path) -> None:
    rows = "".join(f"text {i} for {intent},{intent}\n" for intent in ("alpha", "beta") for i in range(10))
    src = write(tmp_path / "c.csv", "utterance,intent\n" + rows)
    result = convert_csv(src, tmp_path / "out", test_fraction=0.3, test_file="eval/held_out.yml")
    test = rasa_texts(tmp_path / "out" / "eval" / "held_out.yml")
    train = rasa_texts(tmp_path / "out" / "data" / "nlu.yml")
    assert len(test) == 6 and len(train) == 14
    assert not set(test) & set(train)
    assert sorted(test + train) == sorted((f"text {i} for {n}", n) for n in ("alpha", "beta") for i in range(10))
    assert tmp_path / "out" / "eval" / "held_out.yml" in result.files


# --- stories, strict -------------------------------------------------------------------------


def test_stories_are_written_and_read_by_rasa(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\nhello,greet\nbye,bye\nciao,bye\n")
    convert_csv(src, tmp_path / "out", stories=True)
    domain = Domain.load(tmp_path / "out" / "domain.yml")
    steps = YAMLStoryReader(domain).read_from_file(tmp_path / "out" / "data" / "stories.yml")
    assert [s.block_name for s in steps] == ["greet", "bye"]


def test_strict_turns_warnings_into_an_error_and_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\nhello,greet\nbye,bye\n")
    with pytest.raises(ConversionError, match="--strict: intent 'bye' has only 1 example") as info:
        convert_csv(src, tmp_path / "out", strict=True)
    assert info.value.path == str(src)
    assert not (tmp_path / "out").exists()
    convert_csv(src, tmp_path / "out", strict=True, cleaning=CleaningOptions(min_examples=1))


# --- summary ---------------------------------------------------------------------------------


def test_summary_lists_counts_intents_and_renamed_labels(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,Say Hello\nhello,Say Hello\nbye,bye\nciao,bye\n")
    result = convert_csv(src, tmp_path / "out", test_fraction=0.5)
    text = render_summary(result)
    assert text.startswith("summary of c.csv (encoding utf-8-sig, delimiter ',', columns: text=utterance")
    assert "examples per intent (train / test)" in text
    assert "  say_hello" in text and "1 / 1" in text
    assert "intent labels renamed\n  'Say Hello' -> say_hello\n" in text
    assert text.rstrip().endswith(f"wrote {tmp_path / 'out' / 'tests' / 'nlu_test.yml'}")


def test_print_warnings_caps_the_list() -> None:
    out = io.StringIO()
    print_warnings([f"w{i}" for i in range(60)], out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 51 and lines[-1] == "warning: ... and 10 more warnings like these"


def test_progress_bar_draws_and_clears() -> None:
    out = io.StringIO()
    bar = ProgressBar("reading big.csv", out)
    bar(50, 100)
    bar(100, 100)
    bar.close()
    assert "reading big.csv [" in out.getvalue() and "100%" in out.getvalue()
    assert out.getvalue().endswith("\r\x1b[K")


def test_progress_callback_is_called_on_large_inputs(tmp_path: Path) -> None:
    rows = "".join(f"text number {i},intent{i % 3}\n" for i in range(40000))
    src = write(tmp_path / "c.csv", "utterance,intent\n" + rows)
    calls: list[tuple[int, int]] = []
    convert_csv(src, tmp_path / "out", progress=lambda done, total: calls.append((done, total)))
    size = src.stat().st_size
    assert len(calls) >= 2 and calls[-1] == (size, size)
    assert all(0 < done <= total == size for done, total in calls)


# --- property: random CSVs with random layouts and options round-trip through Rasa ---------

_CHARS = st.one_of(
    st.characters(categories=("L", "Mn", "N", "P", "S", "Zs")),
    st.sampled_from(list(" \t\n:#-'\"{}[]|;,\u200b\xa0")),
)
_TEXT = st.one_of(st.text(_CHARS, max_size=25), st.sampled_from(["Hello", "hello ", "order 42", "  "]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(_TEXT, st.sampled_from(["greet", "Cancel Order", "refund!"])), min_size=1, max_size=10),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
    conflicts=st.sampled_from(["first", "majority", "drop"]),
    fraction=st.sampled_from([0.0, 0.3]),
)
def test_property_every_kept_row_is_read_back_by_rasa(
    tmp_path_factory: pytest.TempPathFactory, rows, delimiter: str, bom: bool, conflicts: str, fraction: float
) -> None:
    folder = tmp_path_factory.mktemp("prop2")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["utterance", "intent"])
    writer.writerows(rows)
    src = write(folder / "random.csv", ("\ufeff" if bom else "") + buffer.getvalue())
    out = folder / "bot"
    try:
        result = convert_csv(
            src,
            out,
            delimiter=delimiter,
            cleaning=CleaningOptions(conflicts=conflicts),  # type: ignore[arg-type]
            test_fraction=fraction,
        )
    except ConversionError as exc:
        assert "no usable rows" in exc.message
        assert not out.exists()
        return
    kept = sorted(
        (e.text, intent)
        for part in (result.data.examples, result.data.test_examples)
        for intent, examples in part.items()
        for e in examples
    )
    read_back = rasa_texts(out / "data" / "nlu.yml")
    if fraction:
        read_back = sorted(read_back + rasa_texts(out / "tests" / "nlu_test.yml"))
    assert read_back == kept
    # Every kept text is a normalised input row, under that row's intent (or, for a conflict, one of them).
    labels: dict[str, set[str]] = {}
    for text, label in rows:
        labels.setdefault(normalize(text)[0].casefold(), set()).add(safe_name(label))
    for text, intent in kept:
        assert intent in labels[text.casefold()]
    assert len({t for t, _ in kept}) == len(kept)  # no text twice (Rasa would warn)
    intent_of: dict[str, str] = {}
    for text, intent in kept:  # case variants only within one intent (Rasa's featurizers lower-case)
        assert intent_of.setdefault(text.casefold(), intent) == intent
    if fraction:  # and on one side of the split
        held_out = {e.text.casefold() for v in result.data.test_examples.values() for e in v}
        assert not held_out & {e.text.casefold() for v in result.data.examples.values() for e in v}
    s = result.data.stats
    dropped = s["dropped: empty text"] + s["dropped: duplicate"] + s["dropped: same text, other intent"]
    assert s["kept"] + dropped == s["rows read"] == len(rows)


def test_optional_files_of_an_earlier_run_are_removed_but_hand_written_ones_kept(tmp_path: Path) -> None:
    src = write(tmp_path / "c.csv", "utterance,intent\nhi,greet\nhello,greet\nhey,greet\n")
    out = tmp_path / "out"
    convert_csv(src, out, stories=True, test_fraction=0.34)
    assert (out / "data" / "stories.yml").is_file() and (out / "tests" / "nlu_test.yml").is_file()
    hand = write(out / "tests" / "test_stories.yml", "stories: []\n")
    result = convert_csv(src, out)
    assert not (out / "data" / "stories.yml").exists() and not (out / "tests" / "nlu_test.yml").exists()
    assert sorted(result.removed) == sorted([out / "data" / "stories.yml", out / "tests" / "nlu_test.yml"])
    assert hand.read_text(encoding="utf-8") == "stories: []\n"
    write(out / "data" / "stories.yml", "version: '3.1'\nstories: []\n")  # hand-written: not ours
    assert convert_csv(src, out).removed == []
    assert (out / "data" / "stories.yml").is_file()


# --- a column given by flag always wins over detection -------------------------------------

# Public intent corpora name the intent column 'category' (Banking77) or 'label'.
BANKING_ROWS = [
    ("how do I top up my card", "top_up_by_card"),
    ("my top-up failed", "top_up_failed"),
    ("where is my new card", "card_arrival"),
    ("the card has not arrived yet", "card_arrival"),
    ("top up did not work", "top_up_failed"),
    ("can I top up with a card", "top_up_by_card"),
]


def _corpus(path: Path, header: str) -> Path:
    return write(path, header + "\n" + "".join(f"{text},{intent}\n" for text, intent in BANKING_ROWS))


@pytest.mark.parametrize("intent_column", ["category", "label"])
def test_a_given_intent_column_wins_over_detection(tmp_path: Path, intent_column: str) -> None:
    src = _corpus(tmp_path / "train.csv", f"text,{intent_column}")
    result = convert_csv(src, tmp_path / "out", columns=Columns(text="text", intent=intent_column))
    assert f"text=text, intent={intent_column}" in result.detected
    assert "category=" not in result.detected
    assert result.data.stats["kept"] == len(BANKING_ROWS)
    assert list(result.data.examples) == ["top_up_by_card", "top_up_failed", "card_arrival"]
    assert "categories" not in result.data.stats
    if intent_column == "category":  # the detected category role is dropped, and the account says so
        assert result.notes == [
            "column 'category' is the intent (--intent-column), so no column is used as the category"
        ]
    else:
        assert result.notes == []
    assert result.data.warnings == []  # a note, not a warning: --strict does not fail on it
    assert rasa_texts(tmp_path / "out" / "data" / "nlu.yml") == sorted((text, intent) for text, intent in BANKING_ROWS)


def test_detection_looks_past_a_given_column_to_the_next_usual_name(tmp_path: Path) -> None:
    # 'text' is given as the intent: the utterance is found under its next usual name.
    path = write(tmp_path / "c.csv", "message,text\nhello there,greet\n")
    reader = CsvReader(path, Columns(intent="text"))
    assert (reader.layout.text, reader.layout.intent) == ("message", "text")
    assert reader.layout.notes == (
        "column 'text' is the intent (--intent-column), so the utterance text is column 'message'",
    )


def test_a_detected_entity_column_whose_partner_was_given_for_another_role_is_left_out(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,entity_type,entity_value\nhello,greet,x\nhi,greet,y\n")
    reader = CsvReader(path, Columns(intent="entity_type"))
    layout = reader.layout
    assert (layout.intent, layout.entity_type, layout.entity_value) == ("entity_type", None, None)
    assert layout.notes == (
        "column 'entity_type' is the intent (--intent-column), so no column is used as the entity type",
        "without a column for the entity type, column 'entity_value' is not used either",
    )
    assert [row[:2] for row in reader] == [("hello", "greet"), ("hi", "greet")]


def test_a_given_entity_column_whose_partner_was_taken_is_still_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "utterance,entity_type,entity_value\nhello,greet,x\n")
    with pytest.raises(ConversionError, match="entity value but none for the entity type"):
        CsvReader(path, Columns(intent="entity_type", entity_value="entity_value"))
