"""Every statistic against a reference implementation, plus properties.

Intervals over runs, their calibration and the runs advice are in test_intervals.py; the
Mann–Whitney test in test_rank_test.py."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.analysis.stats import (
    cliffs_delta,
    cliffs_magnitude,
    coefficient_of_variation,
    distribution,
    duration_s,
    exact_percentile,
    holm,
    throughput,
)

finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_distribution_matches_numpy_nearest_rank() -> None:
    values = np.random.default_rng(3).lognormal(3, 0.7, 1001)
    stats = distribution(values)
    for key, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p999", 99.9)):
        assert stats[key] == np.percentile(values, q, method="inverted_cdf")
        assert stats[key] in values  # nearest rank: always an observed value
    assert stats["max"] == values.max()
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["std"] == pytest.approx(values.std(ddof=1))


def test_distribution_edge_cases() -> None:
    assert all(value is None for value in distribution([]).values())
    single = distribution([7.5])
    assert single["p50"] == single["p999"] == single["max"] == single["mean"] == 7.5
    assert single["std"] is None
    ties = distribution([2.0] * 10 + [9.0])
    assert ties["p50"] == ties["p90"] == 2.0
    assert ties["p99"] == ties["max"] == 9.0


def test_nearest_rank_on_small_samples() -> None:
    values = [10, 20, 30, 40]
    assert exact_percentile(values, 50) == 20  # ceil(0.5 * 4) = 2nd value
    assert exact_percentile(values, 51) == 30
    assert exact_percentile(values, 100) == 40


def test_duration_and_throughput_follow_hit_definitions() -> None:
    assert duration_s(1_000_000_000, 3_500_000_000) == 2.5
    assert throughput(10, 2.5) == 4.0
    assert duration_s(None, None) == 0.0
    assert duration_s(5, 5) == 0.0
    assert throughput(3, 0.0) == 0.0


def test_coefficient_of_variation_matches_numpy() -> None:
    values = np.array([10.0, 12.0, 9.0, 11.0])
    assert coefficient_of_variation(values) == pytest.approx(values.std(ddof=1) / values.mean())
    assert coefficient_of_variation([5.0]) is None
    assert coefficient_of_variation([0.0, 0.0]) is None


def test_cliffs_delta_matches_pairwise_definition() -> None:
    rng = np.random.default_rng(4)
    a = rng.integers(0, 10, 30).astype(float)  # ties on purpose
    b = rng.integers(2, 12, 25).astype(float)
    pairs = np.sign(a[:, None] - b[None, :])
    assert cliffs_delta(a, b) == pytest.approx(pairs.mean())
    assert cliffs_delta([1, 2], [1, 2]) == 0.0
    assert cliffs_delta([5, 6], [1, 2]) == 1.0
    assert cliffs_magnitude(0.1) == "negligible"
    assert cliffs_magnitude(-0.2) == "small"
    assert cliffs_magnitude(0.4) == "medium"
    assert cliffs_magnitude(-0.9) == "large"
    with pytest.raises(ValueError, match="non-empty"):
        cliffs_delta([], [1.0])


def _holm_reference(p: list[float]) -> list[float]:
    """Holm (1979) step-down, written from the definition."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def test_holm_matches_reference() -> None:
    p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04]
    assert holm(p) == pytest.approx(_holm_reference(p))
    assert holm([0.01, 0.02, 0.03]) == pytest.approx([0.03, 0.04, 0.04])
    assert holm([]).size == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(finite, min_size=1, max_size=200))
def test_percentiles_are_monotone(values: list[float]) -> None:
    stats = distribution(values)
    ordered = [stats[key] for key in ("p50", "p90", "p95", "p99", "p999", "max")]
    assert min(values) <= ordered[0]
    assert all(a <= b for a, b in itertools.pairwise(ordered))


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 10**9),
    st.integers(-(10**12), 10**12),
    st.integers(-(10**12), 10**12),
)
def test_throughput_never_divides_by_zero(ok: int, first: int, last: int) -> None:
    seconds = duration_s(first, last)
    rate = throughput(ok, seconds)
    assert seconds >= 0
    assert math.isfinite(rate)
    assert rate >= 0
    if seconds == 0:
        assert rate == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(finite, min_size=1, max_size=40), st.lists(finite, min_size=1, max_size=40))
def test_cliffs_delta_is_antisymmetric_and_bounded(a: list[float], b: list[float]) -> None:
    delta = cliffs_delta(a, b)
    assert -1 <= delta <= 1
    assert cliffs_delta(b, a) == pytest.approx(-delta)
