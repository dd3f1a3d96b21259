"""Krippendorff's alpha: how far raters agree beyond what chance would give.

Computed from the coincidence matrix, as in Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability":
every ordered pair of values two different raters gave to the same unit adds ``1 / (m_u - 1)`` to the matrix cell of
those two values (``m_u``: how many values the unit holds). Units with fewer than two values are not pairable and are
left out. ``alpha = 1 - D_o / D_e``: observed over expected disagreement under the chosen metric.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Literal

import numpy as np

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")


def krippendorff_alpha(units: Iterable[Sequence[Hashable]], level: Level = "nominal") -> float | None:
    """Krippendorff's alpha of the values raters gave to units.

    Args:
        units: For each unit (a conversation, a message, ...), the values its raters gave, one per rater; missing
            values are simply left out. Values are numbers for the ordinal, interval and ratio levels, and anything
            hashable (strings, booleans, numbers) for the nominal level.
        level: ``nominal`` (any two different values disagree equally), ``ordinal`` (ranks: disagreement grows with
            how many values lie between the two), ``interval`` (squared difference) or ``ratio``.

    Returns:
        Alpha (1 is perfect agreement, 0 what chance gives, negative systematic disagreement), or None when no unit
        holds two values or all values are the same (then alpha is undefined: there is no variation to agree on).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    pairable = [list(unit) for unit in units if len(unit) >= 2]
    if not pairable:
        return None
    values = _sorted_values(pairable, level)
    coincidences = _coincidence_matrix(pairable, {v: i for i, v in enumerate(values)})
    totals = coincidences.sum(axis=1)
    n = totals.sum()
    delta2 = _squared_distances(values, totals, level)
    expected = (np.outer(totals, totals) * delta2).sum() / (n - 1)
    if expected <= 0:
        return None
    return float(1 - (coincidences * delta2).sum() / expected)


def _sorted_values(units: list[list[Hashable]], level: Level) -> list[Hashable]:
    distinct = {value for unit in units for value in unit}
    if level == "nominal":
        return sorted(distinct, key=lambda v: (type(v).__name__, repr(v)))
    return sorted(distinct)  # type: ignore[type-var]


def _coincidence_matrix(units: list[list[Hashable]], index: dict[Hashable, int]) -> np.ndarray:
    """``sum over units of (n_u n_u^T - diag(n_u)) / (m_u - 1)``, ``n_u`` being the unit's counts of each value."""
    counts = np.zeros((len(units), len(index)))
    rows = np.repeat(np.arange(len(units)), [len(unit) for unit in units])
    columns = np.fromiter((index[value] for unit in units for value in unit), dtype=int, count=len(rows))
    np.add.at(counts, (rows, columns), 1.0)
    scaled = counts / (counts.sum(axis=1, keepdims=True) - 1)
    return scaled.T @ counts - np.diag(scaled.sum(axis=0))


def _squared_distances(values: list[Hashable], totals: np.ndarray, level: Level) -> np.ndarray:
    size = len(values)
    if level == "nominal":
        return 1.0 - np.eye(size)
    numbers = np.asarray(values, dtype=float)
    if level == "interval":
        return np.subtract.outer(numbers, numbers) ** 2
    if level == "ratio":
        sums = np.add.outer(numbers, numbers)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sums == 0, 0.0, (np.subtract.outer(numbers, numbers) / sums) ** 2)
    # ordinal: the number of values from c to k (both included), less half of those at each end, squared.
    cumulative = np.cumsum(totals)
    low = np.minimum.outer(np.arange(size), np.arange(size))
    high = np.maximum.outer(np.arange(size), np.arange(size))
    between = cumulative[high] - cumulative[low] + totals[low]
    return (between - np.add.outer(totals, totals) / 2) ** 2
