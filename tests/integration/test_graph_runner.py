"""The sequential graph runner gives exactly what Rasa's dask runner gives, on the trained demo model."""

from __future__ import annotations

import asyncio

import pytest
from rasa.engine.runner.dask import DaskGraphRunner

from launcher.nlu_eval import load_agent
from rasa_bot.channels.graph_runner import SequentialGraphRunner
from tests.tracker_events import comparable, corpus_texts

pytestmark = pytest.mark.integration

OTHER_TEXTS = ["", "asdfgh qwerty", "hello", "I want to speak to a human", "order 123456 where is it", "?" * 300]


@pytest.fixture(scope="module")
def agents(demo_bot):
    bot_dir, model = demo_bot
    rasa_agent, ours = load_agent(model, bot_dir), load_agent(model, bot_dir)
    assert isinstance(rasa_agent.processor.graph_runner, DaskGraphRunner)
    ours.processor.graph_runner = SequentialGraphRunner.replacing(ours.processor.graph_runner)
    return rasa_agent, ours


def test_same_understanding_of_every_corpus_message(agents):
    rasa_agent, ours = agents
    texts = corpus_texts() + OTHER_TEXTS

    async def both() -> list[tuple[dict, dict]]:
        return [(await rasa_agent.parse_message(t), await ours.parse_message(t)) for t in texts]

    results = asyncio.run(both())
    assert len(results) > 400
    for (theirs, mine), text in zip(results, texts, strict=True):
        assert mine == theirs, text


def test_same_conversations(agents):
    """Whole conversations (forms, fallbacks, custom actions with no action server) end identically."""
    rasa_agent, ours = agents
    texts = corpus_texts()
    conversations = [texts[i : i + 12] + OTHER_TEXTS[i % len(OTHER_TEXTS) :][:2] for i in range(0, len(texts), 12)]

    async def talk(agent, name: str, turns: list[str]) -> tuple[list, list[dict]]:
        replies = [await agent.handle_text(text, sender_id=name) for text in turns]
        tracker = await agent.tracker_store.retrieve(name)
        return replies, comparable([e.as_dict() for e in tracker.events])

    async def all_of_them() -> list[tuple]:
        out = []
        for n, turns in enumerate(conversations):
            out.append((await talk(rasa_agent, f"c{n}", turns), await talk(ours, f"c{n}", turns)))
        return out

    results = asyncio.run(all_of_them())
    assert len(results) > 30
    for theirs, mine in results:
        assert mine == theirs
    assert sum(len(events) for (_, events), _ in results) > 1000  # real conversations, not empty ones
    assert sum(bool(reply) for (replies, _), _ in results for reply in replies) > 100  # and the bot spoke


def test_targets_and_inputs_as_rasa(agents):
    rasa_agent, ours = agents
    runner, dask_runner = ours.processor.graph_runner, rasa_agent.processor.graph_runner
    targets = [ours.processor.model_metadata.nlu_target]
    node = next(iter(dask_runner._graph_schema.nodes))
    for each in (dask_runner, runner):  # an input may not be named like a node
        with pytest.raises(Exception, match="clashes with a node name"):
            each.run(inputs={"x": node}, targets=targets)
    # a target that is an input of the run comes back as given
    assert runner.run(inputs={"__x__": 42}, targets=["__x__"]) == dask_runner.run(
        inputs={"__x__": 42}, targets=["__x__"]
    )
