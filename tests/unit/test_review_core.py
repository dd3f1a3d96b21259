"""The review inbox's pure core: turns from a tracker, flags, redaction of examples, the export plan, stories."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from review.stories import Verdict, one_step_rules, render_stories, story_steps
from review.training import (
    HEADER,
    ExportPlan,
    RedactionOptions,
    ReviewedExample,
    corpus_labels,
    intent_name_problem,
    plan_export,
    redact_example,
    render_csv,
    render_nlu,
    write_export,
)
from review.turns import conversation_flags, ended_unsuccessfully, review_turns

from process_data.model import Entity
from process_data.redact import Redactor
from tests.review_trackers import action, bot, misunderstood_tracker, session_start, user


def test_turns_carry_prediction_runners_up_entities_and_what_followed():
    turns = review_turns(misunderstood_tracker())
    assert [t.text for t in turns] == [
        "hello there",
        "wheres my parcel 5342765, mail me at jo@example.com",
        "talk to a human",
    ]
    second = turns[1]
    assert second.intent == "nlu_fallback" and second.confidence == 0.3 and second.fallback
    assert second.runners_up == [
        {"name": "check_order_status", "confidence": 0.28},
        {"name": "track_refund", "confidence": 0.2},
    ]
    assert second.entities == [{"entity": "order_id", "value": "5342765", "start": 17, "end": 24}]
    assert second.actions == ["action_clarify"] and second.replies == ["Did you mean: order status, or refund?"]
    assert turns[0].actions == ["utter_greet"] and not turns[0].fallback


def test_flags_count_what_the_inbox_sorts_by():
    turns = review_turns(misunderstood_tracker())
    flags = conversation_flags(turns)
    assert (flags.user_messages, flags.fallbacks, flags.low_confidence, flags.handoff) == (3, 1, 2, True)
    assert flags.min_confidence == 0.3 and flags.intents == ("greet", "human_handoff", "nlu_fallback")
    assert ended_unsuccessfully(turns)
    assert flags.priority(annotations=1, unsuccessful=True) > flags.priority() > 0
    fine = review_turns({"events": [*session_start(), user("hi", "greet", 0.99), action("utter_greet")]})
    assert conversation_flags(fine).priority() == 0 and not ended_unsuccessfully(fine)


def test_the_turns_go_on_across_a_restart():
    events = [user("a", "greet", 0.9), {"event": "restart"}, user("b", "goodbye", 0.9), bot("Bye")]
    assert [(t.text, t.replies) for t in review_turns({"events": events})] == [("a", []), ("b", ["Bye"])]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("check_order_status", True),
        ("new_intent_2", True),
        ("Check Order", False),
        ("2fast", False),
        ("../etc/passwd", False),
        ("greet\n- intent: x", False),
        ("utter_greet", False),
        ("action_handoff", False),
        ("nlu_fallback", False),
        ("x" * 65, False),
        ("", False),
    ],
)
def test_unsafe_intent_names_are_refused(name, ok):
    assert (intent_name_problem(name) is None) is ok


def ex(text, intent, entities=(), source="conversation c1 message 0", reviewer="alice"):
    return ReviewedExample(text, intent, tuple(entities), reviewer, "2026-12-02", source)


def test_redaction_of_examples_keeps_entities_that_hold_no_personal_data():
    text = "cancel 5342765 and mail jo@example.com"
    order = Entity(7, 14, "order_id", "5342765")
    out, ents = redact_example(text, [order], RedactionOptions())
    assert out == "cancel 5342765 and mail (email)" and ents == (order,)
    out, ents = redact_example(text, [order], RedactionOptions(redactor=Redactor(order_numbers=True)))
    assert out == "cancel (order) and mail (email)" and ents == ()
    out, ents = redact_example(
        text, [order], RedactionOptions(redactor=Redactor(order_numbers=True), order_placeholders=True)
    )
    assert out == "cancel 1234567 and mail (email)" and ents == (Entity(7, 14, "order_id", "1234567"),)


def test_an_entity_holding_personal_data_loses_its_annotation_not_its_redaction():
    text = "my email is jo@example.com"
    out, ents = redact_example(text, [Entity(12, 26, "email", "jo@example.com")], RedactionOptions())
    assert out == "my email is (email)" and ents == ()


def test_plan_deduplicates_reports_conflicts_and_refuses_unsafe_names():
    corpus = {"where is my order": "check_order_status", "cancel it": "cancel_order"}
    examples = [
        ex("Where is my order", "check_order_status"),  # the corpus has it (case ignored)
        ex("cancel it", "track_refund", source="conversation c2 message 1"),  # the corpus says otherwise
        ex("wheres my parcel", "check_order_status"),
        ex("wheres my parcel", "check_order_status", reviewer="bob"),  # twice: once
        ex("bring a human", "human_handoff", source="conversation c3 message 0"),
        ex("bring a human", "goodbye", source="conversation c4 message 0"),  # reviewers disagree across chats
        ex("hack", "Bad Name!"),
        ex("what about my refund", "refund_status_new"),
    ]
    plan = plan_export(examples, corpus, known_intents={"check_order_status", "human_handoff", "goodbye"})
    assert [(e.text, e.intent) for e in plan.kept] == [
        ("wheres my parcel", "check_order_status"),
        ("what about my refund", "refund_status_new"),
    ]
    assert len(plan.duplicates) == 2
    assert any("'cancel it' is 'track_refund'" in c and "corpus says 'cancel_order'" in c for c in plan.conflicts)
    assert any("'bring a human' is labelled differently" in c for c in plan.conflicts)
    assert len(plan.refused) == 1 and "not safe" in plan.refused[0]
    assert plan.new_intents == ["refund_status_new"]


def test_nlu_file_reads_back_with_metadata_and_entities(tmp_path: Path):
    plan = plan_export(
        [ex("cancel 5342765 now", "cancel_order", [Entity(7, 14, "order_id", "5342765")]), ex('say "hi": #1', "greet")],
        {},
    )
    text = render_nlu(plan)
    assert text.startswith(HEADER)
    data = yaml.safe_load(text)
    blocks = {b["intent"]: b["examples"] for b in data["nlu"]}
    assert blocks["cancel_order"][0]["text"] == "cancel [5342765](order_id) now"
    assert blocks["cancel_order"][0]["metadata"] == {
        "reviewer": "alice",
        "reviewed_at": "2026-12-02",
        "source": "conversation c1 message 0",
    }
    assert blocks["greet"][0]["text"] == 'say "hi": #1'
    # the file is not corpus data for the next export
    nlu = tmp_path / "data" / "review_nlu.yml"
    write_export(plan, nlu=nlu)
    assert corpus_labels([nlu]) == {}
    csv_text = render_csv(plan)
    assert (
        csv_text.splitlines()[1]
        == "cancel 5342765 now,cancel_order,order_id,5342765,7,14,alice,2026-12-02,conversation c1 message 0"
    )


def test_export_twice_writes_the_same_bytes_and_the_domain_only_for_new_intents(tmp_path: Path):
    plan = plan_export([ex("wheres my parcel", "parcel_lost")], {}, known_intents={"greet"})
    nlu, domain = tmp_path / "data" / "review_nlu.yml", tmp_path / "domain" / "review.yml"
    write_export(plan, nlu=nlu, domain=domain)
    first = nlu.read_bytes(), domain.read_text()
    write_export(plan, nlu=nlu, domain=domain)
    assert (nlu.read_bytes(), domain.read_text()) == first
    assert yaml.safe_load(first[1])["intents"] == ["parcel_lost"]
    write_export(ExportPlan(), nlu=nlu, domain=domain)
    assert not domain.exists() and not nlu.exists()  # nothing left to add: both of its own files removed


def test_a_failed_write_leaves_the_old_files(tmp_path: Path, monkeypatch):
    nlu, csv_path = tmp_path / "review_nlu.yml", tmp_path / "review.csv"
    write_export(plan_export([ex("hello", "greet")], {}), nlu=nlu, csv_path=csv_path)
    before = nlu.read_bytes(), csv_path.read_bytes()
    import process_data.writers as writers

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(writers.os, "replace", broken)
    with pytest.raises(OSError):
        write_export(plan_export([ex("bye", "goodbye")], {}), nlu=nlu, csv_path=csv_path)
    assert (nlu.read_bytes(), csv_path.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["review.csv", "review_nlu.yml"]


def test_corpus_labels_read_rasa_nlu_files(tmp_path: Path):
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n- intent: cancel_order\n  examples: |\n    - cancel order [5342765](order_id) please\n'
        "    - Stop   my order\n- intent: greet\n  examples:\n  - text: hi there\n",
        encoding="utf-8",
    )
    assert corpus_labels([nlu]) == {
        "cancel order 5342765 please": "cancel_order",
        "stop my order": "cancel_order",
        "hi there": "greet",
    }


def test_story_stops_at_the_first_corrected_message_with_the_rule_of_its_intent():
    tracker = misunderstood_tracker()
    verdicts = {1: Verdict("check_order_status", (Entity(17, 24, "order_id", "5342765"),))}
    steps = story_steps(tracker, verdicts, {"check_order_status": "action_check_order_status"})
    text = render_stories({"review c1": steps})
    story = yaml.safe_load(text)["stories"][0]
    assert story["steps"] == [
        {"user": "hello there", "intent": "greet"},
        {"action": "utter_greet"},
        {"user": "wheres my parcel [5342765](order_id), mail me at (email)", "intent": "check_order_status"},
        {"action": "action_check_order_status"},
    ]
    # no rule for the corrected intent: the story ends before it
    assert yaml.safe_load(render_stories({"s": story_steps(tracker, verdicts, {})}))["stories"][0]["steps"] == [
        {"user": "hello there", "intent": "greet"},
        {"action": "utter_greet"},
    ]


def test_story_keeps_slots_and_loops_of_confirmed_turns():
    events = [
        *session_start(),
        user("I want to cancel my order", "cancel_order", 0.9, t=1),
        action("action_cancel_order_start"),
        {"event": "active_loop", "name": "cancel_order_form"},
        action("cancel_order_form"),
        {"event": "slot", "name": "requested_slot", "value": "order_id"},
        action("action_listen"),
    ]
    steps = yaml.safe_load(render_stories({"s": story_steps({"events": events}, {}, {})}))["stories"][0]["steps"]
    assert steps == [
        {"user": "I want to cancel my order", "intent": "cancel_order"},
        {"action": "action_cancel_order_start"},
        {"active_loop": "cancel_order_form"},
        {"action": "cancel_order_form"},
        {"slot_was_set": [{"requested_slot": "order_id"}]},
    ]


def test_one_step_rules(tmp_path: Path):
    rules = tmp_path / "rules.yml"
    rules.write_text(
        'version: "3.1"\nrules:\n- rule: a\n  steps:\n  - intent: greet\n  - action: utter_greet\n'
        "- rule: b\n  condition:\n  - active_loop: f\n  steps:\n  - intent: deny\n  - action: utter_no\n",
        encoding="utf-8",
    )
    assert one_step_rules([rules]) == {"greet": "utter_greet"}


def test_the_csv_converts_with_the_projects_converter(tmp_path: Path):
    from process_data import convert_csv

    plan = plan_export(
        [
            ex("cancel 5342765 now", "cancel_order", [Entity(7, 14, "order_id", "5342765")]),
            ex("stop order 1234567", "cancel_order", [Entity(11, 18, "order_id", "1234567")]),
            ex("hi, mail me at jo@example.com", "greet"),
        ],
        {},
    )
    csv_path = tmp_path / "review.csv"
    write_export(plan, nlu=tmp_path / "review_nlu.yml", csv_path=csv_path)
    result = convert_csv(csv_path, tmp_path / "bot")
    examples = result.data.examples
    assert [e.text for e in examples["cancel_order"]] == ["cancel 5342765 now", "stop order 1234567"]
    assert examples["cancel_order"][0].entities[0].value == "5342765"
    assert [e.text for e in examples["greet"]] == ["hi, mail me at (email)"]


def test_rasa_reads_the_export_and_the_stories(tmp_path: Path):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.loading import load_data

    plan = plan_export(
        [ex("cancel 5342765 now", "cancel_order", [Entity(7, 14, "order_id", "5342765")]), ex("parcel lost", "lost")],
        {},
        known_intents={"cancel_order", "greet", "check_order_status"},
    )
    nlu, domain = tmp_path / "data" / "review_nlu.yml", tmp_path / "domain" / "review.yml"
    write_export(plan, nlu=nlu, domain=domain)
    data = load_data(str(nlu))
    cancel = next(m for m in data.intent_examples if m.get("intent") == "cancel_order")
    assert cancel.get("text") == "cancel 5342765 now"
    assert [(e["entity"], e["start"], e["end"]) for e in cancel.get("entities")] == [("order_id", 7, 14)]
    assert cancel.get("metadata")["example"]["reviewer"] == "alice"
    (tmp_path / "domain" / "base.yml").write_text(
        'version: "3.1"\nintents:\n- greet\n- cancel_order\n- check_order_status\nentities:\n- order_id\n'
        "responses:\n  utter_greet:\n  - text: Hi\nactions:\n- action_check_order_status\n",
        encoding="utf-8",
    )
    merged = Domain.load(str(tmp_path / "domain"))
    assert "lost" in merged.intents and "greet" in merged.intents
    empty = tmp_path / "empty.yml"  # what review_train's test file holds before anything is reviewed
    empty.write_text(render_nlu(ExportPlan()), encoding="utf-8")
    assert load_data(str(empty)).intent_examples == []
    steps = story_steps(misunderstood_tracker(), {1: Verdict("check_order_status")}, {})
    stories = tmp_path / "stories.yml"
    stories.write_text(render_stories({"review c1": steps, "empty": []}), encoding="utf-8")
    read = YAMLStoryReader(merged).read_from_file(str(stories))
    assert [s.block_name for s in read] == ["review c1"]
    empty = tmp_path / "none.yml"
    empty.write_text(render_stories({}), encoding="utf-8")
    assert YAMLStoryReader(merged).read_from_file(str(empty)) == []


def test_test_bots_never_carry_this_checkouts_review_exports(tmp_path: Path, monkeypatch):
    from launcher import paths
    from launcher.build import copy_bot_sources

    bot = tmp_path / "rasa_bot"
    for rel in ("data/review_nlu.yml", "domain/review.yml", "tests/review_stories.yml", "data/custom/own.yml"):
        (bot / rel).parent.mkdir(parents=True, exist_ok=True)
        (bot / rel).write_text("x", encoding="utf-8")
    monkeypatch.setattr(paths, "BOT_DIR", bot)
    out = copy_bot_sources(tmp_path / "copy")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yml")) == ["data/custom/own.yml"]


def test_an_export_with_nothing_to_add_writes_no_nlu_file_and_removes_its_own_earlier_one(tmp_path: Path) -> None:
    nlu, domain = tmp_path / "data" / "review_nlu.yml", tmp_path / "domain" / "review.yml"
    nlu.parent.mkdir()
    nlu.write_text(render_nlu(ExportPlan()), encoding="utf-8")  # an earlier export of the review inbox
    assert write_export(ExportPlan(), nlu=nlu, domain=domain) == []
    assert not nlu.exists() and not domain.exists()
    nlu.write_text("version: '3.1'\nnlu: []\n", encoding="utf-8")  # a file of the team's own at that path
    write_export(ExportPlan(), nlu=nlu, domain=domain)
    assert nlu.exists()


def test_a_story_after_a_restart_keeps_the_review_numbering_of_messages():
    events = [
        user("hi", "greet", 0.9),
        action("utter_greet"),
        {"event": "restart"},
        user("my parcel", "nlu_fallback", 0.3),
        action("action_clarify"),
    ]
    # message 1 (counted across the restart, as the inbox numbers it) was corrected to check_order_status
    steps = story_steps({"events": events}, {1: Verdict("check_order_status")}, {"check_order_status": "act_x"})
    assert yaml.safe_load(render_stories({"s": steps}))["stories"][0]["steps"] == [
        {"user": "my parcel", "intent": "check_order_status"},
        {"action": "act_x"},
    ]
