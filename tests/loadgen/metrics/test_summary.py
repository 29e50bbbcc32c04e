"""One percentile definition: nearest rank, as numpy's inverted_cdf, in the summary of `hit`.

The summary reads percentiles from HdrHistograms; each must be the top of the bucket that holds
the exact nearest-rank value of the recorded data, with that bucket's bounds beside it, and a
threshold must judge the very number the summary reports.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.cli.render import bucket_spread_ms, render_report
from loadgen.engine import EngineOptions, RequestSpec
from loadgen.metrics.histogram import (
    PERCENTILES,
    FastHistogram,
    encode,
    nearest_rank,
    new_hdr,
    percentile_buckets,
)
from loadgen.metrics.summary import LAG_PERCENTILES, NS_PER_MS, lag_stats, latency_stats
from loadgen.metrics.thresholds import evaluate_all, parse_threshold
from loadgen.processes.merge import build_summary
from loadgen.processes.plan import RunPlan, WorkerReport
from loadgen.workload.spec import OpenLoop

KEY_PERCENTS = [*PERCENTILES.values(), 0.0, 100.0]


def _numpy_rank(count: int, percents: list[float]) -> list[int]:
    """numpy's inverted_cdf rank: the position of the value it picks from 0, 1, …, n − 1."""
    picked = np.percentile(np.arange(count, dtype=np.float64), percents, method="inverted_cdf")
    return [int(value) + 1 for value in picked]


def test_nearest_rank_is_numpys_inverted_cdf_for_every_size_up_to_3000() -> None:
    for count in range(1, 3001):
        ours = [nearest_rank(p, count) for p in KEY_PERCENTS]
        assert ours == _numpy_rank(count, KEY_PERCENTS), count


def test_nearest_rank_is_numpys_inverted_cdf_for_large_and_random_sizes() -> None:
    rng = np.random.default_rng(17)
    sizes = [10_000, 99_999, 100_000, 100_001, 999_999, 1_000_000, 1_000_001]
    sizes += rng.integers(3001, 2_000_000, 12).tolist()
    percents = [*KEY_PERCENTS, *rng.uniform(0, 100, 20).tolist()]
    for count in sizes:
        assert [nearest_rank(p, count) for p in percents] == _numpy_rank(count, percents), count


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 50_000), st.floats(0, 100, allow_nan=False))
def test_nearest_rank_matches_numpy_anywhere(count: int, percent: float) -> None:
    assert nearest_rank(percent, count) == _numpy_rank(count, [percent])[0]


def test_nearest_rank_edges_and_the_floating_point_of_p999() -> None:
    assert [nearest_rank(p, 1) for p in KEY_PERCENTS] == [1] * len(KEY_PERCENTS)
    assert [nearest_rank(p, 2) for p in (0, 50, 50.1, 90, 100)] == [1, 1, 2, 2, 2]
    # 99.9 / 100 is just above 0.999 in binary64, so 1000 · q − 1 is not whole: numpy takes the
    # 1000th value, and so must the summary. HdrHistogram's own rule, int(p·n/100 + 0.5),
    # takes the 999th: the two definitions this test pins down used to disagree here.
    assert nearest_rank(99.9, 1000) == 1000
    hdr = new_hdr()
    hdr.record_value(5, 1000)
    assert hdr.get_target_count_at_percentile(99.9) == 999
    assert nearest_rank(99.9, 999) == 999
    assert nearest_rank(99.9, 1001) == 1000  # ceil(999.999)
    assert nearest_rank(99, 1000) == 990
    assert nearest_rank(50, 1001) == 501
    with pytest.raises(ValueError, match="0 values"):
        nearest_rank(50, 0)
    with pytest.raises(ValueError, match="outside"):
        nearest_rank(100.5, 10)


def _recorded(values_us: np.ndarray) -> FastHistogram:
    fast = FastHistogram()
    for value in values_us.tolist():
        fast.record(value)
    return fast


SIZES = [1, 2, 3, 10, 999, 1000, 1001, 4321]


@pytest.mark.parametrize("size", SIZES)
def test_summary_percentiles_are_the_bucket_of_the_exact_nearest_rank_value(size: int) -> None:
    """Cross-check against numpy inverted_cdf on the same data, nanoseconds and microseconds."""
    rng = np.random.default_rng(size)
    ns = (rng.lognormal(np.log(3e6), 1.2, size)).astype(np.int64)  # ~3 ms, up to seconds
    us = ns // 1000  # what the collector records
    hdr = _recorded(us).to_hdr()
    stats, bounds = latency_stats(hdr, int(ns.sum()), int(ns.max()), size)
    exact_max = round(int(ns.max()) / NS_PER_MS, 3)
    assert stats.max == exact_max
    assert set(bounds) == set(PERCENTILES)
    for key, percent in PERCENTILES.items():
        exact_us = int(np.percentile(us, percent, method="inverted_cdf"))
        low, high = bounds[key]
        reported = getattr(stats, key)
        assert reported == high
        assert reported == min(hdr.get_highest_equivalent_value(exact_us) / 1000, exact_max)
        assert low == hdr.get_lowest_equivalent_value(exact_us) / 1000
        assert low <= exact_us / 1000 <= high
        # The nanosecond value truncates to exact_us, so it lies below high + 1 µs.
        exact_ms = float(np.percentile(ns, percent, method="inverted_cdf")) / NS_PER_MS
        assert low <= exact_ms < high + 0.001
        # Bucket width: one microsecond below 2.048 ms, at most 1/1024 of the value above.
        assert high - low <= max(0.0, low / 1024) + 1e-9


def test_bucket_bounds_cover_the_nearest_rank_value_where_hdrs_own_rule_does_not() -> None:
    """999 fast values and one slow: p99.9 of the 1000 is the slow one (numpy and the summary),
    where HdrHistogram's get_value_at_percentile answers the fast one."""
    us = np.array([1000] * 999 + [250_000])
    hdr = _recorded(us).to_hdr()
    stats, bounds = latency_stats(hdr, int(us.sum()) * 1000, 250_000_000, 1000)
    assert np.percentile(us, 99.9, method="inverted_cdf") == 250_000
    assert stats.p999 == 250.0
    assert bounds["p999"][0] <= 250.0 <= bounds["p999"][1]
    assert hdr.get_value_at_percentile(99.9) == 1000


def test_percentiles_are_capped_at_the_exact_max_with_their_bounds() -> None:
    us = np.array([3_000_001])  # a bucket 2 µs wide above 2.048 ms: top is 3_000_001 or more
    hdr = _recorded(us).to_hdr()
    (low, high) = percentile_buckets(hdr, [50])[0]
    assert low <= 3_000_001 <= high
    stats, bounds = latency_stats(hdr, 3_000_001_000, 3_000_001_000, 1)
    assert stats.p50 == stats.max == 3000.001
    assert bounds["p50"] == (low / 1000, 3000.001)


def test_empty_histograms_report_nothing() -> None:
    stats, bounds = latency_stats(new_hdr(), 0, 0, 0)
    assert stats.p99 is None
    assert bounds == {}
    lag, lag_bounds = lag_stats(new_hdr(), 0, closed=False)
    assert lag.p99 is None
    assert lag_bounds == {}
    closed, closed_bounds = lag_stats(new_hdr(), 0, closed=True)
    assert (closed.p50, closed.p99) == (0.0, 0.0)
    assert closed_bounds == {"p50": (0.0, 0.0), "p99": (0.0, 0.0)}


def test_lag_percentiles_follow_the_same_rule() -> None:
    rng = np.random.default_rng(4)
    us = rng.integers(0, 50_000, 1001)
    hdr = _recorded(us).to_hdr()
    stats, bounds = lag_stats(hdr, int(us.max()) * 1000, closed=False)
    for key, percent in LAG_PERCENTILES.items():
        exact = int(np.percentile(us, percent, method="inverted_cdf"))
        assert getattr(stats, key) == bounds[key][1]
        assert getattr(stats, key) == min(hdr.get_highest_equivalent_value(exact), us.max()) / 1000
        assert bounds[key][0] <= exact / 1000 <= bounds[key][1]


def test_live_percentile_is_the_summary_percentile_before_the_cap() -> None:
    rng = np.random.default_rng(8)
    us = rng.lognormal(8, 1.5, 2345).astype(np.int64)
    fast = _recorded(us)
    hdr = fast.to_hdr()
    for percent in PERCENTILES.values():
        exact = int(np.percentile(us, percent, method="inverted_cdf"))
        assert fast.percentile_us(percent) == hdr.get_highest_equivalent_value(exact)
    assert FastHistogram().percentile_us(99.0) == 0


def _report(index: int, ns: np.ndarray, lag_ns: np.ndarray) -> WorkerReport:
    latency = _recorded(ns // 1000).to_hdr()
    lag = _recorded(lag_ns // 1000).to_hdr()
    return WorkerReport(
        index=index,
        reason="completed",
        requests=ns.size,
        ok=ns.size,
        warmup=0,
        dropped=0,
        errors={},
        first_intended_ns=0,
        last_end_ns=2_000_000_000,
        first_send_ns=0,
        last_send_ns=1_900_000_000,
        latency_hdr=encode(latency),
        service_hdr=encode(latency),
        sched_lag_hdr=encode(lag),
        histogram_overflow=0,
        latency_sum_ns=int(ns.sum()),
        latency_max_ns=int(ns.max()),
        service_sum_ns=int(ns.sum()),
        service_max_ns=int(ns.max()),
        sched_lag_max_ns=int(lag_ns.max()),
        cpu_s=0.1,
        wall_s=2.0,
        records=None,
        record_path=None,
        record_error=None,
        resolve_error=None,
        connections_opened=1,
        queued_max=0,
        max_rss_kib=1,
    )


def test_merged_summary_and_thresholds_use_the_one_number() -> None:
    """Two processes merged: the summary's p99 is the nearest-rank bucket of all their values,
    `percentile_bounds` holds its bucket, and a threshold judges exactly the reported value."""
    rng = np.random.default_rng(12)
    parts = [rng.lognormal(np.log(4e6), 0.8, size).astype(np.int64) for size in (600, 401)]
    lags = [rng.integers(0, 200_000, part.size) for part in parts]
    plan = RunPlan(
        run_id="r",
        request=RequestSpec(url="http://127.0.0.1:9/"),
        options=EngineOptions(),
        workload=OpenLoop(rate=500, total=1001),
        processes=2,
        monotonic_epoch_ns=0,
        wall_anchor_ns=0,
    )
    reports = [_report(i, ns, lag) for i, (ns, lag) in enumerate(zip(parts, lags, strict=True))]
    summary = build_summary(plan, reports, "2026-01-01T00:00:00Z")
    every_us = np.concatenate(parts) // 1000
    exact = int(np.percentile(every_us, 99, method="inverted_cdf"))
    top = new_hdr().get_highest_equivalent_value(exact) / 1000
    assert summary.latency_ms.p99 == min(top, summary.latency_ms.max)
    low, high = summary.percentile_bounds.latency_ms["p99"]
    assert low <= exact / 1000 <= high == summary.latency_ms.p99
    assert set(summary.percentile_bounds.sched_lag_ms) == {"p50", "p99"}
    dumped = summary.model_dump()
    assert dumped["percentile_bounds"]["latency_ms"]["p99"] == (low, high)
    assert summary.latency_ms.p99 is not None
    at = summary.latency_ms.p99
    results = evaluate_all(
        [parse_threshold(f"p99<={at}ms"), parse_threshold(f"p99<{at}ms")], dumped
    )
    assert [r.actual for r in results] == [at, at]
    assert [r.passed for r in results] == [True, False]
    # The human report says how far its percentiles may be from the exact values.
    bounds = summary.percentile_bounds
    widest = max(
        high - low
        for group in (bounds.latency_ms, bounds.service_ms, bounds.sched_lag_ms)
        for low, high in group.values()
    )
    assert widest > 0
    assert bucket_spread_ms(summary) == round(widest + 0.001, 3)
    text = render_report(summary, new_hdr())
    assert f"within {bucket_spread_ms(summary):.3f} ms of the exact value" in text
