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

    Texts that differ only in case (``Hi`` and ``hi``, kept as examples of
    their own unless case is folded) are one unit of the draw and land on the
    same side: Rasa's featurizers lower-case, so one in each part would test
    the model on a text it was trained on. An intent of n examples among u
    such units gives ``round(u × fraction)`` units; without case variants
    u = n.

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
        unit_of: dict[str, int] = {}  # text ignoring case -> its unit, in first-seen order
        units = [unit_of.setdefault(e.text.casefold(), len(unit_of)) for e in examples]
        n = len(unit_of)
        k = min(int(n * fraction + 0.5), n - 1)
        if k <= 0:
            continue
        chosen = set(rng.sample(range(n), k))
        data.test_examples[intent] = [e for e, u in zip(examples, units, strict=True) if u in chosen]
        data.examples[intent] = [e for e, u in zip(examples, units, strict=True) if u not in chosen]
    data.stats["train examples"] = sum(len(v) for v in data.examples.values())
    data.stats["test examples"] = sum(len(v) for v in data.test_examples.values())
