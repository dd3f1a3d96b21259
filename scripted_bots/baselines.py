"""Baseline bots for comparisons and studies: what a real bot should beat."""

from __future__ import annotations

import re

from .base import Message, ScriptedBot, scripted_bot


@scripted_bot
class EchoBot(ScriptedBot):
    """Repeats what the user wrote."""

    description = "repeats each message"

    def reply(self, text: str) -> list[Message]:
        return [{"text": f"You said: {text}"}]


@scripted_bot
class CannotHelpBot(ScriptedBot):
    """Always says it cannot help: the floor any assistant must rise above."""

    description = "always says it cannot help"
    text = "Sorry, I can't help with that. Please contact our customer service team by email."

    def reply(self, text: str) -> list[Message]:
        return [{"text": self.text}]


WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "can", "could", "do", "does", "for", "have", "how", "i", "is", "it", "me", "my"),
        *("of", "on", "please", "the", "to", "what", "when", "where", "which", "will", "with", "would", "you", "your"),
    }
)


def words(text: str) -> set[str]:
    """Lower-case content words of ``text`` (stop words dropped)."""
    return {w for w in WORD.findall(text.lower()) if w not in STOP_WORDS}


@scripted_bot
class FaqBot(ScriptedBot):
    """A fixed FAQ: answers with the entry sharing the most words with the question (keyword lookup).

    No learning, no state: the baseline a trained intent classifier is compared with.
    Subclass and replace :attr:`faq` (question keywords -> answer) for another FAQ.
    """

    description = "fixed FAQ lookup by shared keywords"
    faq: tuple[tuple[str, str], ...] = (
        (
            "order status track where is my order delivery shipped",
            "You can track your order under My account > Orders.",
        ),
        ("cancel order cancellation", "To cancel an order, open it under My account > Orders and choose Cancel."),
        ("refund money back return", "Refunds reach your account 5-7 working days after we receive the return."),
        ("invoice receipt bill", "Invoices are under My account > Orders > Invoice."),
        (
            "change address delivery address shipping address",
            "You can change the delivery address until the order ships.",
        ),
        ("payment pay card methods", "We accept cards, PayPal and bank transfer."),
        ("hello hi hey good morning", "Hello! Ask me about orders, refunds, invoices, payment or delivery."),
    )
    fallback = "I don't know that one. I can answer questions about orders, refunds, invoices, payment and delivery."

    def reply(self, text: str) -> list[Message]:
        asked = words(text)
        best, score = None, 0
        for keywords, answer in self.faq:
            shared = len(asked & words(keywords))
            if shared > score:
                best, score = answer, shared
        return [{"text": best or self.fallback}]
