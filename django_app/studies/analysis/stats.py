"""Statistical building blocks, each small and checked in the tests against an independent implementation.

Only numpy and the standard library are used, so the Django image needs nothing heavier.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

Interval = tuple[float, float]


def z_value(confidence: float = 0.95) -> float:
    """The two-sided standard-normal critical value (1.959963... for 95 %)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for a proportion ``successes / n`` (None when ``n`` is 0).

    Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps its coverage near 0 % and 100 %.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} is not between 0 and n={n}")
    z = z_value(confidence)
    z2 = z * z
    centre = (successes + z2 / 2) / (n + z2)
    half = z / (n + z2) * math.sqrt(successes * (n - successes) / n + z2 / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def binomial_log_pmf(n: int, p: float) -> np.ndarray:
    """``log P(X = k)`` for ``k = 0..n``, ``X ~ Binomial(n, p)``, from log-gamma values (accurate for large ``n``)."""
    k = np.arange(n + 1)
    log_fact = _log_factorials(n)
    log_choose = log_fact[n] - log_fact - log_fact[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = k * math.log(p) if p > 0 else np.where(k == 0, 0.0, -np.inf)
        log_q = (n - k) * math.log1p(-p) if p < 1 else np.where(k == n, 0.0, -np.inf)
    return log_choose + log_p + log_q


def _log_factorials(n: int) -> np.ndarray:
    """``log(k!)`` for ``k = 0..n`` (a read-only view of a table grown as larger ``n`` are asked for)."""
    global _LOG_FACTORIALS
    if len(_LOG_FACTORIALS) <= n:
        size = max(n + 1, 2 * len(_LOG_FACTORIALS))
        _LOG_FACTORIALS = np.array([math.lgamma(k + 1) for k in range(size)])
        _LOG_FACTORIALS.flags.writeable = False
    return _LOG_FACTORIALS[: n + 1]


_LOG_FACTORIALS = np.zeros(0)


#: A probability counts as "as extreme" when it is at most this factor above the observed one (scipy uses the same).
_RELATIVE_TOLERANCE = 1 + 1e-7


def binomial_test(successes: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test: the probability, under ``p``, of an outcome no more likely than the one seen.

    This is the "minlike" p-value R's ``binom.test`` and scipy's ``binomtest`` compute (for ``p = 0.5``, twice the
    smaller tail, capped at 1).
    """
    if n <= 0:
        raise ValueError("a binomial test needs at least one trial")
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} is not between 0 and n={n}")
    log_pmf = binomial_log_pmf(n, p)
    as_extreme = log_pmf <= log_pmf[successes] + math.log(_RELATIVE_TOLERANCE)
    return float(min(1.0, np.exp(log_pmf[as_extreme]).sum()))


def binomial_p_values(n: int, p: float = 0.5) -> np.ndarray:
    """:func:`binomial_test`'s p-value for every ``k = 0..n`` at once (for power calculations)."""
    pmf = np.exp(binomial_log_pmf(n, p))
    order = np.argsort(pmf, kind="stable")
    sorted_pmf = pmf[order]
    cumulative = np.cumsum(sorted_pmf)
    # The p-value of k sums every probability up to pmf[k] times the tolerance: the last such index in sorted order.
    last = np.searchsorted(sorted_pmf, pmf * _RELATIVE_TOLERANCE, side="right") - 1
    return np.minimum(1.0, cumulative[last])


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment of a family of p-values (None entries are left out of the family and kept None).

    The i-th smallest of m p-values is multiplied by ``m - i + 1``; adjusted values are made monotone (a running
    maximum) and capped at 1. It controls the family-wise error rate, like Bonferroni, with more power.
    """
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def percentile_interval(replicates: np.ndarray, confidence: float = 0.95) -> Interval:
    """The bootstrap percentile interval: the (1-confidence)/2 and (1+confidence)/2 quantiles of the replicates."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def cluster_bootstrap_means(sums: np.ndarray, counts: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of a mean over clusters: resample whole clusters (conversations) with replacement.

    Args:
        sums: The sum of the values in each cluster.
        counts: How many values each cluster holds (every one at least 1).
        draws: How many replicates.
        rng: Where the randomness comes from.

    Returns:
        ``draws`` means, each of all the values of ``len(sums)`` clusters drawn with replacement (a cluster drawn
        twice counts twice), so ratings of one conversation stay together as the dependence between them requires.
    """
    picks = rng.integers(0, len(sums), size=(draws, len(sums)))
    return sums[picks].sum(axis=1) / counts[picks].sum(axis=1)


def resolve_seed(seed: int | None) -> int:
    """The seed to use: the one given, or a fresh random one (reported, so the run can be repeated)."""
    if seed is None:
        return secrets.randbits(32)
    if seed < 0:
        raise ValueError("a seed is a non-negative integer")
    return seed


def derived_rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one resampling, determined by the seed and a key (section, question, bot...).

    Each number gets its own stream, so adding a bot or a question to a study leaves the others' intervals as they
    were, and the order in which they are computed does not matter.
    """
    digest = hashlib.sha256("\x1f".join(key).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.default_rng(np.random.SeedSequence([seed, *words]))
