"""The intent classifier's pair models and calibrated confidences (rasa_bot/components/linear_svm_intent.py)."""

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
from sklearn.kernel_ridge import KernelRidge

from rasa_bot.components.linear_svm_intent import LinearSvmIntentClassifier, softmax

WIDTH = 40
INTENTS = ["a", "b", "c", "d", "e"]


def message(rng: np.random.Generator, intent: str | None) -> Message:
    """Counts mostly in the intent's own band of columns; intents b and c share half their band (confusable)."""
    band = WIDTH // len(INTENTS)
    if intent is None:
        columns = rng.choice(WIDTH, size=5, replace=False)
    else:
        start = INTENTS.index(intent) * band
        if intent == "c":
            start -= band // 2
        columns = np.concatenate([start + rng.choice(band, size=4, replace=False), rng.choice(WIDTH, size=1)])
    counts = sp.coo_matrix((np.ones(len(columns), np.float32), (np.zeros(len(columns), int), columns)), (1, WIDTH))
    m = Message(data={TEXT: "text", **({INTENT: intent} if intent else {})})
    m.features.append(Features(counts, "sentence", TEXT, "words"))
    return m


def train(tmp_path, **config) -> LinearSvmIntentClassifier:
    rng = np.random.default_rng(5)
    examples = [message(rng, intent) for intent in INTENTS for _ in range(25)]
    component = LinearSvmIntentClassifier.create(config, LocalModelStorage(tmp_path), Resource("svm"), None)
    component.train(TrainingData(training_examples=examples))
    return component


def tfidf_row(component: LinearSvmIntentClassifier, m: Message) -> np.ndarray:
    return component._matrix([m]).toarray()[0]


def test_pair_model_is_kernel_ridge_on_the_two_intents_examples(tmp_path) -> None:
    component = train(tmp_path, pairwise_candidates=2, pairwise_ridge=0.3, confidence_scale=5.0)
    rng = np.random.default_rng(1)
    m = message(rng, "b")
    x = tfidf_row(component, m)
    margins = component.intercept + component.coef @ x
    i, j = (int(c) for c in np.argsort(-margins)[:2])
    # the same pair fitted with scikit-learn: linear kernel on the rows plus a constant feature
    rows = [component.pair_blocks[c].toarray() for c in (i, j)]
    features = np.hstack([np.vstack(rows), np.ones((sum(len(r) for r in rows), 1))])
    target = np.concatenate([np.ones(len(rows[0])), -np.ones(len(rows[1]))])
    ridge = KernelRidge(alpha=0.3, kernel="linear").fit(features, target)
    expected = ridge.predict(np.append(x, 1.0)[None, :])[0]
    moved = component._rerank(margins, x) - margins
    assert moved[i] == pytest.approx(expected, rel=1e-4)  # the first intent gains the pair's score
    assert moved[j] == pytest.approx(-expected, rel=1e-4)  # the second loses it
    assert np.count_nonzero(moved) == 2


def test_re_ranking_moves_only_the_candidates_and_keeps_their_mean(tmp_path) -> None:
    component = train(tmp_path, pairwise_candidates=3, confidence_scale=5.0)
    rng = np.random.default_rng(2)
    for intent in INTENTS:
        x = tfidf_row(component, message(rng, intent))
        margins = component.intercept + component.coef @ x
        candidates = np.argsort(-margins)[:3]
        moved = component._rerank(margins, x)
        others = np.setdiff1d(np.arange(len(INTENTS)), candidates)
        np.testing.assert_array_equal(moved[others], margins[others])
        assert moved[candidates].mean() == pytest.approx(margins[candidates].mean())
        assert int(np.argmax(moved)) in candidates


def test_without_pairs_the_scores_are_the_svm_margins(tmp_path) -> None:
    component = train(tmp_path, pairwise_candidates=0, confidence_scale=5.0)
    assert not component.pair_blocks and component.pair_alpha is None
    rng = np.random.default_rng(3)
    messages = [message(rng, intent) for intent in INTENTS]
    x = component._matrix(messages)
    expected = softmax(np.asarray(x @ component.coef.T + component.intercept) * 5.0)
    np.testing.assert_allclose(component.predict(messages), expected, rtol=1e-9)


def test_pairs_tell_apart_two_intents_sharing_words(tmp_path) -> None:
    component = train(tmp_path, confidence_scale=5.0)
    rng = np.random.default_rng(4)
    messages = [message(rng, intent) for intent in ("b", "c") for _ in range(40)]
    component.process(messages)
    predicted = [m.get(INTENT)["name"] for m in messages]
    assert np.mean([p == g for p, g in zip(predicted, ["b"] * 40 + ["c"] * 40, strict=True)]) >= 0.9


def test_calibrated_scale_is_chosen_stored_and_reloaded(tmp_path) -> None:
    component = train(tmp_path)  # confidence_scale: auto (the default)
    assert component.config["confidence_scale"] == "auto"
    assert 0.25 <= component.scale <= 20.0 and (component.scale / 0.25).is_integer()
    loaded = LinearSvmIntentClassifier.load({}, component._model_storage, component._resource, None)
    assert loaded.scale == component.scale
    assert loaded.pair_alpha is not None and len(loaded.pair_blocks) == len(INTENTS)
    np.testing.assert_array_equal(loaded.pair_offsets, component.pair_offsets)
    rng = np.random.default_rng(6)
    messages = [message(rng, intent) for intent in INTENTS] + [message(rng, None)]
    np.testing.assert_allclose(loaded.predict(messages), component.predict(messages), rtol=1e-6)


def test_a_fixed_scale_skips_calibration(tmp_path) -> None:
    component = train(tmp_path, confidence_scale=7.0)
    assert component.scale == 7.0


def test_pair_models_use_at_most_the_capped_number_of_examples_per_intent(tmp_path) -> None:
    component = train(tmp_path, pairwise_max_examples=10, confidence_scale=5.0)
    assert [b.shape[0] for b in component.pair_blocks] == [10] * len(INTENTS)
    assert component.pair_offsets[-1] == len(component.pair_alpha) == 20 * len(INTENTS) * (len(INTENTS) - 1) // 2
    rng = np.random.default_rng(8)
    messages = [message(rng, intent) for intent in INTENTS for _ in range(3)]
    component.process(messages)
    assert all(m.get(INTENT)["name"] in INTENTS for m in messages)
