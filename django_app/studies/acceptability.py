"""Acceptability checks on a participant's side of a conversation. Pure: messages in, the names of failed checks out.

Recorded per conversation when its chat ends (``StudyConversation.flags``) and exported, so an analysis can exclude
the conversations that failed (``studies.analysis.apply_exclusions``); nothing is refused on their account.

- ``few_words``: the participant's messages have fewer than ``min_mean_words`` words on average;
- ``repeated_message``: the participant sent the same message (case and spacing aside) more than once;
- ``pasted_bot_text``: a participant's message contains ``pasted_min_chars`` or more characters of a reply of the bot;
- ``too_fast``: a participant answered a reply faster than a person reads it (``max_words_per_second``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

CHECKS = ("few_words", "repeated_message", "pasted_bot_text", "too_fast")
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Rules:
    """The checks' thresholds (a study file's ``acceptability:`` overrides them)."""

    min_mean_words: float = 2.0
    pasted_min_chars: int = 30
    #: Faster than this many words of the bot's reply per second (reading and typing) is not a person.
    max_words_per_second: float = 10.0


@dataclass(frozen=True)
class Said:
    """One message of the conversation as the checks see it."""

    sender: str  # "user" | "bot"
    text: str
    sent_at: datetime


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def failed_checks(messages: Sequence[Said], rules: Rules = Rules()) -> list[str]:
    """The checks the participant's messages fail, in ``CHECKS`` order."""
    user = [m for m in messages if m.sender == "user"]
    failed: set[str] = set()
    if user and sum(len(WORD.findall(m.text)) for m in user) / len(user) < rules.min_mean_words:
        failed.add("few_words")
    said = [_norm(m.text) for m in user if m.text.strip()]
    if len(said) != len(set(said)):
        failed.add("repeated_message")
    previous_bot: Said | None = None
    bot_texts: list[str] = []
    for m in messages:
        if m.sender == "bot":
            previous_bot = m
            bot_texts.append(_norm(m.text))
            continue
        text = _norm(m.text)
        for reply in bot_texts:
            if len(reply) >= rules.pasted_min_chars and _longest_common(text, reply) >= rules.pasted_min_chars:
                failed.add("pasted_bot_text")
        if previous_bot is not None:
            seconds = (m.sent_at - previous_bot.sent_at).total_seconds()
            words = len(WORD.findall(previous_bot.text)) + len(WORD.findall(m.text))
            if words and seconds < words / rules.max_words_per_second:
                failed.add("too_fast")
            previous_bot = None
    return [c for c in CHECKS if c in failed]


def _longest_common(a: str, b: str) -> int:
    """Length of the longest common substring of ``a`` and ``b`` (dynamic programming; messages are short)."""
    if not a or not b:
        return 0
    best = 0
    row = [0] * (len(b) + 1)
    for ca in a:
        previous = 0
        for j, cb in enumerate(b, start=1):
            current = row[j]
            row[j] = previous + 1 if ca == cb else 0
            best = max(best, row[j])
            previous = current
    return best
