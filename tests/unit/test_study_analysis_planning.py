"""The sample-size planner, against a brute-force search with scipy and statsmodels' t-test power, and verdicts."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.stats import binom, binomtest
from studies.analysis import (
    PlanningError,
    binomial_power,
    pairwise_verdict,
    rating_difference_sample_size,
    ratings_verdict,
    t_test_power,
    win_rate_sample_size,
)

# scipy's own reference functions warn on extreme arguments (nct at 2 degrees of freedom, pmf far in a tail).
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:scipy")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from statsmodels.stats.power import TTestIndPower


def reference_power(n: int, p1: float, alpha: float) -> float:
    """Power of the two-sided binomial test of 0.5, from scipy: twice the smaller tail, as for a symmetric null."""
    k = np.arange(n + 1)
    p_values = np.minimum(1.0, 2 * np.minimum(binom.cdf(k, n, 0.5), binom.sf(k - 1, n, 0.5)))
    return float(binom.pmf(k, n, p1)[p_values <= alpha + 1e-12].sum())


def reference_sample_size(p1: float, power: float, alpha: float) -> int:
    n = 1
    while reference_power(n, p1, alpha) < power:
        n += 1
    return n


@pytest.mark.parametrize(
    ("win_rate", "power", "alpha"),
    [(0.6, 0.8, 0.05), (0.65, 0.8, 0.05), (0.7, 0.9, 0.05), (0.75, 0.8, 0.01), (0.4, 0.8, 0.05), (0.6, 0.8, 0.025)],
)
def test_win_rate_sample_size_matches_a_brute_force_search_with_scipy(win_rate, power, alpha):
    plan = win_rate_sample_size(win_rate, power=power, alpha=alpha)
    assert plan.decisive_judgements == reference_sample_size(win_rate, power, alpha)
    assert plan.achieved_power >= power


def test_a_60_percent_win_rate_needs_199_decisive_judgements():
    plan = win_rate_sample_size(0.6)
    assert plan.decisive_judgements == 199
    assert plan.achieved_power == pytest.approx(reference_power(199, 0.6, 0.05), abs=1e-10)


@pytest.mark.parametrize("n", [1, 5, 6, 17, 40, 199, 500])
def test_binomial_power_matches_scipy(n):
    assert binomial_power(n, 0.6) == pytest.approx(reference_power(n, 0.6, 0.05), abs=1e-10)


def test_the_rejection_region_is_binomtests():
    n = 40
    rejected = [k for k in range(n + 1) if binomtest(k, n, 0.5).pvalue <= 0.05]
    assert binomial_power(n, 0.6) == pytest.approx(sum(binom.pmf(rejected, n, 0.6)), abs=1e-12)


def test_ties_and_comparisons():
    plan = win_rate_sample_size(0.6, tie_rate=0.2, comparisons=3)
    assert plan.decisive_judgements == win_rate_sample_size(0.6, alpha=0.05 / 3).decisive_judgements
    assert plan.judgements == math.ceil(plan.decisive_judgements / 0.8)
    assert win_rate_sample_size(0.6, tie_rate=0.0).judgements == 199


def test_small_effects_are_searched_quickly_and_exactly():
    plan = win_rate_sample_size(0.53)
    assert reference_power(plan.decisive_judgements, 0.53, 0.05) >= 0.8
    assert reference_power(plan.decisive_judgements - 1, 0.53, 0.05) < 0.8


@pytest.mark.parametrize("n", [2, 3, 5, 10, 30, 100, 400])
@pytest.mark.parametrize("effect", [0.2, 0.5, 1.0, 2.0])
def test_t_test_power_matches_statsmodels(n, effect):
    expected = TTestIndPower().power(effect_size=effect, nobs1=n, alpha=0.05, ratio=1.0)
    assert t_test_power(n, effect * 1.3, 1.3) == pytest.approx(expected, abs=2e-6)


@pytest.mark.parametrize(
    ("difference", "sd", "power", "alpha"),
    [(0.3, 1.0, 0.8, 0.05), (0.5, 1.2, 0.9, 0.05), (1.0, 1.0, 0.9, 0.05), (1.5, 1.0, 0.8, 0.05), (2.0, 1.0, 0.8, 0.05),
     (0.8, 1.0, 0.8, 0.1), (0.2, 0.9, 0.8, 0.01), (-0.4, 1.0, 0.8, 0.05)],
)  # fmt: skip
def test_rating_sample_size_matches_statsmodels(difference, sd, power, alpha):
    expected = math.ceil(TTestIndPower().solve_power(effect_size=abs(difference) / sd, alpha=alpha, power=power))
    plan = rating_difference_sample_size(difference, sd, power=power, alpha=alpha)
    assert plan.conversations_per_bot == expected
    assert plan.achieved_power >= power


@pytest.mark.parametrize(
    "call",
    [
        lambda: win_rate_sample_size(0.5),
        lambda: win_rate_sample_size(0.6, power=1.0),
        lambda: win_rate_sample_size(0.6, tie_rate=1.0),
        lambda: rating_difference_sample_size(0.0, 1.0),
        lambda: rating_difference_sample_size(0.3, 0.0),
        lambda: t_test_power(1, 0.3, 1.0),
    ],
)
def test_questions_without_an_answer_are_refused(call):
    with pytest.raises(PlanningError):
        call()


# --- verdicts -----------------------------------------------------------------------------------------------------


def test_verdict_too_small_to_tell():
    verdict = pairwise_verdict("A", "B", 12, 8, 0.5)
    assert verdict["status"] == "too_small" and verdict["needed"] == 199 and verdict["decisive_judgements"] == 20
    assert verdict["message"].startswith("Still too small to tell A and B apart: 20 decisive judgements of the 199")


def test_verdict_significant_either_way():
    assert pairwise_verdict("A", "B", 30, 5, 0.0001)["status"] == "a_better"
    verdict = pairwise_verdict("A", "B", 5, 30, 0.0001)
    assert verdict["status"] == "b_better" and verdict["message"].startswith("B is preferred to A")


def test_verdict_no_clear_difference_once_large_enough():
    verdict = pairwise_verdict("A", "B", 105, 100, 0.78)
    assert verdict["status"] == "no_clear_difference"


def test_verdict_without_data_and_with_several_pairs():
    assert pairwise_verdict("A", "B", 0, 0, None)["status"] == "no_data"
    assert (
        pairwise_verdict("A", "B", 1, 1, 1.0, comparisons=3)["needed"]
        == win_rate_sample_size(0.6, alpha=0.05 / 3).decisive_judgements
    )


def test_ratings_verdict():
    small = ratings_verdict("Helpful?", {"A": 10, "B": 12}, 1.0, difference=0.3)
    assert small["status"] == "too_small" and small["needed"] == 176 and small["smallest_bot_conversations"] == 10
    assert "still too small to tell the bots apart" in small["message"]
    assert ratings_verdict("Helpful?", {"A": 200, "B": 180}, 1.0)["status"] == "enough"
    assert ratings_verdict("Helpful?", {"A": 5}, 1.0)["status"] == "no_data"
    assert ratings_verdict("Helpful?", {"A": 5, "B": 5}, None)["status"] == "no_data"
    three_bots = ratings_verdict("Helpful?", {"A": 5, "B": 5, "C": 5}, 1.0)
    assert three_bots["needed"] == rating_difference_sample_size(0.3, 1.0, alpha=0.05 / 3).conversations_per_bot
