"""rasa-sdk actions: read the conversation, call a service, answer."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from . import services

logger = logging.getLogger(__name__)

SORRY_DB = "Sorry, I can't reach our order system right now. Please try again in a few minutes."


class ActionCheckOrderStatus(Action):
    """Tell the user the status of the order whose number they gave."""

    def name(self) -> str:
        return "action_check_order_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        order_id = next(tracker.get_latest_entity_values("order_id"), None) or tracker.get_slot("order_id")
        if not order_id:
            dispatcher.utter_message(text="Sure. What is your order number?")
            return []
        try:
            order = services.order_get(str(order_id))
        except SQLAlchemyError:
            logger.exception("order lookup failed")
            dispatcher.utter_message(text=SORRY_DB)
            return []
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
