"""HDR histograms: the fast recording path files values exactly where HdrHistogram would."""

import random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from loadgen.metrics.histogram import (
    HIGHEST_TRACKABLE_US,
    FastHistogram,
    encode,
    merge,
    new_hdr,
    percentile_buckets,
)

values_us = st.integers(min_value=0, max_value=HIGHEST_TRACKABLE_US)


@given(values_us)
def test_fast_index_matches_hdrhistogram(value: int) -> None:
    fast = FastHistogram()
    reference = new_hdr()
    assert fast.index_of(value) == reference.get_counts_array_index(value)


@given(st.lists(values_us, max_size=300))
def test_fast_histogram_folds_into_an_identical_hdrhistogram(values: list[int]) -> None:
    fast = FastHistogram()
    reference = new_hdr()
    for value in values:
        fast.record(value)
        reference.record_value(value)
    folded = fast.to_hdr()
    assert folded.get_total_count() == len(values)
    assert folded.equals(reference)
    percents = [50.0, 99.0, 99.9]
    assert percentile_buckets(folded, percents) == percentile_buckets(reference, percents)
    if values:
        exact = [int(np.percentile(values, p, method="inverted_cdf")) for p in percents]
        assert [high for _, high in percentile_buckets(folded, percents)] == [
            reference.get_highest_equivalent_value(value) for value in exact
        ]


def test_merge_across_processes_is_exact() -> None:
    rng = random.Random(5)
    values = [int(rng.lognormvariate(6, 2)) for _ in range(50_000)]
    whole = FastHistogram()
    parts = [FastHistogram() for _ in range(4)]
    for position, value in enumerate(values):
        whole.record(value)
        parts[position % 4].record(value)
    merged = merge([encode(part.to_hdr()) for part in parts])
    assert merged.equals(whole.to_hdr())
    assert merged.get_total_count() == len(values)
    percents = [50.0, 90.0, 99.0, 99.9, 100.0]
    assert percentile_buckets(merged, percents) == percentile_buckets(whole.to_hdr(), percents)


def test_resolution_is_three_significant_digits_and_one_microsecond_below_two_ms() -> None:
    hdr = new_hdr()
    for value in (1, 2, 999, 1000, 1001, 2047):
        assert hdr.get_highest_equivalent_value(value) == value
    one_second = 1_000_000
    assert hdr.get_highest_equivalent_value(one_second) - one_second < one_second / 1000


def test_values_beyond_one_hour_are_counted_as_overflow() -> None:
    fast = FastHistogram()
    fast.record(HIGHEST_TRACKABLE_US)
    fast.record(HIGHEST_TRACKABLE_US + 1)
    fast.record(10 * HIGHEST_TRACKABLE_US)
    assert fast.total == 1
    assert fast.overflow == 2


def test_live_percentile_is_nearest_rank_like_the_summary() -> None:
    """Not HdrHistogram's own rank, int(p·n/100 + 0.5): of 1000 values a millisecond apart, its
    p99.9 is the 999th; nearest rank (numpy inverted_cdf, `aggregate`) is the 1000th."""
    values = list(range(1000, 1_000_001, 1000))
    fast = FastHistogram()
    for value in values:
        fast.record(value)
    hdr = fast.to_hdr()
    for percentile in (50.0, 90.0, 99.0, 99.9):
        exact = int(np.percentile(values, percentile, method="inverted_cdf"))
        assert fast.percentile_us(percentile) == hdr.get_highest_equivalent_value(exact)
    assert fast.percentile_us(99.9) == hdr.get_highest_equivalent_value(1_000_000)
    assert hdr.get_value_at_percentile(99.9) == hdr.get_highest_equivalent_value(999_000)
