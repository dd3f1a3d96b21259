"""Unit tests for process_data's conversion, writers and api, checked against Rasa's own loaders."""

from __future__ import annotations

import csv
import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.training_data.loading import load_data

from process_data import ConversionError, convert_csv
from process_data.convert import CleaningOptions, build_training_data, normalize, safe_name
from process_data.model import Entity, Example
from process_data.writers import render_domain, render_nlu, render_rules, write_files

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "process_data" / "demo" / "demo_corpus.csv"
# Bitext's official split sits beside the repository (never copied into it).
BITEXT_TRAIN = REPO.parent / "shared" / "corpora" / "bitext-official" / "train.csv"

ENTITY_HEADER = ["utterance", "intent", "entity_type", "entity_value", "start_offset", "end_offset"]

# Rasa warns about slot auto-fill whenever a domain has slots; it says nothing about our files.
pytestmark = pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed")


# --- helpers -----------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def entity_row(text: str, intent: str, etype: str, value: str, response: str | None = None) -> list[str]:
    """A row of the entity layout; the entity is the first occurrence of ``value`` in ``text``."""
    start = text.index(value)
    row = [text, intent, etype, value, str(start), str(start + len(value))]
    return row if response is None else [*row, response]


def ex(text: str, intent: str = "greet", line: int = 2, entities: tuple[Entity, ...] = (), response=None) -> Example:
    return Example(text=text, intent=intent, line=line, response=response, entities=entities)


def ents_of(message) -> tuple[tuple[int, int, str, str], ...]:
    return tuple(sorted((e["start"], e["end"], e["value"], e["entity"]) for e in message.get("entities") or []))


def rasa_examples(out: Path) -> list[tuple[str, str, tuple]]:
    """What Rasa's own NLU loader reads from OUT/data/nlu.yml."""
    data = load_data(str(out / "data" / "nlu.yml"))
    return [(m.get("text"), m.get("intent"), ents_of(m)) for m in data.training_examples]


def expected_examples(data) -> list[tuple[str, str, tuple]]:
    return [
        (e.text, intent, tuple(sorted((n.start, n.end, n.value, n.type) for n in e.entities)))
        for intent, examples in data.examples.items()
        for e in examples
    ]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# --- safe_name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Cancel Order!", "cancel_order"),
        ("cancel_order", "cancel_order"),
        ("  Track-Order  ", "track_order"),
        ("check   invoice??", "check_invoice"),
        ("__weird__name__", "weird__name"),  # inner underscores are kept as they are
        ("Refund / Return (policy)", "refund_return_policy"),
        ("faq_2", "faq_2"),
    ],
)
def test_safe_name(label: str, name: str) -> None:
    assert safe_name(label) == name
    assert re.fullmatch(r"[a-z0-9]([a-z0-9_]*[a-z0-9])?", safe_name(label))


@pytest.mark.parametrize("label", ["???", "   ", "---", "¿¡"])
def test_safe_name_rejects_labels_without_letters_or_digits(label: str) -> None:
    with pytest.raises(ConversionError, match="no letters or digits"):
        safe_name(label)


# --- normalize -----------------------------------------------------------------


def test_whitespace_normalisation_keeps_entity_offsets_aligned() -> None:
    raw = "cancel   order  12345 now"
    start = raw.index("12345")
    text, (ent,) = normalize(raw, (Entity(start, start + 5, "order_id", "12345"),))
    assert text == "cancel order 12345 now"
    assert (ent.start, ent.end, ent.value, ent.type) == (13, 18, "12345", "order_id")
    assert text[ent.start : ent.end] == "12345"


def test_normalisation_with_leading_whitespace_tabs_newlines_and_control_characters() -> None:
    raw = "  \t where\x00 is\n\n order\u200b \x07 AB-12\r\n  please  "
    start = raw.index("AB-12")
    text, (ent,) = normalize(raw, (Entity(start, start + 5, "order_id", "AB-12"),))
    assert text == "where is order\u200b AB-12 please"
    assert text[ent.start : ent.end] == ent.value == "AB-12"


def test_entity_spanning_a_whitespace_run_is_collapsed_too() -> None:
    raw = "my card 1234   5678 was declined"
    start = raw.index("1234")
    end = raw.index("5678") + 4
    text, (ent,) = normalize(raw, (Entity(start, end, "card", raw[start:end]),))
    assert text == "my card 1234 5678 was declined"
    assert ent.value == "1234 5678"
    assert text[ent.start : ent.end] == "1234 5678"


def test_entity_with_surrounding_whitespace_is_trimmed() -> None:
    raw = "order   12345   please"
    start = raw.index("12345") - 2
    end = raw.index("12345") + 7
    text, (ent,) = normalize(raw, (Entity(start, end, "order_id", raw[start:end]),))
    assert text == "order 12345 please"
    assert (ent.start, ent.end, ent.value) == (6, 11, "12345")


def test_entity_of_only_whitespace_is_dropped() -> None:
    raw = "hello    there"
    text, ents = normalize(raw, (Entity(6, 9, "x", "   "),))
    assert text == "hello there"
    assert ents == ()


def test_square_brackets_are_replaced_so_they_cannot_be_read_as_markup() -> None:
    text, _ = normalize("[cancel](order) my [order]")
    assert "[" not in text and "]" not in text
    assert text == "(cancel)(order) my (order)"


def test_render_nlu_writes_no_markup_for_bracketed_text() -> None:
    data = build_training_data([ex("[not](an_entity) and [brackets]", line=2), ex("plain", line=3)])
    nlu = render_nlu(data, "x.csv")
    example_lines = [line for line in nlu.splitlines() if line.startswith("    - ")]
    assert example_lines == ["    - (not)(an_entity) and (brackets)", "    - plain"]


def test_render_nlu_annotates_entities() -> None:
    raw = "cancel   order  12345 now"
    start = raw.index("12345")
    data = build_training_data([ex(raw, "cancel_order", entities=(Entity(start, start + 5, "order_id", "12345"),))])
    assert "    - cancel order [12345](order_id) now\n" in render_nlu(data, "x.csv")


# --- build_training_data ---------------------------------------------------------


def test_exact_duplicates_are_dropped_and_counted() -> None:
    data = build_training_data(
        [
            ex("where is my order", "track", 2),
            ex("where is my order", "track", 3),
            ex("where  is my order ", "track", 4),  # the same after normalising whitespace
            ex("where is my parcel", "track", 5),
        ]
    )
    assert [e.text for e in data.examples["track"]] == ["where is my order", "where is my parcel"]
    assert [e.line for e in data.examples["track"]] == [2, 5]
    assert data.stats["rows read"] == 4
    assert data.stats["kept"] == 2
    assert data.stats["dropped: duplicate"] == 2
    assert data.stats["dropped: same text, other intent"] == 0
    assert data.stats["case variants kept"] == 0
    assert data.warnings == []


CASE_ROWS = [
    ex("where is my order", "track", 2),
    ex("Where  is my ORDER ", "track", 3),  # differs only in case (after normalising whitespace)
    ex("Where is my ORDER", "track", 4),  # a repeat of line 3
    ex("WHERE IS MY ORDER", "track", 5),
    ex("where is my parcel", "track", 6),
]


def test_case_variants_are_distinct_examples_by_default() -> None:
    data = build_training_data(CASE_ROWS)
    assert [(e.text, e.line) for e in data.examples["track"]] == [
        ("where is my order", 2),
        ("Where is my ORDER", 3),
        ("WHERE IS MY ORDER", 5),
        ("where is my parcel", 6),
    ]
    assert data.stats["kept"] == 4
    assert data.stats["dropped: duplicate"] == 1
    assert data.stats["case variants kept"] == 2
    assert data.warnings == []


def test_fold_case_drops_case_variants_as_duplicates() -> None:
    data = build_training_data(CASE_ROWS, options=CleaningOptions(fold_case=True))
    assert [e.text for e in data.examples["track"]] == ["where is my order", "where is my parcel"]
    assert data.stats["kept"] == 2
    assert data.stats["dropped: duplicate"] == 3
    assert data.stats["case variants folded"] == 3
    assert "case variants kept" not in data.stats


def test_case_variants_keep_their_own_entities() -> None:
    rows = [
        Example("cancel order 123", "cancel", 2, None, (Entity(13, 16, "order_id", "123"),)),
        Example("Cancel Order 123", "cancel", 3, None, (Entity(13, 16, "order_id", "123"),)),
        Example("upgrade to gold", "upgrade", 4, None, (Entity(11, 15, "plan", "gold"),)),
        Example("Upgrade to Gold", "upgrade", 5, None, (Entity(11, 15, "plan", "Gold"),)),
    ]
    data = build_training_data(rows)
    assert [(e.text, e.entities) for v in data.examples.values() for e in v] == [(r.text, r.entities) for r in rows]
    assert data.stats["entity annotations"] == 4
    folded = build_training_data(rows, options=CleaningOptions(fold_case=True))
    assert folded.stats["entity annotations"] == 2


def test_a_case_variant_under_another_intent_is_a_conflict() -> None:
    # Rasa's featurizers lower-case: 'Hi' under one intent and 'hi' under another contradict each other.
    rows = [ex("Hi", "greet", 2), ex("hello", "greet", 3), ex("hi", "wave", 4), ex("yo", "wave")]
    data = build_training_data(rows, options=CleaningOptions(min_examples=0))
    assert [e.text for e in data.examples["greet"]] == ["Hi", "hello"]
    assert [e.text for e in data.examples["wave"]] == ["yo"]
    assert data.stats["dropped: same text, other intent"] == 1
    [warning] = data.warnings
    assert "line 4: 'hi' is labelled 'wave' but line 2 labels it 'greet' (as 'Hi': only the case differs)" in warning


@pytest.mark.parametrize("conflicts", ["majority", "drop"])
def test_case_variants_move_or_go_together_when_a_conflict_is_resolved(conflicts: str) -> None:
    rows = [
        ex("Hi", "greet", 2),
        ex("hi", "greet", 3),  # a case variant, kept with line 2
        ex("HI", "wave", 4),
        ex("hi", "wave", 5),
        ex("HI", "wave", 6),
        ex("hello", "greet", 7),
        ex("yo", "wave", 8),
    ]
    data = build_training_data(rows, options=CleaningOptions(conflicts=conflicts))  # type: ignore[arg-type]
    texts = {intent: [e.text for e in v] for intent, v in data.examples.items()}
    if conflicts == "majority":  # 3 rows to 2: 'wave' wins, with its two distinct variants
        assert texts == {"greet": ["hello"], "wave": ["yo", "HI", "hi"]}
        assert data.stats["case variants kept"] == 1
    else:
        assert texts == {"greet": ["hello"], "wave": ["yo"]}
        assert data.stats["case variants kept"] == 0
    s = data.stats
    assert s["kept"] + s["dropped: duplicate"] + s["dropped: same text, other intent"] == s["rows read"] == 7


def test_same_text_under_two_intents_is_kept_under_the_first_and_reported() -> None:
    data = build_training_data(
        [
            ex("i want my money back", "get_refund", 7),
            ex("refund please", "get_refund", 8),
            ex("I want my money back", "Track Refund", 12),
            ex("where is my refund", "Track Refund", 13),
            ex("has my refund been sent", "Track Refund", 14),
        ]
    )
    assert [e.text for e in data.examples["get_refund"]] == ["i want my money back", "refund please"]
    assert "I want my money back" not in [e.text for e in data.examples["track_refund"]]
    assert data.stats["dropped: same text, other intent"] == 1
    assert data.stats["dropped: duplicate"] == 0
    [warning] = data.warnings
    assert "line 12" in warning and "line 7" in warning
    assert "'track_refund'" in warning and "'get_refund'" in warning
    assert "kept the first" in warning


def test_labels_that_differ_only_in_case_and_punctuation_are_one_intent() -> None:
    data = build_training_data([ex("a b", "Cancel Order"), ex("c d", "cancel_order"), ex("e f", "CANCEL-ORDER!")])
    assert list(data.examples) == ["cancel_order"]
    assert len(data.examples["cancel_order"]) == 3


def test_empty_texts_are_dropped_and_counted() -> None:
    data = build_training_data([ex("hello"), ex("   "), ex("\x00\t\x07"), ex("hi there")])
    assert data.stats["dropped: empty text"] == 2
    assert data.stats["kept"] == 2


def test_intents_keep_first_seen_order_and_stats_add_up() -> None:
    data = build_training_data(
        [ex("z1", "zeta"), ex("a1", "alpha"), ex("z2", "zeta"), ex("m1", "mu"), ex("a2", "alpha"), ex("m2", "mu")]
    )
    assert list(data.examples) == ["zeta", "alpha", "mu"]
    assert data.stats["intents"] == 3
    s = data.stats
    dropped = s["dropped: empty text"] + s["dropped: duplicate"] + s["dropped: same text, other intent"]
    assert s["kept"] + dropped == s["rows read"]


def test_responses_first_non_empty_wins_and_whitespace_is_collapsed() -> None:
    data = build_training_data(
        [
            ex("hello", "greet", response="  "),
            ex("hi", "greet", response="Hello!\n  How can I   help?"),
            ex("hey", "greet", response="ignored"),
            ex("bye", "goodbye"),
            ex("see you", "goodbye"),
        ]
    )
    assert data.responses["greet"] == "Hello! How can I help?"
    assert "goodbye" in data.responses["goodbye"]  # a placeholder naming the intent


def test_an_intent_with_one_example_is_warned_about() -> None:
    data = build_training_data([ex("hello", "greet"), ex("hi", "greet"), ex("bye", "goodbye")])
    assert data.warnings == ["intent 'goodbye' has only 1 example(s)"]


def test_entity_types_are_sorted_and_counted() -> None:
    data = build_training_data(
        [
            ex("order 1", "a", entities=(Entity(6, 7, "order_id", "1"),)),
            ex("invoice 2", "a", entities=(Entity(8, 9, "invoice_id", "2"),)),
            ex("order 3", "a", entities=(Entity(6, 7, "order_id", "3"),)),
        ]
    )
    assert data.entity_types == ["invoice_id", "order_id"]
    assert data.stats["entity types"] == 2


# --- action map --------------------------------------------------------------------


def test_intents_mapped_to_an_action_get_a_rule_with_that_action_and_no_response() -> None:
    data = build_training_data(
        [ex("where is my order", "Order Status"), ex("track it", "Order Status"), ex("hi", "greet"), ex("yo", "greet")],
        {"Order Status": "action_check_order_status"},
    )
    assert data.actions == {"order_status": "action_check_order_status"}
    rules = render_rules(data, "x.csv")
    rule = "- rule: answer order_status\n  steps:\n  - intent: order_status\n  - action: action_check_order_status\n"
    assert rule in rules
    assert "utter_order_status" not in rules
    assert "- action: utter_greet\n" in rules
    domain = render_domain(data, "x.csv")
    assert "utter_order_status" not in domain
    assert "utter_greet" in domain
    assert "\nactions:\n- action_check_order_status\n" in domain


def test_action_map_naming_an_unknown_intent_is_a_warning() -> None:
    data = build_training_data([ex("hi", "greet"), ex("yo", "greet")], {"no_such_intent": "action_x"})
    assert data.actions == {}
    assert any("'no_such_intent'" in w for w in data.warnings)


def test_action_map_round_trips_through_rasa(tmp_path: Path) -> None:
    src = write_csv(
        tmp_path / "c.csv",
        ["utterance", "intent"],
        [["where is my order", "Order Status"], ["track order", "Order Status"], ["hello", "greet"], ["hi", "greet"]],
    )
    amap = tmp_path / "actions.yml"
    amap.write_text("Order Status: action_check_order_status\n", encoding="utf-8")
    out = tmp_path / "bot"
    convert_csv(src, out, action_map=amap)
    domain = Domain.load(out / "domain.yml")
    assert "utter_order_status" not in domain.responses
    assert "utter_greet" in domain.responses
    assert "action_check_order_status" in domain.user_actions
    rules = {
        step.block_name: [getattr(e, "intent_name", None) or getattr(e, "action_name", None) for e in step.events]
        for step in YAMLStoryReader(domain).read_from_file(out / "data" / "rules.yml")
    }
    assert rules["answer order_status"][-2:] == ["order_status", "action_check_order_status"]
    assert rules["answer greet"][-2:] == ["greet", "utter_greet"]


def test_action_map_with_an_unknown_intent_under_strict_writes_nothing(tmp_path: Path) -> None:
    src = write_csv(tmp_path / "c.csv", ["utterance", "intent"], [["hello", "greet"], ["hi", "greet"]])
    amap = tmp_path / "actions.yml"
    amap.write_text("order_status: action_check_order_status\n", encoding="utf-8")
    with pytest.raises(ConversionError, match="order_status"):
        convert_csv(src, tmp_path / "bot", action_map=amap, strict=True)
    assert not (tmp_path / "bot").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        ("a: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("greet:\n  nested: thing\n", "mapping"),
    ],
    ids=["missing", "bad-yaml", "list", "nested"],
)
def test_bad_action_map_files_name_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    src = write_csv(tmp_path / "c.csv", ["utterance", "intent"], [["hello", "greet"], ["hi", "greet"]])
    amap = tmp_path / "actions.yml"
    if content is not None:
        amap.write_text(content, encoding="utf-8")
    with pytest.raises(ConversionError, match=message) as info:
        convert_csv(src, tmp_path / "bot", action_map=amap)
    assert info.value.path == str(amap)
    assert not (tmp_path / "bot").exists()


# --- round trip through Rasa's loaders -----------------------------------------------

TRICKY = [
    # (text, intent, entity type, entity value) -- entity value None means no entity
    ("what's the status of order: 12345?", "Order Status", "order_id", "12345"),
    ("# not a comment", "Order Status", None, None),
    ("- leading dash", "Order Status", None, None),
    ("-- two dashes -", "Order Status", None, None),
    ('{"json": true}', "Order Status", None, None),
    ("{{Order Number}} is missing", "Order Status", None, None),
    ("'single' and \"double\" quotes", "Order Status", None, None),
    ("key: value # trailing", "Order Status", None, None),
    ("emoji 😀🚀 please, order A-77", "Order Status", "order_id", "A-77"),
    ("我的订单 8899 在哪里", "Order Status", "order_id", "8899"),
    ("أين طلبي رقم 4455؟", "Order Status", "order_id", "4455"),
    ("l'adresse d'expédition n'est pas bonne", "Change Address", None, None),
    ("tab\tseparated  and   spaced", "Change Address", None, None),
    ("| pipe > greater & amp * star ! bang % pct @ at `tick`", "Change Address", None, None),
    ("[not](an_entity) and [brackets]", "Change Address", None, None),
    ("ends with colon:", "Change Address", None, None),
    ("two\nlines", "Change Address", None, None),
    ("back\\slash C:\\users\\me", "Change Address", None, None),
    ("null", "Change Address", None, None),
    ("123", "Change Address", None, None),
    ("? ", "Change Address", None, None),
    ("invoice (INV-001) [urgent]", "Invoice", "invoice_id", "INV-001"),
    ('ship to "10 Downing St" please', "Invoice", "address", '"10 Downing St"'),
]

RESPONSES = {
    "Order Status": 'Sure: here\'s "how" # it works - {ok} \\ 😀',
    "Change Address": "Ändern Sie die Adresse: 我们可以 / يمكننا",
    "Invoice": "- starts with a dash\nand: has a newline",
}


def _tricky_csv(tmp_path: Path) -> Path:
    rows = []
    for text, intent, etype, value in TRICKY:
        if value is None:
            rows.append([text, intent, "", "", "", "", RESPONSES[intent]])
        else:
            rows.append(entity_row(text, intent, etype, value, RESPONSES[intent]))
    return write_csv(tmp_path / "tricky.csv", [*ENTITY_HEADER, "response"], rows)


def test_round_trip_of_tricky_texts_through_rasa(tmp_path: Path) -> None:
    result = convert_csv(_tricky_csv(tmp_path), tmp_path / "bot")
    data = result.data
    assert data.stats["kept"] == len(TRICKY)

    # The texts as normalised, independently spelled out.
    kept = {e.text for examples in data.examples.values() for e in examples}
    assert "tab separated and spaced" in kept
    assert "two lines" in kept
    assert "(not)(an_entity) and (brackets)" in kept
    assert "invoice (INV-001) (urgent)" in kept
    assert "?" in kept

    loaded = rasa_examples(tmp_path / "bot")
    assert sorted(loaded) == sorted(expected_examples(data))
    assert len(loaded) == len(TRICKY)
    by_text = {text: (intent, ents) for text, intent, ents in loaded}
    assert by_text["what's the status of order: 12345?"] == ("order_status", ((28, 33, "12345", "order_id"),))
    assert by_text["我的订单 8899 在哪里"] == ("order_status", ((5, 9, "8899", "order_id"),))
    assert by_text['ship to "10 Downing St" please'][1] == ((8, 23, '"10 Downing St"', "address"),)
    assert by_text["- leading dash"][0] == "order_status"
    assert by_text["# not a comment"][0] == "order_status"
    assert by_text["back\\slash C:\\users\\me"][0] == "change_address"
    assert by_text["(not)(an_entity) and (brackets)"] == ("change_address", ())

    domain = Domain.load(tmp_path / "bot" / "domain.yml")
    assert {"order_status", "change_address", "invoice"} <= set(domain.intents)
    assert set(domain.entities) == {"address", "invoice_id", "order_id"}
    assert {s.name for s in domain.slots} >= {"address", "invoice_id", "order_id"}
    for label, response in RESPONSES.items():
        assert domain.responses[f"utter_{safe_name(label)}"] == [{"text": " ".join(response.split())}]


def test_demo_corpus_round_trips_through_rasa(tmp_path: Path) -> None:
    result = convert_csv(DEMO, tmp_path / "bot")
    data = result.data
    assert data.stats["rows read"] == 400
    assert data.stats["kept"] == 400
    assert data.stats["intents"] == 20
    assert data.warnings == []
    assert result.files == [
        tmp_path / "bot" / "data" / "nlu.yml",
        tmp_path / "bot" / "data" / "rules.yml",
        tmp_path / "bot" / "domain.yml",
    ]

    nlu = load_data(str(tmp_path / "bot" / "data" / "nlu.yml"))
    assert len(nlu.training_examples) == 400
    assert len(nlu.intents) == 20
    loaded = [(m.get("text"), m.get("intent"), ents_of(m)) for m in nlu.training_examples]
    assert sorted(loaded) == sorted(expected_examples(data))
    assert any(ents for _, _, ents in loaded)
    assert set(nlu.entities) == set(data.entity_types)

    domain = Domain.load(tmp_path / "bot" / "domain.yml")
    assert set(nlu.intents) <= set(domain.intents)
    assert set(domain.entities) == set(data.entity_types)
    assert {f"utter_{i}" for i in nlu.intents} == set(domain.responses)
    rules = YAMLStoryReader(domain).read_from_file(tmp_path / "bot" / "data" / "rules.yml")
    assert len(rules) == 20


# --- property: whatever rows go in, Rasa reads back what the converter kept ------------

_TEXT_CHARS = st.one_of(
    # Letters (any script), combining marks, digits, punctuation, symbols, space separators.
    st.characters(categories=("L", "Mn", "N", "P", "S", "Zs")),
    st.sampled_from(list(" \t\n\r:#-'\"{}[]()|>&*!%@`,\\\u200b\xa0\u3000")),
)
_TEXTS = st.one_of(
    st.text(_TEXT_CHARS, max_size=30),
    # A small pool so that duplicates (up to case and whitespace) and conflicts happen.
    st.sampled_from(["Hello", "hello", " hello ", "HELLO  there", "hello there", "where is order 42", "   "]),
)
_LABELS = ["greet", "Cancel Order", "track-order", "REFUND!", "faq_1"]


@st.composite
def _rows(draw) -> tuple[str, str, tuple[str, str, int, int] | None, str]:
    text = draw(_TEXTS)
    label = draw(st.sampled_from(_LABELS))
    entity = None
    if text and draw(st.booleans()):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, len(text)))
        entity = (draw(st.sampled_from(["order_id", "product"])), text[start:end], start, end)
    response = draw(st.one_of(st.just(""), st.text(_TEXT_CHARS, max_size=20)))
    return text, label, entity, response


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_rows(), min_size=1, max_size=8))
def test_property_rasa_reads_back_what_was_kept(tmp_path_factory: pytest.TempPathFactory, rows) -> None:
    folder = tmp_path_factory.mktemp("prop")
    src = write_csv(
        folder / "random.csv",
        [*ENTITY_HEADER, "response"],
        [
            [text, label, *(("", "", "", "") if ent is None else (ent[0], ent[1], str(ent[2]), str(ent[3]))), response]
            for text, label, ent, response in rows
        ],
    )

    # The model of the converter: normalise, drop empties, drop repeats of a text under its intent (case
    # variants are distinct texts), and a text seen before (ignoring case) under another intent stays there.
    expected, seen, owner, responses = [], set(), {}, {}
    for text, label, ent, response in rows:
        ents = () if ent is None else (Entity(ent[2], ent[3], ent[0], ent[1]),)
        norm, norm_ents = normalize(text, ents)
        # Independent checks on the normalised text and entities.
        assert norm == norm.strip() and "  " not in norm
        assert not any(c.isspace() and c != " " for c in norm)
        assert "[" not in norm and "]" not in norm
        for e in norm_ents:
            assert norm[e.start : e.end] == e.value == normalize(ent[1])[0]
        if not norm or norm in seen or owner.setdefault(norm.casefold(), safe_name(label)) != safe_name(label):
            continue
        seen.add(norm)
        if response.strip():
            responses.setdefault(safe_name(label), " ".join(response.split()))
        expected.append((norm, safe_name(label), tuple((e.start, e.end, e.value, e.type) for e in norm_ents)))

    out = folder / "bot"
    if not expected:
        with pytest.raises(ConversionError, match="no usable rows"):
            convert_csv(src, out)
        assert not out.exists()
        return

    result = convert_csv(src, out)
    assert result.data.stats["rows read"] == len(rows)
    assert result.data.stats["kept"] == len(expected)
    # Rasa unescapes \\u in all-ASCII files; the writer's header keeps every file non-ASCII.
    assert not (out / "data" / "nlu.yml").read_text(encoding="utf-8").isascii()

    assert sorted(rasa_examples(out)) == sorted(expected)
    domain = Domain.load(out / "domain.yml")
    intents = {intent for _, intent, _ in expected}
    assert intents <= set(domain.intents)
    assert {f"utter_{i}" for i in intents} == set(domain.responses)
    for intent, response in responses.items():
        assert domain.responses[f"utter_{intent}"] == [{"text": response}]
    assert {e[3] for _, _, ents in expected for e in ents} == set(domain.entities)


# --- determinism ---------------------------------------------------------------------


def test_same_csv_gives_byte_identical_files(tmp_path: Path) -> None:
    src = _tricky_csv(tmp_path)
    first = convert_csv(src, tmp_path / "one")
    second = convert_csv(src, tmp_path / "two")
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    assert len(first.files) == len(second.files) == 3
    # Converting again over existing output changes nothing either.
    before = snapshot(tmp_path / "one")
    convert_csv(src, tmp_path / "one")
    assert snapshot(tmp_path / "one") == before


def test_demo_corpus_conversion_is_deterministic(tmp_path: Path) -> None:
    convert_csv(DEMO, tmp_path / "one")
    convert_csv(DEMO, tmp_path / "two")
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert one == two
    assert set(one) == {"domain.yml", os.path.join("data", "nlu.yml"), os.path.join("data", "rules.yml")}
    assert all(b"\r\n" not in content for content in one.values())


def test_domain_file_option_places_the_domain(tmp_path: Path) -> None:
    result = convert_csv(DEMO, tmp_path / "bot", domain_file="domains/generated.yml")
    assert result.files[-1] == tmp_path / "bot" / "domains" / "generated.yml"
    assert (tmp_path / "bot" / "domains" / "generated.yml").is_file()
    assert not (tmp_path / "bot" / "domain.yml").exists()


# --- atomic writes ---------------------------------------------------------------------


def test_failed_conversion_leaves_previous_output_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "bot"
    good = write_csv(tmp_path / "good.csv", ["utterance", "intent"], [["hello", "greet"], ["hi", "greet"]])
    convert_csv(good, out)
    before = snapshot(out)
    assert len(before) == 3

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "utterance,intent\nwhere is my order,track\nwhere is it,track\nbroken,row,here\nlater,track\n",
        encoding="utf-8",
    )
    with pytest.raises(ConversionError) as info:
        convert_csv(bad, out)
    assert info.value.line == 4
    assert snapshot(out) == before
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize(
    "content",
    [
        "utterance,intent\nok,greet\n,greet\nbad,\n",  # empty intent on line 4
        "utterance,intnt\nok,greet\n",  # no intent column
        "utterance,intent\n   ,greet\n",  # no usable rows
        "utterance,intent,entity_type,entity_value,start_offset,end_offset\nok 1,greet,n,1,0,1\n",  # bad offsets
    ],
    ids=["empty-intent", "no-intent-column", "no-usable-rows", "bad-entity"],
)
def test_other_failed_conversions_leave_previous_output_unchanged(tmp_path: Path, content: str) -> None:
    out = tmp_path / "bot"
    convert_csv(DEMO, out)
    before = snapshot(out)
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConversionError):
        convert_csv(bad, out)
    assert snapshot(out) == before
    assert temp_files(tmp_path) == []


def test_write_files_writes_utf8_with_lf_and_creates_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.yml"
    write_files({target: "line one\nzwei: ü 😀\n"})
    assert target.read_bytes() == "line one\nzwei: ü 😀\n".encode()
    assert temp_files(tmp_path) == []


def test_write_files_leaves_no_temp_files_when_a_target_is_a_directory(tmp_path: Path) -> None:
    first = tmp_path / "first.yml"
    first.write_text("old first", encoding="utf-8")
    blocked = tmp_path / "blocked.yml"
    blocked.mkdir()
    (blocked / "keep.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(OSError):
        write_files({blocked: "new blocked", first: "new first"})
    assert temp_files(tmp_path) == []
    assert blocked.is_dir() and (blocked / "keep.txt").read_text(encoding="utf-8") == "keep"
    assert first.read_text(encoding="utf-8") == "old first"


def test_write_files_each_file_is_whole_when_a_later_target_is_a_directory(tmp_path: Path) -> None:
    first = tmp_path / "first.yml"
    first.write_text("old first", encoding="utf-8")
    blocked = tmp_path / "blocked.yml"
    blocked.mkdir()
    with pytest.raises(OSError):
        write_files({first: "new first", blocked: "new blocked"})
    assert temp_files(tmp_path) == []
    assert blocked.is_dir()
    # Renames are one by one: each file is either untouched or fully new, never partial.
    assert first.read_text(encoding="utf-8") in {"old first", "new first"}


def test_write_files_failure_while_staging_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [tmp_path / "data" / "nlu.yml", tmp_path / "data" / "rules.yml", tmp_path / "domain.yml"]
    for t in targets:
        t.parent.mkdir(parents=True, exist_ok=True)
        t.write_text(f"old {t.name}", encoding="utf-8")
    calls = []
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr("process_data.writers.os.fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_files({t: f"new {t.name}" for t in targets})
    assert [t.read_text(encoding="utf-8") for t in targets] == [f"old {t.name}" for t in targets]
    assert temp_files(tmp_path) == []


# --- regressions: bugs found by these tests, now fixed ---


@pytest.mark.parametrize("label", ["123", "1e5", "true", "Null"])
@pytest.mark.filterwarnings("ignore:Issue found while processing")
def test_numeric_and_keyword_labels_round_trip(tmp_path: Path, label: str) -> None:
    src = write_csv(tmp_path / "c.csv", ["utterance", "label"], [["hello there", label], ["hi", label]])
    convert_csv(src, tmp_path / "bot")
    loaded = rasa_examples(tmp_path / "bot")
    domain = Domain.load(tmp_path / "bot" / "domain.yml")
    [intent] = {i for _, i, _ in loaded}
    assert isinstance(intent, str) and intent in domain.intents


@pytest.mark.parametrize("text", ["open C:\\users\\me", "type \\u0041 here"], ids=["crash", "rewritten"])
def test_ascii_backslash_u_round_trips(tmp_path: Path, text: str) -> None:
    src = write_csv(tmp_path / "c.csv", ["utterance", "intent"], [[text, "path"], ["other", "path"]])
    result = convert_csv(src, tmp_path / "bot")
    assert sorted(rasa_examples(tmp_path / "bot")) == sorted(expected_examples(result.data))


def test_backslash_u_round_trips_when_the_file_is_not_ascii(tmp_path: Path) -> None:
    # The same texts are fine as soon as the file holds one non-ASCII character.
    rows = [["open C:\\users\\me", "path"], ["type \\u0041 here", "path"], ["café", "path"]]
    result = convert_csv(write_csv(tmp_path / "c.csv", ["utterance", "intent"], rows), tmp_path / "bot")
    assert sorted(rasa_examples(tmp_path / "bot")) == sorted(expected_examples(result.data))


@pytest.mark.parametrize("control", ["\x7f", "\x9f", "\ufffe", "\x07"], ids=["DEL", "C1", "nonchar", "BEL"])
def test_control_characters_in_responses(tmp_path: Path, control: str) -> None:
    src = write_csv(
        tmp_path / "c.csv",
        ["utterance", "intent", "response"],
        [["hello", "greet", f"Hi{control} there"], ["hi", "greet", ""]],
    )
    convert_csv(src, tmp_path / "bot")
    text = Domain.load(tmp_path / "bot" / "domain.yml").responses["utter_greet"][0]["text"]
    assert text.startswith("Hi") and text.endswith("there")


@pytest.mark.parametrize("etype", ["order:id", "#id", "order)id"])
def test_entity_types_with_markup_characters(tmp_path: Path, etype: str) -> None:
    rows = [entity_row("order 123 now", "track", etype, "123"), ["hi", "track", "", "", "", ""]]
    src = write_csv(tmp_path / "c.csv", ENTITY_HEADER, rows)
    try:
        convert_csv(src, tmp_path / "bot")
    except ConversionError:
        return  # rejecting the type with a message would be fine too
    loaded = {text: ents for text, _, ents in rasa_examples(tmp_path / "bot")}
    [(start, end, value, entity)] = loaded["order 123 now"]
    assert (start, end, value) == (6, 9, "123")
    assert entity in Domain.load(tmp_path / "bot" / "domain.yml").entities


def test_written_files_respect_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_files({tmp_path / "nlu.yml": "x\n"})
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "nlu.yml").stat().st_mode) == 0o644


# --- the real corpus: Bitext's official train split -------------------------------------------


def test_bitext_official_train_keeps_every_distinct_text_and_the_entities_of_case_variants(tmp_path: Path) -> None:
    if not BITEXT_TRAIN.is_file():
        pytest.skip(f"Bitext's official train split {BITEXT_TRAIN} is absent (it belongs in ../shared/corpora)")
    with BITEXT_TRAIN.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Computed apart from the converter: whitespace-normalised texts, the first row of each,
    # and the entity annotation it carries (its value spelt as in the text).
    first: dict[str, tuple[str, str, str] | None] = {}
    for row in rows:
        text = " ".join(row["utterance"].split())
        entity = None
        if row["entity_type"].strip():
            value = row["utterance"][int(row["start_offset"]) : int(row["end_offset"])]
            entity = (value, row["entity_type"], row["intent"])
        first.setdefault(text, entity)
    spellings: dict[str, int] = {}
    for text in first:
        spellings[text.casefold()] = spellings.get(text.casefold(), 0) + 1
    variants = {text: entity for text, entity in first.items() if spellings[text.casefold()] > 1}

    result = convert_csv(BITEXT_TRAIN, tmp_path / "bot")
    stats = result.data.stats
    assert stats["rows read"] == len(rows) == 6480
    assert stats["kept"] == len(first) == 6468  # one example per distinct text; case variants included
    assert stats["entity annotations"] == sum(e is not None for e in first.values())
    assert stats["case variants kept"] == len(variants) - len({t.casefold() for t in variants})

    # What Rasa's own loader reads: every example, no text twice, and the case variants' entities.
    loaded = rasa_examples(tmp_path / "bot")
    assert len(loaded) == len({text for text, _, _ in loaded}) == len(first)
    by_text = {text: (intent, ents) for text, intent, ents in loaded}
    annotated = [(text, entity) for text, entity in variants.items() if entity is not None]
    assert len(annotated) > 50  # Bitext adds case variants on purpose, many with an entity
    for text, (value, etype, intent) in annotated:
        got_intent, ents = by_text[text]
        assert got_intent == intent
        assert [(e[2], e[3]) for e in ents] == [(value, etype)], text
    # Folding case gives the old count back.
    folded = convert_csv(BITEXT_TRAIN, tmp_path / "folded", cleaning=CleaningOptions(fold_case=True))
    assert folded.data.stats["kept"] == len({t.casefold() for t in first}) == 6364
