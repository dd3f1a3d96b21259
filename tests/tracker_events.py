"""What the tests that compare the project's stack with stock Rasa share: the demo corpus, comparable events."""

from __future__ import annotations

import csv

from launcher import paths


def corpus_texts() -> list[str]:
    """Every user message of the demo corpus, in file order."""
    with paths.DEMO_CORPUS.open(newline="", encoding="utf-8") as f:
        return [row["utterance"] for row in csv.DictReader(f)]


def comparable(events: list[dict]) -> list[dict]:
    """Events without what differs between any two runs (times, message ids)."""
    drop = {"timestamp", "message_id"}
    out = []
    for event in events:
        event = {k: v for k, v in event.items() if k not in drop}
        if isinstance(event.get("parse_data"), dict):
            event["parse_data"] = {k: v for k, v in event["parse_data"].items() if k not in drop}
        out.append(event)
    return out
