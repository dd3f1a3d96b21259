"""Krippendorff's alpha, against Krippendorff's own worked examples and the ``krippendorff`` package."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from studies.analysis import krippendorff_alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: four observers, twelve units, values
# 1-5, missing values as None. Published: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
EXAMPLE_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# Example A: two observers, ten units, binary values. Published: nominal 0.095.
EXAMPLE_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


def units_of(observers: list[list]) -> list[list]:
    return [[v for v in unit if v is not None] for unit in zip(*observers, strict=True)]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorffs_worked_example_c(level, published):
    assert krippendorff_alpha(units_of(EXAMPLE_C), level) == pytest.approx(published, abs=5e-4)


def test_krippendorffs_worked_example_a():
    assert krippendorff_alpha(units_of(EXAMPLE_A), "nominal") == pytest.approx(0.095, abs=5e-4)


def test_perfect_agreement_is_one_and_no_variation_is_undefined():
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3, 3]], "ordinal") == 1.0
    assert krippendorff_alpha([[4, 4], [4, 4]], "ordinal") is None
    assert krippendorff_alpha([[1], [2]], "nominal") is None  # no unit with two values
    assert krippendorff_alpha([], "nominal") is None


def test_nominal_values_may_be_labels_or_booleans():
    as_numbers = krippendorff_alpha(units_of(EXAMPLE_A), "nominal")
    as_booleans = krippendorff_alpha([[bool(v) for v in unit] for unit in units_of(EXAMPLE_A)], "nominal")
    as_words = krippendorff_alpha([["yes" if v else "no" for v in unit] for unit in units_of(EXAMPLE_A)], "nominal")
    assert as_numbers == as_booleans == as_words


def test_unknown_level_is_refused():
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, 2]], "cardinal")  # type: ignore[arg-type]


reliability_data = st.integers(2, 5).flatmap(
    lambda raters: st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=raters, max_size=raters), min_size=2, max_size=25
    )
)


@settings(max_examples=150, deadline=None)
@given(reliability_data, st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_matches_the_krippendorff_package(units, level):
    cleaned = [[v for v in unit if v is not None] for unit in units]
    ours = krippendorff_alpha(cleaned, level)
    matrix = np.array([[np.nan if v is None else v for v in unit] for unit in units], dtype=float).T
    pairable = [unit for unit in cleaned if len(unit) >= 2]
    if ours is None:
        # undefined: nothing pairable, or a single value throughout
        assert not pairable or len({v for unit in pairable for v in unit}) == 1
        return
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert ours == pytest.approx(expected, abs=1e-9)
