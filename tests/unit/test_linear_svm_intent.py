"""The project's intent classifier: training, storage, and the one-message fast path agreeing with the batch path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_bot.components.linear_svm_intent import SMALL_BATCH, LinearSvmIntentClassifier

WIDTHS = {"words": 60, "chars": 90}
INTENTS = ["cancel_order", "get_refund", "track_order"]


def featurised(
    rng: np.random.Generator, intent: str | None, *, drop: str | None = None, repeat: bool = False
) -> Message:
    """A message whose counts fall mostly in its intent's own columns of each featurizer (noise elsewhere)."""
    message = Message(data={TEXT: "some text", **({INTENT: intent} if intent else {})})
    for origin, width in WIDTHS.items():
        if origin == drop:
            continue
        if intent is None:
            columns = rng.choice(width, size=6, replace=False)
        else:
            band = width // len(INTENTS)
            start = INTENTS.index(intent) * band
            columns = np.concatenate([start + rng.choice(band, size=5, replace=False), rng.choice(width, size=2)])
        if repeat:  # the same column twice: COO entries that add up
            columns = np.concatenate([columns, columns[:2]])
        counts = sp.coo_matrix(
            (rng.integers(1, 4, size=len(columns)).astype(np.float32), (np.zeros(len(columns), int), columns)),
            shape=(1, width),
        )
        message.features.append(Features(counts, "sentence", TEXT, origin))
    return message


@pytest.fixture()
def trained(tmp_path) -> tuple[LinearSvmIntentClassifier, LocalModelStorage, Resource]:
    rng = np.random.default_rng(7)
    storage, resource = LocalModelStorage(tmp_path), Resource("svm")
    examples = [featurised(rng, intent) for intent in INTENTS for _ in range(30)]
    component = LinearSvmIntentClassifier.create({}, storage, resource, None)
    component.train(TrainingData(training_examples=examples))
    return component, storage, resource


def test_one_message_scores_equal_the_sparse_matrix_path(trained) -> None:
    component, _, _ = trained
    rng = np.random.default_rng(11)
    messages = [featurised(rng, INTENTS[i % 3], repeat=i % 2 == 0) for i in range(30)]
    messages += [featurised(rng, None), featurised(rng, "get_refund", drop="chars"), Message(data={TEXT: "bare"})]
    assert len(messages) > SMALL_BATCH  # the batch call takes the sparse-matrix path
    batch = component.predict(messages)
    one_by_one = np.vstack([component.predict([m]) for m in messages])
    np.testing.assert_allclose(one_by_one, batch, rtol=1e-9, atol=1e-12)
    # a message without features scores the intercepts only
    bare = component.predict([messages[-1]])[0]
    np.testing.assert_allclose(bare, component.predict([Message(data={TEXT: "x"})])[0])


def test_trained_model_round_trips_through_storage_and_classifies(trained) -> None:
    component, storage, resource = trained
    loaded = LinearSvmIntentClassifier.load({}, storage, resource, None)
    assert loaded.classes == INTENTS and loaded.origins == sorted(WIDTHS)
    rng = np.random.default_rng(3)
    messages = [featurised(rng, intent) for intent in INTENTS for _ in range(5)]
    np.testing.assert_allclose(loaded.predict(messages), component.predict(messages))
    loaded.process(messages)
    predicted = [m.get(INTENT)["name"] for m in messages]
    assert predicted == [intent for intent in INTENTS for _ in range(5)]
    ranking = messages[0].get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "cancel_order"
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-9
