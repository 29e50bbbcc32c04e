"""Latency histograms: HdrHistogram, 1 µs to 1 h at 3 significant digits, in every process.

The `hdrhistogram` package records a value in a dozen Python calls. `FastHistogram` computes
the same bucket index with a handful of integer operations into a plain list, and folds into a
real `HdrHistogram` (same parameters, same buckets) when percentiles are needed or the counts
cross a process boundary. Merging encoded histograms is exact. Values beyond one hour are
counted as overflow rather than silently lost.

Every percentile read from a histogram is the **nearest rank** (`nearest_rank`, numpy's
`inverted_cdf`, the definition `aggregate` uses on raw records), not HdrHistogram's own
`get_value_at_percentile` (rank `int(p·n/100 + 0.5)`, which differs, e.g. p99.9 of 1000
values). A histogram knows a value only to its bucket: `percentile_buckets` gives the bucket
holding the nearest-rank value, whose lowest and highest equivalent values bound the exact
value; the summary reports the highest and both bounds.
"""

import math
from collections.abc import Sequence

from hdrh.histogram import HdrHistogram

LOWEST_TRACKABLE_US = 1
HIGHEST_TRACKABLE_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

PERCENTILES: dict[str, float] = {
    "p50": 50.0,
    "p90": 90.0,
    "p95": 95.0,
    "p99": 99.0,
    "p999": 99.9,
}
"""The percentile keys used in every file format; p999 is the 99.9th percentile."""


def new_hdr() -> HdrHistogram:
    """An empty histogram with the project-wide parameters."""
    return HdrHistogram(LOWEST_TRACKABLE_US, HIGHEST_TRACKABLE_US, SIGNIFICANT_DIGITS)


_PROTOTYPE = new_hdr()


def nearest_rank(percent: float, count: int) -> int:
    """The 1-based rank of the nearest-rank `percent` percentile among `count` sorted values.

    The smallest rank r with r ≥ p·n/100 (Hyndman & Fan's definition 1), computed exactly as
    numpy's `np.percentile(..., method="inverted_cdf")` computes its index, floating point
    included: q = p / 100, i = n·q − 1 in binary64, kept when whole, else rounded up, at least
    0; the rank is i + 1. (So p99.9 of 1000 values is the 1000th: 99.9 / 100 is just above
    0.999.)
    """
    if count < 1:
        raise ValueError(f"a percentile of {count} values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percentile {percent} outside 0..100")
    position = count * (percent / 100) - 1
    below = math.floor(position)
    index = below if position == below else below + 1
    return max(index, 0) + 1


def bucket_indexes(counts: Sequence[int], percents: Sequence[float]) -> list[int] | None:
    """The counts index holding the nearest-rank value of each percentile; None when empty."""
    total = sum(counts)
    if total == 0:
        return None
    wanted = sorted((nearest_rank(p, total), i) for i, p in enumerate(percents))
    found = [0] * len(percents)
    running = 0
    position = 0
    for index, count in enumerate(counts):
        if not count:
            continue
        running += count
        while position < len(wanted) and wanted[position][0] <= running:
            found[wanted[position][1]] = index
            position += 1
        if position == len(wanted):
            break
    return found


def bucket_bounds(index: int) -> tuple[int, int]:
    """Lowest and highest equivalent value (µs) of the bucket at a counts index."""
    value = _PROTOTYPE.get_value_from_index(index)
    return (
        _PROTOTYPE.get_lowest_equivalent_value(value),
        _PROTOTYPE.get_highest_equivalent_value(value),
    )


def percentile_buckets(hdr: HdrHistogram, percents: Sequence[float]) -> list[tuple[int, int]]:
    """For each percentile, the bounds (µs) of the bucket holding its nearest-rank value.

    The exact nearest-rank percentile of the recorded values lies within the bounds; empty
    histograms give an empty list.
    """
    counts = [hdr.get_count_at_index(index) for index in range(hdr.counts_len)]
    indexes = bucket_indexes(counts, percents)
    return [] if indexes is None else [bucket_bounds(index) for index in indexes]


class FastHistogram:
    """Microsecond values counted into HdrHistogram buckets on the hot path."""

    __slots__ = ("_bucket_base", "_half", "_half_magnitude", "_mask", "_unit", "counts", "overflow")

    def __init__(self) -> None:
        self.counts = [0] * _PROTOTYPE.counts_len
        self.overflow = 0
        self._mask = _PROTOTYPE.sub_bucket_mask
        self._unit = _PROTOTYPE.unit_magnitude
        self._half_magnitude = _PROTOTYPE.sub_bucket_half_count_magnitude
        self._half = _PROTOTYPE.sub_bucket_half_count
        self._bucket_base = self._unit + self._half_magnitude + 1

    def index_of(self, value_us: int) -> int:
        """HdrHistogram's counts index for a value (bucket from the value's bit length)."""
        bucket = (value_us | self._mask).bit_length() - self._bucket_base
        sub_bucket = value_us >> (bucket + self._unit)
        return ((bucket + 1) << self._half_magnitude) + sub_bucket - self._half

    def record(self, value_us: int) -> None:
        if value_us > HIGHEST_TRACKABLE_US:
            self.overflow += 1
            return
        if value_us < 0:
            value_us = 0
        bucket = (value_us | self._mask).bit_length() - self._bucket_base
        sub_bucket = value_us >> (bucket + self._unit)
        self.counts[((bucket + 1) << self._half_magnitude) + sub_bucket - self._half] += 1

    @property
    def total(self) -> int:
        return sum(self.counts)

    def to_hdr(self) -> HdrHistogram:
        """The same counts in an `HdrHistogram`, bucket for bucket."""
        hdr = new_hdr()
        value_at = hdr.get_value_from_index
        for index, count in enumerate(self.counts):
            if count:
                hdr.record_value(value_at(index), count)
        return hdr

    def percentile_us(self, percentile: float) -> int:
        """A nearest-rank percentile straight from the counts (for live progress): the highest
        equivalent value of its bucket, as in the summary; 0 when empty."""
        indexes = bucket_indexes(self.counts, [percentile])
        return 0 if indexes is None else bucket_bounds(indexes[0])[1]


def encode(hdr: HdrHistogram) -> str:
    """Compressed, base64 form for crossing process boundaries."""
    return hdr.encode().decode("ascii")


def merge(encoded: list[str]) -> HdrHistogram:
    """Exact sum of encoded histograms with the project-wide parameters."""
    merged = new_hdr()
    for blob in encoded:
        if blob:
            merged.decode_and_add(blob)
    return merged
