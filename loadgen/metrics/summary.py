"""The run summary: the JSON object `loadgen hit --json` prints, with fixed key names.

Definitions (shared by every command that reports on runs):
- duration_s: first intended send to last completion;
- rps: ok responses / duration_s;
- send_rate: requests sent / (last send - first send);
- latency: end - intended (open loop) or end - send (closed loop); service: end - send;
  sched_lag: send - intended. Latency and service percentiles cover ok responses; sched_lag
  covers every request sent;
- percentiles: nearest rank (`loadgen.metrics.histogram.nearest_rank`, the definition of
  `aggregate`), read from HdrHistograms: each is the highest equivalent value of the bucket
  holding the nearest-rank value (capped at the exact max), and `percentile_bounds` gives that
  bucket's lowest and highest equivalent values, which bound the exact value.
- client_cpu: each worker's CPU time / wall time; host: the host's load average at the start
  and end and its CPU busy and steal shares over the run (Linux).
"""

from typing import Literal

from hdrh.histogram import HdrHistogram
from pydantic import BaseModel, ConfigDict

from loadgen.metrics.histogram import PERCENTILES, percentile_buckets
from loadgen.metrics.thresholds import ThresholdResult

NS_PER_MS = 1_000_000


class LatencyStats(BaseModel):
    """Milliseconds; None when there was nothing to measure."""

    model_config = ConfigDict(extra="forbid")

    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    p999: float | None
    max: float | None
    mean: float | None


class LagStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p50: float | None
    p99: float | None
    max: float | None


Bounds = dict[str, tuple[float, float]]
"""Percentile key → (low, high) in ms; keys only for percentiles that were measured."""


class PercentileBounds(BaseModel):
    """Where each HDR-derived percentile's exact value lies: (low, high) in milliseconds.

    `low` is the lowest equivalent value of the histogram bucket holding the nearest-rank value
    and `high` its highest (capped at the exact max, like the reported value, which equals
    `high`). The histogram records whole microseconds (truncated), so the exact percentile of
    the recorded values lies in [low, high] and that of the nanosecond timings below high +
    0.001 ms (and never above the exact max).
    """

    model_config = ConfigDict(extra="forbid")

    latency_ms: Bounds
    service_ms: Bounds
    sched_lag_ms: Bounds


class HostLoad(BaseModel):
    """The loader's host during the run (`loadgen.metrics.host`); None where unavailable
    (figures come from /proc, so only Linux has them)."""

    model_config = ConfigDict(extra="forbid")

    cpus: int | None
    """Logical CPUs of the host: what a load average is compared with."""
    load1_start: float | None
    """1-minute load average when the run started..."""
    load1_end: float | None
    """...and when it ended."""
    cpu_busy: float | None
    """Share of all CPUs' time spent busy over the run (the loader's own work included)."""
    cpu_steal: float | None
    """Share of all CPUs' time the hypervisor gave to other guests over the run."""


class Summary(BaseModel):
    """One run, all processes merged."""

    model_config = ConfigDict(extra="forbid")

    requests: int
    ok: int
    errors: dict[str, int]
    dropped: int
    duration_s: float
    rps: float
    send_rate: float
    target_rps: float | None
    latency_ms: LatencyStats
    service_ms: LatencyStats
    sched_lag_ms: LagStats
    processes: int
    valid: bool
    warnings: list[str]
    mode: Literal["closed", "open"]
    users: int | None
    arrival: Literal["constant", "poisson"] | None
    seed: int | None
    max_inflight: int | None
    on_saturation: Literal["queue", "drop"] | None
    warmup_s: float
    warmup_requests: int
    url: str
    method: str
    engine: str
    run_id: str
    started: str
    records_dir: str | None
    records: int | None
    client_cpu: list[float]
    histogram_overflow: int
    error_rate: float
    interrupted: bool
    percentile_bounds: PercentileBounds
    thresholds: list[ThresholdResult] = []
    host: HostLoad | None = None
    """How busy the loader's host was; None in summaries written before it was recorded."""


def _ms(value_us: int) -> float:
    return round(value_us / 1000, 3)


def _percentiles(
    hdr: HdrHistogram, keys: dict[str, float], exact_max: float
) -> tuple[dict[str, float], Bounds]:
    """Nearest-rank percentiles (ms) and their bucket bounds, capped at the exact max."""
    buckets = percentile_buckets(hdr, list(keys.values()))
    values: dict[str, float] = {}
    bounds: Bounds = {}
    for key, (low_us, high_us) in zip(keys, buckets, strict=True):
        high = min(_ms(high_us), exact_max)
        values[key] = high
        bounds[key] = (min(_ms(low_us), high), high)
    return values, bounds


def latency_stats(
    hdr: HdrHistogram, sum_ns: int, max_ns: int, count: int
) -> tuple[LatencyStats, Bounds]:
    """Percentiles from the histogram (never above the exact max) with their bucket bounds,
    exact max and mean.

    `count` is every value summed in `sum_ns`, including any the histogram could not hold.
    """
    if count == 0 or hdr.get_total_count() == 0:
        empty = LatencyStats(p50=None, p90=None, p95=None, p99=None, p999=None, max=None, mean=None)
        return empty, {}
    exact_max = round(max_ns / NS_PER_MS, 3)
    values, bounds = _percentiles(hdr, PERCENTILES, exact_max)
    stats = LatencyStats(**values, max=exact_max, mean=round(sum_ns / count / NS_PER_MS, 3))
    return stats, bounds


LAG_PERCENTILES: dict[str, float] = {"p50": 50.0, "p99": 99.0}


def lag_stats(hdr: HdrHistogram, max_ns: int, closed: bool) -> tuple[LagStats, Bounds]:
    """Closed loops send when the user is ready, so their lag is zero by definition."""
    if closed:
        return LagStats(p50=0.0, p99=0.0, max=0.0), dict.fromkeys(LAG_PERCENTILES, (0.0, 0.0))
    if hdr.get_total_count() == 0:
        return LagStats(p50=None, p99=None, max=None), {}
    exact_max = round(max_ns / NS_PER_MS, 3)
    values, bounds = _percentiles(hdr, LAG_PERCENTILES, exact_max)
    return LagStats(**values, max=exact_max), bounds
