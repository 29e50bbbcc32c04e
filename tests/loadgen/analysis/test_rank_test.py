"""The Mann–Whitney test of `compare`: exact even with ties, against scipy's references.

Without ties the exact distribution is scipy's `mannwhitneyu(method="exact")`. With ties scipy
falls back to a normal approximation, whose p-value can fall below anything the data could
give; the reference is then scipy's exhaustive `permutation_test` on the same statistic,
|U − mn/2|.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from loadgen.analysis.stats import EXACT_TEST_MAX_RUNS, mann_whitney


def _distance(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    n, m = x.shape[axis], y.shape[axis]
    u = scipy_stats.mannwhitneyu(x, y, axis=axis, method="asymptotic").statistic
    return np.abs(u - n * m / 2)


def _permutation_p(x: np.ndarray, y: np.ndarray) -> float:
    """Every split of the pooled values, enumerated by scipy."""
    result = scipy_stats.permutation_test(
        (x, y),
        _distance,
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    return float(result.pvalue)


@pytest.mark.parametrize("sizes", [(2, 2), (2, 5), (3, 3), (4, 6), (5, 5), (8, 8), (7, 12)])
def test_without_ties_it_is_scipys_exact_test(sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(sizes))
    for shift in (0.0, 0.7, 2.0):
        x = rng.normal(shift, 1, sizes[0])
        y = rng.normal(0, 1, sizes[1])
        ours = mann_whitney(x, y)
        theirs = scipy_stats.mannwhitneyu(x, y, method="exact")
        assert ours.exact
        assert ours.u == theirs.statistic
        assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
        assert ours.floor == pytest.approx(2 / math.comb(sum(sizes), sizes[0]), rel=1e-9)


@pytest.mark.parametrize("sizes", [(3, 3), (3, 5), (4, 4), (5, 6), (6, 7), (2, 9)])
def test_with_ties_it_is_the_exhaustive_permutation_test(sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(10 * sizes[0] + sizes[1])
    for levels, shift in ((3, 0), (4, 1), (6, 2)):
        x = rng.integers(0, levels, sizes[0]).astype(float) + shift
        y = rng.integers(0, levels, sizes[1]).astype(float)
        ours = mann_whitney(x, y)
        assert ours.exact
        assert ours.u == scipy_stats.mannwhitneyu(x, y).statistic
        assert ours.p_value == pytest.approx(_permutation_p(x, y), rel=1e-9)
        assert ours.floor <= ours.p_value


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=2, max_size=6),
    st.lists(st.integers(0, 4), min_size=2, max_size=6),
)
def test_any_small_tied_samples_match_the_permutation_test(a: list[int], b: list[int]) -> None:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ours = mann_whitney(x, y)
    if np.ptp(np.concatenate([x, y])) == 0:
        assert (ours.p_value, ours.floor) == (1.0, 1.0)  # every split looks the same
        return
    assert ours.p_value == pytest.approx(_permutation_p(x, y), rel=1e-9)
    swapped = mann_whitney(y, x)
    assert swapped.p_value == pytest.approx(ours.p_value, rel=1e-12)
    assert swapped.u == x.size * y.size - ours.u


def test_ties_no_longer_give_a_p_value_below_what_the_data_allow() -> None:
    """The issue's example: 3 runs against 3, each side's runs tied. Of the 20 equally likely
    splits, 2 are this extreme, so p = 0.1; scipy's default falls back to the normal
    approximation and says 0.0469, below the 0.1 that 3 vs 3 runs can ever give."""
    x, y = [4.0, 4.0, 4.0], [1.0, 1.0, 1.0]
    assert scipy_stats.mannwhitneyu(x, y).pvalue == pytest.approx(0.0469, abs=5e-5)
    ours = mann_whitney(x, y)
    assert ours.p_value == pytest.approx(0.1)
    assert ours.floor == pytest.approx(0.1)
    assert ours.u == 9.0


def test_ties_can_raise_the_smallest_attainable_p_value() -> None:
    """Four of six values tied: the most extreme split of them is less extreme than without
    ties, and more of the splits reach it."""
    x, y = [1.0, 2.0, 2.0], [2.0, 2.0, 3.0]
    ours = mann_whitney(x, y)
    assert ours.floor > 2 / math.comb(6, 3)
    assert ours.p_value == pytest.approx(_permutation_p(np.array(x), np.array(y)), rel=1e-9)


def test_large_samples_use_the_normal_approximation_with_tie_correction() -> None:
    rng = np.random.default_rng(6)
    x = rng.normal(0.3, 1, 60).round(1)  # ties on purpose
    y = rng.normal(0, 1, 70).round(1)
    assert x.size + y.size > EXACT_TEST_MAX_RUNS
    ours = mann_whitney(x, y)
    theirs = scipy_stats.mannwhitneyu(x, y, method="asymptotic")
    assert not ours.exact
    assert ours.u == theirs.statistic
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert 0 < ours.floor < 1e-20


def test_at_the_switch_the_two_methods_nearly_agree() -> None:
    """50 vs 50 runs is still exact; its p-value is within a few percent of the normal one."""
    rng = np.random.default_rng(8)
    x, y = rng.normal(0.4, 1, 50).round(1), rng.normal(0, 1, 50).round(1)
    ours = mann_whitney(x, y)
    assert ours.exact
    normal = scipy_stats.mannwhitneyu(x, y, method="asymptotic").pvalue
    assert ours.p_value == pytest.approx(normal, rel=0.05)


def test_empty_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        mann_whitney([], [1.0])
