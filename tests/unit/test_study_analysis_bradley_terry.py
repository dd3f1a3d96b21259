"""Bradley-Terry fits, against cases worked by hand, the ``choix`` package and a direct likelihood maximisation."""

from __future__ import annotations

import math

import choix
import numpy as np
import pytest
from scipy.optimize import minimize
from studies.analysis import Judgement, bradley_terry_summary, fit_strengths, to_elo, win_matrix, win_probability
from studies.analysis.analyze import _resampled_win_matrices
from studies.analysis.bradley_terry import DEFAULT_L2


def simulated_results(bots: list[str], strengths: list[float], n: int, tie_share: float, seed: int):
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(n):
        i, j = rng.choice(len(bots), 2, replace=False)
        if rng.random() < tie_share:
            winner = "tie"
        else:
            winner = "a" if rng.random() < 1 / (1 + math.exp(strengths[j] - strengths[i])) else "b"
        results.append((bots[i], bots[j], winner))
    return results


def test_two_bots_three_wins_to_one_by_hand():
    # Maximum likelihood: P(A beats B) = 3/4, so the Elo difference is 400 * log10(3), split around 1000.
    scores = to_elo(fit_strengths(win_matrix(["A", "B"], [("A", "B", "a")] * 3 + [("A", "B", "b")]), l2=0))
    assert scores == pytest.approx([1000 + 200 * math.log10(3), 1000 - 200 * math.log10(3)])
    assert win_probability(*scores) == pytest.approx(0.75)


def test_a_tie_is_half_a_win_to_each_side():
    with_ties = win_matrix(["A", "B"], [("A", "B", "a")] * 2 + [("B", "A", "tie")] * 2)
    assert with_ties.tolist() == [[3.0, 0.0], [1.0, 0.0]][::1] or with_ties.tolist() == [[0.0, 3.0], [1.0, 0.0]]
    assert to_elo(fit_strengths(with_ties, l2=0)) == pytest.approx(
        [1000 + 200 * math.log10(3), 1000 - 200 * math.log10(3)]
    )


def test_scores_are_centred_on_1000():
    results = simulated_results(list("ABCDE"), [0.5, 0.2, 0.0, -0.3, -0.4], 400, 0.1, seed=1)
    scores = to_elo(fit_strengths(win_matrix(list("ABCDE"), results)))
    assert scores.mean() == pytest.approx(1000)


def test_matches_choix_maximum_likelihood_with_ties_as_half_wins():
    bots = list("ABCDEF")
    results = simulated_results(bots, [0.8, 0.4, 0.1, 0.0, -0.5, -0.8], 600, 0.2, seed=2)
    theta = fit_strengths(win_matrix(bots, results), l2=0)
    # choix takes (winner, loser) pairs: every decisive judgement twice and a tie once each way weighs as ours do.
    index = {b: i for i, b in enumerate(bots)}
    pairs = []
    for a, b, winner in results:
        i, j = index[a], index[b]
        pairs += {"a": [(i, j), (i, j)], "b": [(j, i), (j, i)], "tie": [(i, j), (j, i)]}[winner]
    for reference in (choix.ilsr_pairwise(6, pairs, alpha=0, tol=1e-12), choix.opt_pairwise(6, pairs, alpha=0)):
        assert theta == pytest.approx(reference - reference.mean(), abs=1e-5)


def test_matches_a_direct_penalised_likelihood_maximisation():
    bots = list("ABCD")
    results = simulated_results(bots, [0.3, 0.0, 0.0, -0.6], 80, 0.15, seed=3) + [("A", "D", "a")] * 5
    index = {b: i for i, b in enumerate(bots)}

    def negative_log_likelihood(theta):
        total = 0.0
        for a, b, winner in results:  # judgement by judgement, not through a win matrix
            d = theta[index[a]] - theta[index[b]]
            log_a, log_b = -np.logaddexp(0, -d), -np.logaddexp(0, d)
            total -= {"a": log_a, "b": log_b, "tie": (log_a + log_b) / 2}[winner]
        return total + DEFAULT_L2 / 2 * np.sum(theta**2)

    reference = minimize(negative_log_likelihood, np.zeros(4), method="BFGS", options={"gtol": 1e-10}).x
    assert fit_strengths(win_matrix(bots, results)) == pytest.approx(reference - reference.mean(), abs=1e-5)


def test_a_bot_that_won_everything_gets_a_finite_score():
    scores = to_elo(fit_strengths(win_matrix(["A", "B"], [("A", "B", "a")] * 5)))
    assert np.isfinite(scores).all() and scores[0] > scores[1] + 400


def test_the_default_penalty_barely_moves_a_well_supported_fit():
    bots = list("ABC")
    wins = win_matrix(bots, simulated_results(bots, [0.4, 0.0, -0.4], 300, 0.1, seed=4))
    assert to_elo(fit_strengths(wins)) == pytest.approx(to_elo(fit_strengths(wins, l2=0)), abs=0.5)


def test_stacked_fits_equal_one_at_a_time():
    bots = list("ABC")
    stack = np.stack([win_matrix(bots, simulated_results(bots, [0.4, 0.0, -0.4], 30, 0.1, seed=s)) for s in range(5)])
    together = fit_strengths(stack)
    for k in range(5):
        assert together[k] == pytest.approx(fit_strengths(stack[k]), abs=1e-8)


def judgements_of(results, question="q"):
    return [Judgement(f"r{i}", question, a, b, w) for i, (a, b, w) in enumerate(results)]


def test_summary_does_not_depend_on_which_side_a_bot_was_shown():
    results = simulated_results(list("ABC"), [0.4, 0.0, -0.4], 120, 0.1, seed=5)
    flipped = [(b, a, {"a": "b", "b": "a", "tie": "tie"}[w]) for a, b, w in results]
    first = bradley_terry_summary(judgements_of(results), draws=300, seed=1)
    second = bradley_terry_summary(judgements_of(flipped), draws=300, seed=1)
    for bot in "ABC":
        assert first["q"][bot]["score"] == pytest.approx(second["q"][bot]["score"])
        assert first["q"][bot]["n"] == second["q"][bot]["n"]


def test_rank_counts_the_bots_whose_interval_lies_wholly_above():
    results = [("A", "B", "a")] * 40 + [("A", "C", "a")] * 40 + [("A", "B", "b"), ("A", "C", "b")]
    results += [("B", "C", "a")] * 20 + [("B", "C", "b")] * 20
    summary = bradley_terry_summary(judgements_of(results), draws=2000, seed=3)["q"]
    assert list(summary)[0] == "A"  # best first
    assert summary["A"]["rank"] == 1
    assert summary["B"]["rank"] == summary["C"]["rank"] == 2
    for stats in summary.values():
        assert stats["ci95"][0] <= stats["score"] <= stats["ci95"][1]


def test_resampling_kinds_of_judgements_equals_resampling_judgements():
    """The multinomial shortcut against the plain bootstrap (draw n judgement indices with replacement)."""
    bots = list("ABCD")
    results = simulated_results(bots, [0.5, 0.1, 0.0, -0.6], 150, 0.15, seed=6)
    draws = 4000
    shortcut = _resampled_win_matrices(bots, results, draws, np.random.default_rng(1))
    assert shortcut.sum(axis=(1, 2)) == pytest.approx(np.full(draws, len(results)))
    rng = np.random.default_rng(2)
    plain = np.stack(
        [win_matrix(bots, [results[i] for i in rng.integers(0, len(results), len(results))]) for _ in range(draws)]
    )
    assert shortcut.mean(axis=0) == pytest.approx(plain.mean(axis=0), abs=0.25)
    assert shortcut.std(axis=0) == pytest.approx(plain.std(axis=0), abs=0.25)
    short_scores, plain_scores = to_elo(fit_strengths(shortcut)), to_elo(fit_strengths(plain))
    for i in range(len(bots)):
        low_a, high_a = np.percentile(short_scores[:, i], [2.5, 97.5])
        low_b, high_b = np.percentile(plain_scores[:, i], [2.5, 97.5])
        assert low_a == pytest.approx(low_b, abs=12) and high_a == pytest.approx(high_b, abs=12)
