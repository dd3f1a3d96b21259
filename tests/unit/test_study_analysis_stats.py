"""studies.analysis statistics, against independent implementations: scipy's binomtest, statsmodels' multipletests
(Holm) and proportion_confint (Wilson), and small cases worked by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from studies.analysis import binomial_test, holm, wilson_interval
from studies.analysis.stats import (
    binomial_p_values,
    cluster_bootstrap_means,
    derived_rng,
    percentile_interval,
    resolve_seed,
)

with warnings.catch_warnings():  # statsmodels 0.13 warns about pandas' Int64Index on import
    warnings.simplefilter("ignore")
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint


# --- exact binomial test ------------------------------------------------------------------------------------------


def test_binomial_test_by_hand():
    # 9 of 10 against 0.5: P(X >= 9) = 11/1024, doubled.
    assert binomial_test(9, 10) == pytest.approx(22 / 1024, rel=1e-12)
    assert binomial_test(5, 10) == pytest.approx(1.0)
    assert binomial_test(0, 1) == pytest.approx(1.0)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_binomial_test_matches_scipy_binomtest(case):
    k, n = case
    assert binomial_test(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, rel=1e-9, abs=1e-300)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), st.floats(0.05, 0.95))
def test_binomial_test_matches_scipy_for_any_null_rate(case, p):
    k, n = case
    assert binomial_test(k, n, p) == pytest.approx(binomtest(k, n, p).pvalue, rel=1e-7, abs=1e-300)


def test_binomial_test_of_large_n_stays_accurate():
    assert binomial_test(5100, 10000) == pytest.approx(binomtest(5100, 10000).pvalue, rel=1e-8)
    assert binomial_test(4000, 10000) == pytest.approx(binomtest(4000, 10000).pvalue, rel=1e-6)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 101])
def test_all_p_values_at_once_agree_with_one_at_a_time(n):
    assert binomial_p_values(n) == pytest.approx([binomial_test(k, n) for k in range(n + 1)], rel=1e-12)


def test_binomial_test_refuses_impossible_counts():
    with pytest.raises(ValueError):
        binomial_test(0, 0)
    with pytest.raises(ValueError):
        binomial_test(3, 2)


# --- Holm -------------------------------------------------------------------------------------------------------


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01, max(0.03, 2 * 0.03), max(0.06, 1 * 0.04)
    assert holm([0.04, 0.01, 0.03]) == pytest.approx([0.06, 0.03, 0.06])
    assert holm([]) == []
    assert holm([None, 0.02, None]) == [None, 0.02, None]


@settings(max_examples=40, deadline=None)  # statsmodels 0.13's multipletests takes ~20 ms a call
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_matches_statsmodels_multipletests(p_values):
    expected = multipletests(p_values, method="holm")[1]
    assert holm(p_values) == pytest.approx(list(expected), abs=1e-12)


def test_holm_leaves_none_out_of_the_family():
    assert holm([0.01, None, 0.04]) == pytest.approx([0.02, None, 0.04])  # type: ignore[arg-type]


# --- Wilson -----------------------------------------------------------------------------------------------------


def test_wilson_by_hand():
    # 0 of 10: low 0, high z^2 / (n + z^2)
    z2 = 1.959963984540054**2
    assert wilson_interval(0, 10) == pytest.approx((0.0, z2 / (10 + z2)))
    assert wilson_interval(10, 10) == pytest.approx((10 / (10 + z2), 1.0))
    assert wilson_interval(0, 0) is None


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_statsmodels_proportion_confint(case):
    count, n = case
    assert wilson_interval(count, n) == pytest.approx(proportion_confint(count, n, method="wilson"), abs=1e-12)


# --- bootstrap --------------------------------------------------------------------------------------------------


def test_cluster_bootstrap_resamples_whole_conversations():
    # conversation 1: ratings 1 and 1; conversation 2: rating 5. Resampling two conversations gives only
    # {1, 1}: 1, {1, 2}: 7/3 and {2, 2}: 5 (resampling single ratings would also give 11/3).
    replicates = cluster_bootstrap_means(np.array([2.0, 5.0]), np.array([2, 1]), 20000, np.random.default_rng(0))
    values, counts = np.unique(np.round(replicates, 12), return_counts=True)
    assert values == pytest.approx([1, 7 / 3, 5])
    assert counts / counts.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.015)
    assert percentile_interval(replicates) == (1.0, 5.0)


def test_percentile_interval_of_known_replicates():
    assert percentile_interval(np.arange(1001, dtype=float)) == pytest.approx((25.0, 975.0))


def test_derived_streams_are_reproducible_and_independent_of_each_other():
    first = derived_rng(7, "ratings", "q", "A").random(5)
    assert derived_rng(7, "ratings", "q", "A").random(5) == pytest.approx(first)
    assert not np.allclose(derived_rng(7, "ratings", "q", "B").random(5), first)
    assert not np.allclose(derived_rng(8, "ratings", "q", "A").random(5), first)
    # keys are not confused by where one part ends and the next begins
    assert not np.allclose(derived_rng(7, "ab", "c").random(5), derived_rng(7, "a", "bc").random(5))


def test_seed_is_kept_or_drawn():
    assert resolve_seed(12) == 12
    assert 0 <= resolve_seed(None) < 2**32
    with pytest.raises(ValueError):
        resolve_seed(-1)
