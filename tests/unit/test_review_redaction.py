"""Nothing unredacted leaves the review inbox: realistic customer messages through the export's redaction."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from review.stories import Verdict, render_stories, story_steps
from review.training import RedactionOptions, ReviewedExample, plan_export, redact_example, render_csv, render_nlu

from process_data.model import Entity
from process_data.redact import Redactor

TEAM = ("Anna Schmidt", "Tom Ng")
#: Personal data in the messages below; none of it may appear in an export.
SECRETS = (
    "jo.smith@example.com",
    "anna.schmidt@northwind.example",
    "+49 30 1234 5678",
    "(555) 123-4567",
    "0049301234567",
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "Anna",
    "Schmidt",
)
MESSAGES = [
    ("where is my parcel? write to jo.smith@example.com", "check_order_status"),
    ("Anna Schmidt said you'd refund me, call +49 30 1234 5678", "get_refund"),
    ("I paid with 4111 1111 1111 1111 and it failed", "payment_issue"),
    ("refund to DE89 3704 0044 0532 0130 00 please", "get_refund"),
    ("ring me at (555) 123-4567, anna knows my case", "contact_human_agent"),
    ("card 5500-0000-0000-0004 was charged twice!!", "payment_issue"),
    ("IBAN GB82WEST12345698765432 for the refund", "get_refund"),
    ("my number 0049301234567, mail anna.schmidt@northwind.example", "contact_human_agent"),
]


def options(**kw) -> RedactionOptions:
    return RedactionOptions(redactor=Redactor(TEAM, **kw))


@pytest.mark.parametrize(("text", "intent"), MESSAGES)
def test_no_personal_data_in_any_file_the_export_writes(text, intent):
    example = ReviewedExample(text, intent, (), "alice", "2026-12-02", "conversation c1 message 0")
    plan = plan_export([example], {}, options=options())
    assert len(plan.kept) == 1
    outputs = render_nlu(plan) + render_csv(plan)
    for secret in SECRETS:
        assert secret.lower() not in outputs.lower(), (secret, outputs)
    tracker = {"events": [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]}
    story = render_stories({"s": story_steps(tracker, {0: Verdict(intent)}, {intent: "utter_x"}, options())})
    assert all(secret.lower() not in story.lower() for secret in SECRETS), story
    assert yaml.safe_load(story)["stories"][0]["steps"][0]["intent"] == intent


def test_entities_over_personal_data_are_dropped_and_order_numbers_kept_as_placeholders():
    text = "order 5342765, mail jo.smith@example.com"
    entities = [Entity(6, 13, "order_id", "5342765"), Entity(20, 40, "email", "jo.smith@example.com")]
    out, ents = redact_example(text, entities, RedactionOptions(Redactor(order_numbers=True), order_placeholders=True))
    assert out == "order 1234567, mail (email)" and [e.type for e in ents] == ["order_id"]


def test_slot_values_in_a_story_are_redacted_as_texts_are():
    text = "send it to jo.smith@example.com, order 5342765"
    events = [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": "change_address"}}},
        {"event": "slot", "name": "contact", "value": "jo.smith@example.com or +49 30 1234 5678"},
        {"event": "slot", "name": "order_id", "value": "5342765"},
        {"event": "slot", "name": "emails", "value": ["anna.schmidt@northwind.example"]},
        {"event": "slot", "name": "confirmed", "value": True},
        {"event": "action", "name": "utter_done"},
    ]
    placeholders = RedactionOptions(Redactor(TEAM, order_numbers=True), order_placeholders=True)
    story = render_stories({"s": story_steps({"events": events}, {0: Verdict("change_address")}, {}, placeholders)})
    assert all(secret.lower() not in story.lower() for secret in SECRETS), story
    steps = yaml.safe_load(story)["stories"][0]["steps"]
    slots = {k: v for step in steps for item in step.get("slot_was_set", []) for k, v in item.items()}
    assert slots["order_id"] == "1234567" and slots["confirmed"] is True and "5342765" not in story
    assert slots["contact"] == Redactor(TEAM).redact("jo.smith@example.com or +49 30 1234 5678")


PII = st.sampled_from(SECRETS[:9])
WORDS = st.lists(st.sampled_from(["my", "order", "refund", "please", "now", "card", "at", ",", "ok"]), max_size=6)


@settings(max_examples=200, deadline=None)
@given(before=WORDS, secret=PII, after=WORDS)
def test_personal_data_anywhere_in_a_message_never_reaches_the_nlu_file(before, secret, after):
    text = " ".join([*before, secret, *after])
    plan = plan_export([ReviewedExample(text, "greet", (), "a", "2026-12-02", "s")], {}, options=options())
    assert all(secret.lower() not in ex.text.lower() for ex in plan.kept)
    assert secret.lower() not in render_nlu(plan).lower()
