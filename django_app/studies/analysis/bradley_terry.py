"""Bradley-Terry model of pairwise judgements, fitted by penalised maximum likelihood (Newton's method).

Each bot ``i`` has a strength ``theta_i`` (natural log scale); bot ``i`` is preferred to bot ``j`` with probability
``1 / (1 + exp(theta_j - theta_i))``. A tie counts as half a win to each side (as Chatbot Arena does: a tie adds
0.5 to both cells of the win matrix). Strengths are reported on the Elo scale: ``score = 1000 + 400 / ln(10) *
theta`` with the thetas centred on 0, so a bot scoring 400 more wins 10 times out of 11 and the mean score is 1000.

A weak Gaussian prior (an L2 penalty ``l2 / 2 * sum(theta ** 2)``) keeps every estimate finite when a bot wins or
loses all its judgements, which happens in small studies and in bootstrap replicates; with a few dozen judgements
per pair its effect is well under one Elo point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: The default L2 penalty on the natural-log strengths (a prior standard deviation of 10, i.e. ~1,700 Elo).
DEFAULT_L2 = 0.01
ELO_PER_NAT = 400 / math.log(10)
ELO_MEAN = 1000.0


def win_matrix(bots: Sequence[str], results: Sequence[tuple[str, str, str]]) -> np.ndarray:
    """The win matrix ``W[i, j]``: how often bot i was preferred to bot j, a tie counting 0.5 to each.

    Args:
        bots: The bots, in the order of the matrix's rows and columns.
        results: ``(bot_a, bot_b, winner)`` triples with ``winner`` one of ``a``, ``b``, ``tie``.
    """
    index = {bot: i for i, bot in enumerate(bots)}
    wins = np.zeros((len(bots), len(bots)))
    for bot_a, bot_b, winner in results:
        i, j = index[bot_a], index[bot_b]
        if winner == "a":
            wins[i, j] += 1
        elif winner == "b":
            wins[j, i] += 1
        else:
            wins[i, j] += 0.5
            wins[j, i] += 0.5
    return wins


def fit_strengths(wins: np.ndarray, l2: float = DEFAULT_L2, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """Maximum (penalised) likelihood strengths, centred on 0, for one win matrix or a stack of them.

    Args:
        wins: ``(k, k)`` or ``(draws, k, k)`` win matrices (see :func:`win_matrix`).
        l2: The L2 penalty; 0 gives the plain maximum-likelihood fit, which exists only when every bot both won and
            lost against a connected set of others (otherwise the strengths run off towards infinity).
        tol: Stop when no gradient component is larger than this times the number of judgements.
        max_iter: Newton steps at most.

    Returns:
        The natural-log strengths, shape ``(k,)`` or ``(draws, k)``, each row summing to 0.
    """
    stacked = wins[None] if wins.ndim == 2 else wins
    theta = np.zeros(stacked.shape[:2])
    threshold = tol * max(1.0, float(stacked.sum(axis=(1, 2)).max(initial=0.0)))
    for _ in range(max_iter):
        gradient, hessian = _gradient_and_hessian(theta, stacked, l2)
        if np.abs(gradient).max(initial=0.0) < threshold:
            break
        step = -_solve(hessian, gradient)
        theta = _line_search(theta, step, gradient, stacked, l2)
    theta -= theta.mean(axis=1, keepdims=True)
    return theta[0] if wins.ndim == 2 else theta


def to_elo(theta: np.ndarray) -> np.ndarray:
    """Natural-log strengths to Elo-scale scores centred on 1000."""
    centred = theta - theta.mean(axis=-1, keepdims=True)
    return ELO_MEAN + ELO_PER_NAT * centred


def win_probability(score_a: float, score_b: float) -> float:
    """The probability that the bot scoring ``score_a`` is preferred to the one scoring ``score_b`` (Elo scale)."""
    return 1 / (1 + 10 ** ((score_b - score_a) / 400))


def _objective(theta: np.ndarray, wins: np.ndarray, l2: float) -> np.ndarray:
    # The likelihood does not change when every theta moves by the same amount; the (sum theta)^2 / 2 term pins
    # the centre without moving the optimum (where the thetas already sum to 0), so Newton's matrix is invertible.
    diff = theta[:, :, None] - theta[:, None, :]
    log_likelihood = -(wins * np.logaddexp(0.0, -diff)).sum(axis=(1, 2))
    return -log_likelihood + l2 / 2 * (theta**2).sum(axis=1) + theta.sum(axis=1) ** 2 / 2


def _gradient_and_hessian(theta: np.ndarray, wins: np.ndarray, l2: float) -> tuple[np.ndarray, np.ndarray]:
    games = wins + wins.transpose(0, 2, 1)
    prob = 1 / (1 + np.exp(theta[:, None, :] - theta[:, :, None]))  # prob[i, j]: i preferred to j
    total = theta.sum(axis=1, keepdims=True)
    gradient = (games * prob).sum(axis=2) - wins.sum(axis=2) + l2 * theta + total
    weight = games * prob * (1 - prob)
    size = theta.shape[1]
    hessian = -weight + np.eye(size) * (weight.sum(axis=2)[:, :, None] + l2) + 1.0
    return gradient, hessian


def _solve(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:  # a disconnected comparison graph with no penalty
        return np.einsum("bij,bj->bi", np.linalg.pinv(hessian), gradient)


def _line_search(theta: np.ndarray, step: np.ndarray, gradient: np.ndarray, wins: np.ndarray, l2: float) -> np.ndarray:
    """Backtracking (Armijo) along Newton's direction, for each stacked fit separately."""
    current = _objective(theta, wins, l2)
    slope = (gradient * step).sum(axis=1)
    rounding = 1e-12 * (1 + np.abs(current))  # near the optimum, changes below rounding error are not "worse"
    scale = np.ones(len(theta))
    for _ in range(40):
        trial = theta + scale[:, None] * step
        worse = _objective(trial, wins, l2) > current + 1e-4 * scale * slope + rounding
        if not worse.any():
            return trial
        scale = np.where(worse, scale / 2, scale)
    return theta + scale[:, None] * step
