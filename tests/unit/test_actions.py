"""The custom actions and their services, against a real SQLite database.

Trackers are built from the JSON the action server receives from Rasa.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_bot.actions import actions as A
from rasa_bot.actions import services

DOMAIN = {
    "intents": [
        "check_order_status",
        "cancel_order",
        "change_shipping_address",
        "track_refund",
        "get_invoice",
        "contact_human_agent",
        "greet",
    ],
    "slots": {},
    "forms": {},
}


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'orders.sqlite3'}"
    monkeypatch.setenv("ACTIONS_DATABASE_URL", url)
    services.get_engine.cache_clear()
    yield url
    services.get_engine.cache_clear()


def tracker(
    text: str,
    intent: str = "check_order_status",
    entities: list[dict] | None = None,
    slots: dict | None = None,
    ranking: list[tuple[str, float]] | None = None,
    events: list[dict] | None = None,
) -> Tracker:
    """A tracker as the action server builds it from Rasa's request JSON."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    if ranking:
        latest["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return Tracker.from_dict(
        {
            "sender_id": "conv-1",
            "slots": slots or {},
            "latest_message": latest,
            "events": events or [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, DOMAIN)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, result


def texts(messages: list[dict]) -> str:
    return " | ".join(m.get("text") or m.get("response") or "" for m in messages)


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def broken(*args, **kwargs):
    raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))


# -- services ----------------------------------------------------------------
def test_schema_and_demo_data_are_created_on_first_use(db):
    order = services.order_get("12345")
    assert order is not None and order.status == "shipped" and order.delivery_city == "Lisbon"
    assert services.order_get("nope") is None
    assert services.refund_for_order("55120").amount == "49.90"
    assert services.invoice_get("#00108").customer_name == "Ana Silva"
    assert [i.invoice_id for i in services.invoices_for_customer("Mr. Jones")] == ["85632"]


def test_cancel_only_open_orders(db):
    assert services.order_cancel("48213").status == "cancelled"
    assert services.order_get("48213").status == "cancelled"
    with pytest.raises(services.NotAllowed, match="already shipped"):
        services.order_cancel("12345")
    with pytest.raises(LookupError):
        services.order_cancel("99999")


def test_change_address_validates_it(db):
    assert services.order_change_address("80002", "Rua Nova 3, 4000-001 Porto").delivery_address.startswith("Rua Nova")
    with pytest.raises(services.NotAllowed, match="full address"):
        services.order_change_address("80002", "home")
    with pytest.raises(services.NotAllowed, match="already shipped"):
        services.order_change_address("12345", "Rua Nova 3, 4000-001 Porto")


def test_ticket_keeps_the_transcript(db):
    number = services.ticket_create(conversation_id="c", transcript="user: help")
    assert services.ticket_get(number)["transcript"] == "user: help"
    assert services.ticket_create(conversation_id="c", transcript="x") == number + 1


def test_make_db_command_resets_and_seeds(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert services.main(["--url", url]) == 0
    assert services.main(["--url", url, "--reset"]) == 0
    assert "orders: 5" in capsys.readouterr().out


def test_find_order_id():
    assert services.find_order_id("it's #48213!") == "48213"
    assert services.find_order_id("no number") is None


# -- order status ----------------------------------------------------------------
def test_status_from_the_entity(db):
    messages, events = run(
        A.ActionCheckOrderStatus(), tracker("status of 48213", entities=[{"entity": "order_id", "value": "48213"}])
    )
    assert "48213" in messages[0]["text"] and "processing" in messages[0]["text"]
    assert events == [{"event": "slot", "timestamp": None, "name": "order_id", "value": "48213"}]


def test_status_from_the_slot_when_no_entity(db):
    messages, _ = run(A.ActionCheckOrderStatus(), tracker("and its status?", slots={"order_id": "55120"}))
    assert "delivered" in messages[0]["text"]


def test_asks_for_the_number_when_none_given_and_the_answer_comes_back(db):
    messages, events = run(A.ActionCheckOrderStatus(), tracker("where is my order"))
    assert "order number" in messages[0]["text"]
    assert slot_events(events) == {"awaiting_number": "order_status"}
    messages, events = run(
        A.ActionInformNumber(), tracker("12345", "inform", slots={"awaiting_number": "order_status"})
    )
    assert "shipped" in messages[0]["text"] and slot_events(events)["awaiting_number"] is None


def test_unknown_order_clears_the_slot(db):
    messages, events = run(
        A.ActionCheckOrderStatus(), tracker("status of 11111", entities=[{"entity": "order_id", "value": "11111"}])
    )
    assert "couldn't find" in messages[0]["text"]
    assert slot_events(events) == {"order_id": None}


@pytest.mark.parametrize(
    ("action", "service", "t"),
    [
        (
            A.ActionCheckOrderStatus(),
            "order_get",
            tracker("status of 12345", entities=[{"entity": "order_id", "value": "12345"}]),
        ),
        (A.ActionTrackRefund(), "order_get", tracker("refund 55120", "track_refund")),
        (A.ActionTrackRefund(), "refund_for_order", tracker("refund 55120", "track_refund")),
        (
            A.ActionGetInvoice(),
            "invoice_get",
            tracker("invoice 00108", "get_invoice", [{"entity": "invoice_id", "value": "00108"}]),
        ),
        (
            A.ActionCancelOrder(),
            "order_cancel",
            tracker("yes", "affirm", slots={"order_id": "48213", "cancel_confirmed": True}),
        ),
        (
            A.ActionChangeAddress(),
            "order_change_address",
            tracker("x", "inform", slots={"order_id": "48213", "new_address": "Calle Mayor 7, 28013 Madrid"}),
        ),
    ],
)
def test_database_error_gives_a_polite_message(db, monkeypatch, action, service, t):
    monkeypatch.setattr(services, service, broken)
    messages, events = run(action, t)
    assert A.SORRY_DB in messages[0]["text"]
    assert all(e["event"] == "slot" for e in events)  # nothing that ends the conversation


def test_inform_without_a_question_offers_what_to_do(db):
    messages, events = run(A.ActionInformNumber(), tracker("48213", "inform"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/cancel_order{"order_id": "48213"}' in payloads and slot_events(events) == {"order_id": "48213"}


# -- refund and invoice ----------------------------------------------------------------
def test_refund_status(db):
    messages, _ = run(
        A.ActionTrackRefund(), tracker("refund for 55120", "track_refund", [{"entity": "order_id", "value": "55120"}])
    )
    assert "49.90" in messages[0]["text"] and "approved" in messages[0]["text"]
    messages, _ = run(A.ActionTrackRefund(), tracker("refund for 48213", "track_refund"))
    assert "no refund request" in messages[0]["text"]
    messages, events = run(A.ActionTrackRefund(), tracker("where is my refund", "track_refund"))
    assert slot_events(events) == {"awaiting_number": "refund"}


def test_invoice_by_number_and_by_name(db):
    messages, _ = run(
        A.ActionGetInvoice(), tracker("invoice #00108", "get_invoice", [{"entity": "invoice_id", "value": "#00108"}])
    )
    assert "89.50" in messages[0]["text"]
    messages, _ = run(
        A.ActionGetInvoice(),
        tracker("bill from Mr. Jones", "get_invoice", [{"entity": "person_name", "value": "Mr. Jones"}]),
    )
    assert "#85632" in messages[0]["text"]
    messages, events = run(A.ActionGetInvoice(), tracker("I need an invoice", "get_invoice"))
    assert slot_events(events) == {"awaiting_number": "invoice"}


# -- cancel ----------------------------------------------------------------
def test_start_cancel_activates_the_form_and_checks_a_known_number(db):
    _, events = run(A.ActionStartCancelOrder(), tracker("cancel my order", "cancel_order"))
    assert events[0] == {"event": "active_loop", "timestamp": None, "name": "cancel_order_form"}
    messages, events = run(
        A.ActionStartCancelOrder(), tracker("cancel 12345", "cancel_order", [{"entity": "order_id", "value": "12345"}])
    )
    assert "already shipped" in messages[0]["text"] and slot_events(events) == {"order_id": None}


def form_tracker(text: str, intent: str, requested: str, slots: dict | None = None) -> Tracker:
    return tracker(text, intent, slots={"requested_slot": requested, **(slots or {})})


def test_cancel_form_extracts_and_validates(db):
    form = A.ValidateCancelOrderForm()
    d = CollectingDispatcher()
    assert asyncio.run(form.extract_order_id(d, form_tracker("it's 48213", "inform", "order_id"), DOMAIN)) == {
        "order_id": "48213"
    }
    assert asyncio.run(form.extract_order_id(d, form_tracker("never mind", "stop", "order_id"), DOMAIN)) == {}
    assert form.validate_order_id("48213", d, form_tracker("48213", "inform", "order_id"), DOMAIN) == {
        "order_id": "48213"
    }
    assert form.validate_order_id("99999", d, form_tracker("99999", "inform", "order_id"), DOMAIN) == {"order_id": None}
    yes = asyncio.run(form.extract_cancel_confirmed(d, form_tracker("yes", "affirm", "cancel_confirmed"), DOMAIN))
    no = asyncio.run(form.extract_cancel_confirmed(d, form_tracker("no", "deny", "cancel_confirmed"), DOMAIN))
    assert yes == {"cancel_confirmed": True} and no == {"cancel_confirmed": False}
    assert "couldn't find" in texts(d.messages)


def test_cancel_after_confirmation_and_not_without(db):
    messages, events = run(
        A.ActionCancelOrder(), tracker("yes", "affirm", slots={"order_id": "48213", "cancel_confirmed": True})
    )
    assert "is cancelled" in messages[0]["text"] and services.order_get("48213").status == "cancelled"
    assert slot_events(events) == {"cancel_confirmed": None}
    messages, _ = run(
        A.ActionCancelOrder(), tracker("no", "deny", slots={"order_id": "80002", "cancel_confirmed": False})
    )
    assert "won't cancel" in messages[0]["text"] and services.order_get("80002").status == "processing"


# -- change of address ----------------------------------------------------------------
def test_address_form_validates_the_address(db):
    form = A.ValidateChangeAddressForm()
    d = CollectingDispatcher()
    t = form_tracker("home", "inform", "new_address", {"order_id": "48213"})
    assert form.validate_new_address("home", d, t, DOMAIN) == {"new_address": None}
    good = "Calle  Mayor 7, 28013 Madrid"
    assert form.validate_new_address(good, d, t, DOMAIN) == {"new_address": "Calle Mayor 7, 28013 Madrid"}
    assert asyncio.run(form.extract_new_address(d, form_tracker(good, "inform", "new_address"), DOMAIN)) == {
        "new_address": good
    }
    assert asyncio.run(form.extract_new_address(d, form_tracker("forget it", "stop", "new_address"), DOMAIN)) == {}
    assert "full address" in texts(d.messages)


def test_change_address_after_the_form(db):
    slots = {"order_id": "48213", "new_address": "Calle Mayor 7, 28013 Madrid"}
    messages, events = run(A.ActionChangeAddress(), tracker("x", "inform", slots=slots))
    assert "Calle Mayor 7" in messages[0]["text"] and services.order_get("48213").delivery_address.startswith("Calle")
    assert slot_events(events) == {"new_address": None}


# -- hand-over ----------------------------------------------------------------
def test_handoff_records_a_ticket_with_the_transcript(db):
    events = [
        {"event": "user", "text": "where is my refund"},
        {"event": "bot", "text": "Which order is the refund for?"},
    ]
    messages, _ = run(A.ActionHandoff(), tracker("I want a human", "contact_human_agent", events=events))
    number = int(messages[0]["text"].split("ticket number is ")[1].split(".")[0])
    ticket = services.ticket_get(number)
    assert ticket["conversation_id"] == "conv-1"
    assert ticket["transcript"] == "user: where is my refund\nbot: Which order is the refund for?\nuser: I want a human"


def test_handoff_database_error_is_polite(db, monkeypatch):
    monkeypatch.setattr(services, "ticket_create", broken)
    messages, events = run(A.ActionHandoff(), tracker("human please", "contact_human_agent"))
    assert messages[0]["text"] == A.SORRY_TICKET and events == []


# -- not understood ----------------------------------------------------------------
def test_out_of_scope_offers_the_main_topics():
    messages, _ = run(A.ActionClarify(), tracker("weather?", "out_of_scope"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "Cancel an order" in titles and "Talk to a person" in titles and "Track an order" not in titles


def test_ambiguous_message_asks_between_the_two_best():
    t = tracker(
        "order 48213 money back",
        "nlu_fallback",
        [{"entity": "order_id", "value": "48213"}],
        ranking=[("nlu_fallback", 0.4), ("track_refund", 0.4), ("cancel_order", 0.35), ("greet", 0.01)],
    )
    messages, _ = run(A.ActionClarify(), t)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[:2] == ['/track_refund{"order_id": "48213"}', '/cancel_order{"order_id": "48213"}']


def test_low_confidence_is_treated_as_out_of_scope():
    t = tracker("blorp", "nlu_fallback", ranking=[("nlu_fallback", 0.3), ("greet", 0.12), ("cancel_order", 0.1)])
    messages, _ = run(A.ActionClarify(), t)
    assert "can't help with that" in messages[0]["text"]
