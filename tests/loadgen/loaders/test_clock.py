"""Clock offsets: the sample with the smallest round trip is kept and bounds the offset."""

import pytest

from loadgen.loaders.clock import best_sample


def test_the_tightest_round_trip_is_kept() -> None:
    # (driver before, loader reading, driver after); the loader runs 5 ms ahead.
    samples = [(0, 5_000_900, 2_000), (10_000, 5_010_400, 10_800), (20_000, 5_021_000, 23_000)]
    offset = best_sample(samples)
    assert offset.rtt_ns == 800
    assert offset.uncertainty_ns == 400
    assert offset.offset_ns == 5_010_400 - 10_400
    assert offset.samples == 3
    assert abs(offset.offset_ns - 5_000_000) <= offset.uncertainty_ns
    assert offset.to_driver(offset.to_loader(123_456)) == 123_456


def test_no_samples_is_an_error() -> None:
    with pytest.raises(ValueError, match="no clock samples"):
        best_sample([])
