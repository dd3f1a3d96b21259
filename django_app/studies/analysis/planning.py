"""How many judgements or conversations a study needs, and whether the one at hand has enough.

- Pairwise: the number of decisive judgements (ties excluded, as the analysis excludes them) at which the exact
  two-sided binomial test against a 50 % win rate rejects with the asked power when the true win rate is ``p1``.
  Power is computed exactly from the binomial distribution for each ``n`` and the smallest ``n`` reaching the power is
  searched for (power is a saw-tooth in ``n``; a few larger ``n`` can fall just below it again).
- Ratings: conversations per bot for a two-sided two-sample t-test to detect a mean difference ``d`` between two bots
  whose ratings have standard deviation ``sd``; power from the noncentral t distribution, integrated numerically.

Verdicts turn these into the sentence a results page shows ("still too small to tell A and B apart").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from .errors import PlanningError
from .stats import binomial_log_pmf, binomial_p_values, z_value

MAX_N = 1_000_000


# --- pairwise: exact binomial ---------------------------------------------------------------------------------------


def binomial_power(n: int, p1: float, *, alpha: float = 0.05, p0: float = 0.5) -> float:
    """Power of the exact two-sided binomial test of ``p0`` with ``n`` trials when the true rate is ``p1``."""
    reject = binomial_p_values(n, p0) <= alpha
    return float(np.exp(binomial_log_pmf(n, p1))[reject].sum())


@dataclass(frozen=True)
class WinRatePlan:
    """The answer to "how many judgements to detect a win rate of ``win_rate``?"."""

    win_rate: float
    power: float
    alpha: float
    comparisons: int
    tie_rate: float
    #: Decisive (non-tie) judgements needed per pair of bots.
    decisive_judgements: int
    #: Judgements to collect per pair, ties included (``decisive / (1 - tie_rate)``, rounded up).
    judgements: int
    #: The power reached at ``decisive_judgements`` (at least ``power``).
    achieved_power: float
    method: str = "exact two-sided binomial test against 0.5, ties excluded"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=512)
def win_rate_sample_size(
    win_rate: float, *, power: float = 0.8, alpha: float = 0.05, comparisons: int = 1, tie_rate: float = 0.0
) -> WinRatePlan:
    """Judgements needed per pair of bots to tell a win rate of ``win_rate`` from 50 %.

    Args:
        win_rate: The win rate to detect (0.6: one bot is preferred in 60 % of decisive judgements); either side of
            0.5 works alike.
        power: The probability of a significant result when the win rate really is ``win_rate``.
        alpha: The significance level.
        comparisons: Pairs of bots tested on the same question; the level is divided by it (Bonferroni, the level
            Holm's adjustment applies to the smallest p-value), so the answer is conservative.
        tie_rate: The share of judgements expected to be ties, to convert decisive judgements into judgements.

    Answers are cached (the function is pure), so a results page asking for every pair of bots pays once.
    """
    _check_probability("power", power)
    _check_probability("alpha", alpha)
    _check_probability("win_rate", win_rate)
    if win_rate == 0.5:
        raise PlanningError("a win rate of 0.5 is no difference at all; ask for 0.55, 0.6, ...")
    if comparisons < 1:
        raise PlanningError("comparisons must be at least 1")
    if not 0 <= tie_rate < 1:
        raise PlanningError("tie_rate must be at least 0 and below 1")
    level = alpha / comparisons
    estimate = _normal_n(win_rate, power, level)
    n = _smallest_n(lambda n: binomial_power(n, win_rate, alpha=level), power, estimate)
    return WinRatePlan(
        win_rate=win_rate,
        power=power,
        alpha=alpha,
        comparisons=comparisons,
        tie_rate=tie_rate,
        decisive_judgements=n,
        judgements=math.ceil(n / (1 - tie_rate) - 1e-9),
        achieved_power=binomial_power(n, win_rate, alpha=level),
    )


def _normal_n(p1: float, power: float, alpha: float) -> float:
    spread = z_value(1 - alpha) * 0.5 + z_value(2 * power - 1) * math.sqrt(p1 * (1 - p1))
    return (spread / (p1 - 0.5)) ** 2


def _smallest_n(power_at: Callable[[int], float], target: float, estimate: float) -> int:
    """The smallest n with ``power_at(n) >= target``, scanning up one by one.

    Below ~1,000 the scan starts at 1; above, at 85 % of the normal approximation once the power there is checked
    to fall short (the saw-tooth's swings are far smaller than the distance to the target that far down).
    """
    start = 1 if estimate < 1000 else int(estimate * 0.85)
    while start > 1 and power_at(start) >= target:
        start //= 2
    for n in range(start, MAX_N + 1):
        if power_at(n) >= target:
            return n
    raise PlanningError(f"more than {MAX_N:,} judgements would be needed")


# --- ratings: two-sample t-test -------------------------------------------------------------------------------------


def t_test_power(n_per_group: int, difference: float, sd: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided two-sample t-test (equal groups, equal variances) for a true mean difference.

    ``T = (Z + delta) / S`` with ``delta = difference / sd * sqrt(n / 2)`` and ``S**2`` a chi-square over its ``2n -
    2`` degrees of freedom; both the critical value and the power are integrals over the density of ``S``.
    """
    if n_per_group < 2:
        raise PlanningError("a two-sample t-test needs at least 2 conversations per bot")
    grid, weights = _s_quadrature(2 * n_per_group - 2)
    critical = _t_critical(grid, weights, alpha)
    delta = abs(difference) / sd * math.sqrt(n_per_group / 2)
    return float((weights * (_upper_normal(critical * grid - delta) + _upper_normal(critical * grid + delta))).sum())


@dataclass(frozen=True)
class RatingPlan:
    """The answer to "how many conversations per bot to detect a rating difference of ``difference``?"."""

    difference: float
    sd: float
    power: float
    alpha: float
    comparisons: int
    #: Conversations (each rated once on the question) needed for each of the two bots.
    conversations_per_bot: int
    achieved_power: float
    method: str = "two-sided two-sample t-test (noncentral t), one rating per conversation"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=512)
def rating_difference_sample_size(
    difference: float, sd: float, *, power: float = 0.8, alpha: float = 0.05, comparisons: int = 1
) -> RatingPlan:
    """Conversations per bot needed to detect a difference of mean ratings of ``difference`` (same units as ``sd``).

    Args:
        difference: The difference of mean ratings to detect (0.3 on a 1-5 scale).
        sd: The standard deviation of one rating (from a pilot or an earlier study; ~1 is common on a 1-5 scale).
        power: The probability of a significant result when the difference is real.
        alpha: The significance level.
        comparisons: Pairs of bots compared; the level is divided by it (Bonferroni).
    """
    _check_probability("power", power)
    _check_probability("alpha", alpha)
    if difference == 0 or not math.isfinite(difference):
        raise PlanningError("the difference to detect must be a non-zero number")
    if not sd > 0 or not math.isfinite(sd):
        raise PlanningError("the standard deviation must be a positive number")
    if comparisons < 1:
        raise PlanningError("comparisons must be at least 1")
    level = alpha / comparisons
    z_a, z_b = z_value(1 - level), z_value(2 * power - 1)
    estimate = 2 * ((z_a + z_b) * sd / difference) ** 2 + z_a**2 / 4  # Guenther's approximation, usually exact
    n = max(2, math.ceil(estimate) - 1)
    while n > 2 and t_test_power(n - 1, difference, sd, alpha=level) >= power:
        n -= 1
    while t_test_power(n, difference, sd, alpha=level) < power:
        n += 1
        if n > MAX_N:
            raise PlanningError(f"more than {MAX_N:,} conversations per bot would be needed")
    return RatingPlan(
        difference=difference,
        sd=sd,
        power=power,
        alpha=alpha,
        comparisons=comparisons,
        conversations_per_bot=n,
        achieved_power=t_test_power(n, difference, sd, alpha=level),
    )


@lru_cache(maxsize=256)
def _s_quadrature(dof: int, intervals: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Points and Simpson's-rule weights (summing to 1) for expectations over ``S = sqrt(chi2(dof) / dof)``."""
    spread = 1 / math.sqrt(2 * dof)
    low = max(0.0, 1 - 14 * spread)
    high = 1 + 14 * spread + (8.0 if dof < 10 else 0.0)
    grid = np.linspace(low, high, intervals + 1)
    v = dof * grid**2
    with np.errstate(divide="ignore", invalid="ignore"):
        log_density = (dof / 2 - 1) * np.log(v) - v / 2 - dof / 2 * math.log(2) - math.lgamma(dof / 2)
        log_density += np.log(2 * dof * grid)
    density = np.exp(np.nan_to_num(log_density, nan=-np.inf))
    simpson = np.ones(intervals + 1)
    simpson[1:-1:2], simpson[2:-1:2] = 4, 2
    weights = density * simpson
    return grid, weights / weights.sum()


def _upper_normal(x: np.ndarray) -> np.ndarray:
    return _ERFC(x / math.sqrt(2)).astype(float) / 2


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def _t_critical(grid: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """The two-sided critical value of the central t distribution, by bisection on its tail probability."""
    low, high = 0.0, 1.0
    while 2 * (weights * _upper_normal(high * grid)).sum() > alpha:
        high *= 2
    for _ in range(60):
        middle = (low + high) / 2
        if 2 * (weights * _upper_normal(middle * grid)).sum() > alpha:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _check_probability(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise PlanningError(f"{name} must be between 0 and 1 (exclusive), not {value}")


# --- verdicts -------------------------------------------------------------------------------------------------------

Status = Literal["a_better", "b_better", "too_small", "no_clear_difference", "no_data"]


def pairwise_verdict(
    a: str,
    b: str,
    wins_a: int,
    wins_b: int,
    p_adjusted: float | None,
    *,
    alpha: float = 0.05,
    win_rate: float = 0.6,
    power: float = 0.8,
    comparisons: int = 1,
) -> dict[str, Any]:
    """What a results page can honestly say about bots ``a`` and ``b`` from their decisive judgements.

    Args:
        a: One bot's name.
        b: The other's.
        wins_a: Judgements preferring ``a`` (ties are not counted).
        wins_b: Judgements preferring ``b``.
        p_adjusted: The (Holm-adjusted) p-value of the pair, None without decisive judgements.
        alpha: The significance level.
        win_rate: The smallest win rate worth detecting; with fewer judgements than that needs, a non-significant
            result is "too small to tell", not "no difference".
        power: The power asked of the study.
        comparisons: Pairs compared on the same question (the planner divides alpha by it).

    Returns:
        ``status`` (``a_better``, ``b_better``, ``too_small``, ``no_clear_difference``, ``no_data``), ``message``
        (one sentence), ``decisive_judgements`` and ``needed`` (decisive judgements for the asked power).
    """
    decisive = wins_a + wins_b
    needed = win_rate_sample_size(win_rate, power=power, alpha=alpha, comparisons=comparisons).decisive_judgements
    detect = f"a {win_rate:.0%} win rate with {power:.0%} power"
    if decisive == 0 or p_adjusted is None:
        status: Status = "no_data"
        message = f"No decisive judgements between {a} and {b} yet; about {needed} are needed to detect {detect}."
    elif p_adjusted < alpha:
        status = "a_better" if wins_a > wins_b else "b_better"
        best, other = (a, b) if status == "a_better" else (b, a)
        rate = max(wins_a, wins_b) / decisive
        message = (
            f"{best} is preferred to {other}: a win rate of {rate:.0%} over {decisive} decisive judgements "
            f"(adjusted p = {p_adjusted:.2g})."
        )
    elif decisive < needed:
        status = "too_small"
        message = (
            f"Still too small to tell {a} and {b} apart: {decisive} decisive judgements of the {needed} needed "
            f"to detect {detect}."
        )
    else:
        status = "no_clear_difference"
        message = (
            f"No clear difference between {a} and {b}: {decisive} decisive judgements would have shown {detect}, "
            f"so any difference is likely smaller."
        )
    return {"status": status, "message": message, "decisive_judgements": decisive, "needed": needed}


def ratings_verdict(
    question: str,
    conversations: dict[str, int],
    sd: float | None,
    *,
    difference: float = 0.3,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """Whether a question's ratings are numerous enough to tell its bots apart by ``difference``.

    Args:
        question: The question.
        conversations: Rated conversations per bot.
        sd: The standard deviation of single ratings (pooled over the bots); None when unknown.
        difference: The smallest difference of mean ratings worth detecting.
        alpha: The significance level (divided by the number of pairs of bots).
        power: The power asked of the study.

    Returns:
        ``status`` (``too_small``, ``enough`` or ``no_data``), ``message``, ``smallest_bot_conversations``,
        ``needed`` (conversations per bot) and ``sd``.
    """
    smallest = min(conversations.values(), default=0)
    result: dict[str, Any] = {"smallest_bot_conversations": smallest, "needed": None, "sd": sd}
    if len(conversations) < 2 or sd is None or smallest < 2:
        result.update(status="no_data", message=f"{question}: not enough ratings yet to compare the bots.")
        return result
    pairs = len(conversations) * (len(conversations) - 1) // 2
    if sd == 0:
        needed = 2
    else:
        plan = rating_difference_sample_size(difference, sd, power=power, alpha=alpha, comparisons=pairs)
        needed = plan.conversations_per_bot
    result["needed"] = needed
    detect = f"a difference of {difference:g} (SD {sd:.2g}) with {power:.0%} power"
    if smallest < needed:
        message = (
            f"{question}: still too small to tell the bots apart: the least-rated bot has {smallest} conversations "
            f"of the {needed} per bot needed to detect {detect}."
        )
        result.update(status="too_small", message=message)
    else:
        message = f"{question}: large enough to detect {detect} ({smallest} or more conversations per bot)."
        result.update(status="enough", message=message)
    return result
