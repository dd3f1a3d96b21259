"""A seeded, stratified train/test split of :class:`TrainingData`."""

from __future__ import annotations

import random

from .model import TrainingData


def split_train_test(data: TrainingData, fraction: float, seed: int = 42) -> None:
    """Move about ``fraction`` of each intent's examples into ``data.test_examples``.

    Stratified: every intent gives the same share (rounded to the nearest
    whole example), always keeps at least one example for training, and an
    intent whose share rounds to nothing stays wholly in training. Seeded: the same data, fraction and seed always
    pick the same examples. Both parts keep the corpus order.

    Args:
        data: The cleaned training data; changed in place.
        fraction: The share to hold out, 0 <= fraction < 1 (0: no split).
        seed: The random seed.

    Raises:
        ValueError: ``fraction`` is out of range.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the test fraction must be at least 0 and below 1, not {fraction}")
    data.test_examples = {}
    if fraction == 0:
        return
    rng = random.Random(seed)
    for intent, examples in data.examples.items():
        n = len(examples)
        k = min(int(n * fraction + 0.5), n - 1)
        if k <= 0:
            continue
        chosen = set(rng.sample(range(n), k))
        data.test_examples[intent] = [e for i, e in enumerate(examples) if i in chosen]
        data.examples[intent] = [e for i, e in enumerate(examples) if i not in chosen]
    data.stats["train examples"] = sum(len(v) for v in data.examples.values())
    data.stats["test examples"] = sum(len(v) for v in data.test_examples.values())
