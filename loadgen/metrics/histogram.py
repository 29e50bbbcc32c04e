"""Latency histograms: HdrHistogram, 1 µs to 1 h at 3 significant digits, in every process.

The `hdrhistogram` package records a value in a dozen Python calls. `FastHistogram` computes
the same bucket index with a handful of integer operations into a plain list, and folds into a
real `HdrHistogram` (same parameters, same buckets) when percentiles are needed or the counts
cross a process boundary. Merging encoded histograms is exact. Values beyond one hour are
counted as overflow rather than silently lost.
"""

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
        """A percentile straight from the counts (for live progress; same rule as HdrHistogram)."""
        total = sum(self.counts)
        if total == 0:
            return 0
        target = max(1, int(percentile * total / 100 + 0.5))
        running = 0
        for index, count in enumerate(self.counts):
            running += count
            if running >= target:
                return _PROTOTYPE.get_highest_equivalent_value(
                    _PROTOTYPE.get_value_from_index(index)
                )
        return 0


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
