"""rasa-sdk actions: read the conversation, call a service, answer.

Every action that touches the database turns a database error into a polite
message and returns no events that would lose what the user said, so the
conversation goes on.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from . import services
from .past_answers import past_answer

logger = logging.getLogger(__name__)

SORRY_DB = "Sorry, I can't reach our order system right now. Please try again in a few minutes."
SORRY_TICKET = (
    "Sorry, I couldn't open a ticket for a colleague right now. Please try again in a few minutes, "
    "or write to support@example.com."
)

#: How the main topics are offered on buttons (only intents the model knows are shown).
TOPICS = {
    "check_order_status": "Order status",
    "track_order": "Track an order",
    "cancel_order": "Cancel an order",
    "change_shipping_address": "Change delivery address",
    "track_refund": "Track a refund",
    "get_invoice": "Get an invoice",
    "contact_human_agent": "Talk to a person",
}
#: Intents never offered as "did you mean" choices.
NOT_CHOICES = {"nlu_fallback", "out_of_scope", "affirm", "deny", "stop", "inform", "goodbye", "thank"}
#: A message is *ambiguous* (rather than out of scope) when its best intent has at
#: least this confidence and the runner-up at least AMBIGUOUS_SECOND.
#: How a reply from past conversations is given. A constant here, like the other texts of the actions, not a
#: domain response: one that no story or rule uses fails `rasa data validate --fail-on-warnings`.
PAST_ANSWER = "From our past conversations with customers: {reply}"
#: Predictions for which action_clarify first looks for an answer in past conversations.
PAST_ANSWER_INTENTS = {"nlu_fallback", "out_of_scope"}
AMBIGUOUS_TOP = 0.3
AMBIGUOUS_SECOND = 0.15


def label(intent: str) -> str:
    """A button title for an intent."""
    return TOPICS.get(intent) or intent.replace("_", " ").capitalize()


def intent_payload(intent: str, entities: list[dict[str, Any]] | None = None) -> str:
    """A button payload that triggers ``intent`` with the message's entities (``/intent{"order_id": "1"}``)."""
    found = {e["entity"]: e["value"] for e in entities or [] if e.get("entity") and e.get("value") is not None}
    return f"/{intent}" + (json.dumps(found) if found else "")


def order_number(tracker: Tracker) -> str | None:
    """The order number of the latest message (entity, else digits in the text), else the slot."""
    value = next(tracker.get_latest_entity_values("order_id"), None)
    value = services.find_order_id(str(value)) if value else None
    return value or services.find_order_id(tracker.latest_message.get("text")) or tracker.get_slot("order_id")


def transcript(tracker: Tracker) -> str:
    """The conversation so far as text, one line per message."""
    lines = []
    for event in tracker.events:
        if event.get("event") == "user" and event.get("text"):
            lines.append(f"user: {event['text']}")
        elif event.get("event") == "bot" and event.get("text"):
            lines.append(f"bot: {event['text']}")
    latest = tracker.latest_message.get("text")
    if latest and (not lines or lines[-1] != f"user: {latest}"):
        lines.append(f"user: {latest}")
    return "\n".join(lines)


Answer = Callable[[CollectingDispatcher, str], list[dict[str, Any]]]


def polite_on_database_error(what: str) -> Callable[[Answer], Answer]:
    """A look-up that reads the database before it says anything: on a database error, apologise instead.

    No events are returned then, so nothing the user said is lost and they can ask again.
    """

    def decorate(answer: Answer) -> Answer:
        @functools.wraps(answer)
        def guarded(dispatcher: CollectingDispatcher, key: str) -> list[dict[str, Any]]:
            try:
                return answer(dispatcher, key)
            except SQLAlchemyError:
                logger.exception("%s look-up failed", what)
                dispatcher.utter_message(text=SORRY_DB)
                return []

        return guarded

    return decorate


# -- order status ----------------------------------------------------------------
@polite_on_database_error("order")
def tell_status(dispatcher: CollectingDispatcher, order_id: str) -> list[dict[str, Any]]:
    order = services.order_get(order_id)
    if order is None:
        dispatcher.utter_message(text=f"I couldn't find an order {order_id}. Please check the number.")
        return [SlotSet("order_id", None)]
    dispatcher.utter_message(
        text=(
            f"Order {order.order_id}, placed on {order.placed_on:%d %B %Y} for delivery to "
            f"{order.delivery_city}, is {order.status}."
        )
    )
    return [SlotSet("order_id", order.order_id)]


class ActionCheckOrderStatus(Action):
    """Tell the user the status of the order whose number they gave."""

    def name(self) -> str:
        return "action_check_order_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_id = order_number(tracker)
        if not order_id:
            dispatcher.utter_message(text="Sure. What is your order number?")
            return [SlotSet("awaiting_number", "order_status")]
        return tell_status(dispatcher, str(order_id))


# -- refunds and invoices ----------------------------------------------------------------
@polite_on_database_error("refund")
def tell_refund(dispatcher: CollectingDispatcher, order_id: str) -> list[dict[str, Any]]:
    order = services.order_get(order_id)
    refund = services.refund_for_order(order_id) if order else None
    if order is None:
        dispatcher.utter_message(text=f"I couldn't find an order {order_id}. Please check the number.")
        return [SlotSet("order_id", None)]
    if refund is None:
        dispatcher.utter_message(
            text=f"There is no refund request for order {order_id}. You can ask for one under 'My Orders'."
        )
    else:
        dispatcher.utter_message(
            text=(
                f"The refund of {refund.amount} for order {order_id}, requested on {refund.requested_on:%d %B %Y}, "
                f"is {refund.status}."
            )
        )
    return [SlotSet("order_id", order_id)]


class ActionTrackRefund(Action):
    """Tell the user where the refund of an order stands."""

    def name(self) -> str:
        return "action_track_refund"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_id = order_number(tracker)
        if not order_id:
            dispatcher.utter_message(text="I can check that. Which order is the refund for? Tell me its order number.")
            return [SlotSet("awaiting_number", "refund")]
        return tell_refund(dispatcher, str(order_id))


@polite_on_database_error("invoice")
def tell_invoice(dispatcher: CollectingDispatcher, invoice_id: str) -> list[dict[str, Any]]:
    invoice = services.invoice_get(invoice_id)
    if invoice is None:
        dispatcher.utter_message(text=f"I couldn't find an invoice {invoice_id}. Please check the number.")
        return [SlotSet("invoice_id", None)]
    dispatcher.utter_message(
        text=(
            f"Invoice #{invoice.invoice_id} of {invoice.issued_on:%d %B %Y}, for order {invoice.order_id}: "
            f"{invoice.amount}, billed to {invoice.customer_name}. A PDF copy is in 'My Account' > 'Invoices'."
        )
    )
    return [SlotSet("invoice_id", invoice.invoice_id)]


class ActionGetInvoice(Action):
    """Look an invoice up by its number, or list a customer's invoices by name."""

    def name(self) -> str:
        return "action_get_invoice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        invoice_id = next(tracker.get_latest_entity_values("invoice_id"), None) or tracker.get_slot("invoice_id")
        if invoice_id:
            return tell_invoice(dispatcher, str(invoice_id))
        name = next(tracker.get_latest_entity_values("person_name"), None)
        if name:
            try:
                found = services.invoices_for_customer(str(name))
            except SQLAlchemyError:
                logger.exception("invoice search failed")
                dispatcher.utter_message(text=SORRY_DB)
                return []
            if found:
                listed = "; ".join(f"#{i.invoice_id} ({i.issued_on:%d %B %Y}, {i.amount})" for i in found)
                dispatcher.utter_message(text=f"Invoices for {name}: {listed}.")
                return []
            dispatcher.utter_message(text=f"I found no invoices for {name}.")
        dispatcher.utter_message(text="Which invoice do you need? Tell me its invoice number.")
        return [SlotSet("awaiting_number", "invoice")]


class ActionInformNumber(Action):
    """A number on its own: answer the question the bot asked last, or ask what to do with it."""

    def name(self) -> str:
        return "action_inform_number"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        number = services.find_order_id(tracker.latest_message.get("text")) or next(
            tracker.get_latest_entity_values("order_id"), None
        )
        awaiting = tracker.get_slot("awaiting_number")
        if not number:
            dispatcher.utter_message(text="I didn't catch a number there. Could you type it again?")
            return []
        done = [SlotSet("awaiting_number", None)]
        if awaiting == "order_status":
            return done + tell_status(dispatcher, number)
        if awaiting == "refund":
            return done + tell_refund(dispatcher, number)
        if awaiting == "invoice":
            return done + tell_invoice(dispatcher, number)
        entities = [{"entity": "order_id", "value": number}]
        dispatcher.utter_message(
            text=f"What would you like to do with order {number}?",
            buttons=[
                {"title": label(i), "payload": intent_payload(i, entities)}
                for i in ("check_order_status", "cancel_order", "change_shipping_address", "track_refund")
                if i in domain.get("intents", [])
            ],
        )
        return [SlotSet("order_id", number)]


# -- cancel (a form asks for the number and a confirmation) ------------------------------------
def check_open_order(dispatcher: CollectingDispatcher, value: Any, what: str) -> dict[str, Any]:
    """Validate an order number for a change: it exists and has not shipped."""
    number = services.find_order_id(str(value)) if value else None
    if not number:
        dispatcher.utter_message(text="An order number is a string of digits, like 12345.")
        return {"order_id": None}
    try:
        order = services.order_get(number)
    except SQLAlchemyError:
        logger.exception("order lookup failed")
        return {"order_id": number}  # the final action reports the error
    if order is None:
        dispatcher.utter_message(text=f"I couldn't find an order {number}. Please check the number, or say stop.")
        return {"order_id": None}
    if order.status not in services.OPEN_STATUSES:
        dispatcher.utter_message(
            text=f"Order {number} is already {order.status}, so {what}. Another order number, or say stop."
        )
        return {"order_id": None}
    return {"order_id": number}


class StartForm:
    """Start a form from an intent: check a number already known, then activate the form (a mixin:
    rasa-sdk registers every Action subclass, so the base is not one).

    The converter's rules map an intent to one action and then wait for the
    user, so a rule cannot run a form directly (Rasa wants the rule to show the
    form active). This action activates it; Rasa then runs the active form at
    once, and the form asks its first missing slot.
    """

    form = ""
    what = ""

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        number = next(tracker.get_latest_entity_values("order_id"), None) or tracker.get_slot("order_id")
        if number:
            events.append(SlotSet("order_id", check_open_order(dispatcher, number, self.what)["order_id"]))
        return [ActiveLoop(self.form), *events]


class ActionStartCancelOrder(StartForm, Action):
    """``cancel_order``: the form asks for the order number (if not known) and a confirmation."""

    form = "cancel_order_form"
    what = "it can no longer be cancelled"

    def name(self) -> str:
        return "action_cancel_order_start"


class ActionStartChangeAddress(StartForm, Action):
    """``change_shipping_address``: the form asks for the order number (if not known) and the address."""

    form = "change_address_form"
    what = "its address can no longer be changed"

    def name(self) -> str:
        return "action_change_address_start"


class ValidateCancelOrderForm(FormValidationAction):
    """Collects the order number and a yes/no for the cancel form."""

    def name(self) -> str:
        return "validate_cancel_order_form"

    async def extract_order_id(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        if tracker.get_slot("requested_slot") != "order_id":
            return {}
        number = services.find_order_id(tracker.latest_message.get("text"))
        return {"order_id": number} if number else {}

    async def extract_cancel_confirmed(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        if tracker.get_slot("requested_slot") != "cancel_confirmed":
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "affirm":
            return {"cancel_confirmed": True}
        if intent in ("deny", "stop"):
            return {"cancel_confirmed": False}
        dispatcher.utter_message(text="Please answer yes or no.")
        return {"cancel_confirmed": None}

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        if tracker.get_slot("requested_slot") == "order_id" and not value:
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent not in ("stop", "deny"):
                dispatcher.utter_message(text="An order number is a string of digits, like 12345. Or say stop.")
            return {"order_id": None}
        return check_open_order(dispatcher, value, "it can no longer be cancelled")


class ActionCancelOrder(Action):
    """After the form: cancel the order if the user said yes."""

    def name(self) -> str:
        return "action_cancel_order"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_id = tracker.get_slot("order_id")
        reset = [SlotSet("cancel_confirmed", None)]
        if not tracker.get_slot("cancel_confirmed"):
            dispatcher.utter_message(text=f"OK, I won't cancel order {order_id}. It stays as it is.")
            return reset
        try:
            services.order_cancel(str(order_id))
        except SQLAlchemyError:
            logger.exception("cancel failed")
            dispatcher.utter_message(text=SORRY_DB + f" Order {order_id} has not been cancelled.")
            return reset
        except LookupError:
            dispatcher.utter_message(text=f"I couldn't find an order {order_id}. Please check the number.")
            return reset + [SlotSet("order_id", None)]
        except services.NotAllowed as exc:
            dispatcher.utter_message(text=str(exc))
            return reset
        dispatcher.utter_message(
            text=f"Done: order {order_id} is cancelled. You will get a confirmation email, and any payment is refunded."
        )
        return reset


# -- change of address (a form asks for the number and the new address) ------------------------
class ValidateChangeAddressForm(FormValidationAction):
    """Collects and checks the order number and the new address."""

    def name(self) -> str:
        return "validate_change_address_form"

    async def extract_order_id(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        if tracker.get_slot("requested_slot") != "order_id":
            return {}
        number = services.find_order_id(tracker.latest_message.get("text"))
        return {"order_id": number} if number else {}

    async def extract_new_address(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        if tracker.get_slot("requested_slot") != "new_address":
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("stop", "deny"):
            return {}
        return {"new_address": tracker.latest_message.get("text")}

    def validate_order_id(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        return check_open_order(dispatcher, value, "its address can no longer be changed")

    def validate_new_address(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        problem = services.validate_address(value)
        if problem:
            dispatcher.utter_message(text=problem)
            return {"new_address": None}
        return {"new_address": " ".join(str(value).split())}


class ActionChangeAddress(Action):
    """After the form: send the order to the new address."""

    def name(self) -> str:
        return "action_change_address"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        order_id, address = tracker.get_slot("order_id"), tracker.get_slot("new_address")
        reset = [SlotSet("new_address", None)]
        try:
            order = services.order_change_address(str(order_id), str(address))
        except SQLAlchemyError:
            logger.exception("address change failed")
            dispatcher.utter_message(text=SORRY_DB + f" The address of order {order_id} has not been changed.")
            return reset
        except LookupError:
            dispatcher.utter_message(text=f"I couldn't find an order {order_id}. Please check the number.")
            return reset + [SlotSet("order_id", None)]
        except services.NotAllowed as exc:
            dispatcher.utter_message(text=str(exc))
            return reset
        dispatcher.utter_message(text=f"Done: order {order.order_id} will be delivered to {order.delivery_address}.")
        return reset


# -- a person takes over --------------------------------------------------------------------------
class ActionHandoff(Action):
    """Open a ticket with the conversation so far and give the user its number."""

    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            ticket = services.ticket_create(conversation_id=tracker.sender_id, transcript=transcript(tracker))
        except SQLAlchemyError:
            logger.exception("ticket creation failed")
            dispatcher.utter_message(text=SORRY_TICKET)
            return []
        dispatcher.utter_message(
            text=(
                f"I've passed our conversation to a colleague: your ticket number is {ticket}. "
                "A person will reply here as soon as possible, usually within a few minutes during opening hours."
            )
        )
        return []


# -- not understood ----------------------------------------------------------------------------------
class ActionClarify(Action):
    """Out of scope or unsure: a past answer if one is close enough, else offer the main topics; ambiguous: ask
    which of the two best intents was meant."""

    def name(self) -> str:
        return "action_clarify"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        text = message.get("text") or ""
        if intent in PAST_ANSWER_INTENTS and not text.startswith("/"):
            hit = past_answer(text)  # the team's reply to the most similar past message, if similar enough
            if hit is not None:
                dispatcher.utter_message(text=PAST_ANSWER.format(reply=hit.reply))
                return []
        known = set(domain.get("intents", [])) if domain else set()
        ranking = [
            r
            for r in message.get("intent_ranking") or []
            if r.get("name") not in NOT_CHOICES and (not known or r.get("name") in known)
        ]
        entities = message.get("entities") or []
        if (
            intent == "nlu_fallback"
            and len(ranking) >= 2
            and ranking[0]["confidence"] >= AMBIGUOUS_TOP
            and ranking[1]["confidence"] >= AMBIGUOUS_SECOND
        ):
            first, second = ranking[0]["name"], ranking[1]["name"]
            dispatcher.utter_message(
                text=f"I'm not sure what you mean: {label(first).lower()} or {label(second).lower()}?",
                buttons=[
                    {"title": label(first), "payload": intent_payload(first, entities)},
                    {"title": label(second), "payload": intent_payload(second, entities)},
                    {"title": "Something else", "payload": "/out_of_scope"},
                ],
            )
            return []
        topics = [i for i in TOPICS if not known or i in known]
        dispatcher.utter_message(
            text=(
                "Sorry, I can't help with that. I can help with orders, refunds, invoices, payments, delivery "
                "and your account. Pick a topic or ask in your own words:"
            ),
            buttons=[{"title": label(i), "payload": f"/{i}"} for i in topics],
        )
        return []
