"""The run summary: the JSON object `loadgen hit --json` prints, with fixed key names.

Definitions (shared by every command that reports on runs):
- duration_s: first intended send to last completion;
- rps: ok responses / duration_s;
- send_rate: requests sent / (last send - first send);
- latency: end - intended (open loop) or end - send (closed loop); service: end - send;
  sched_lag: send - intended. Latency and service percentiles cover ok responses; sched_lag
  covers every request sent;
- client_cpu: each worker's CPU time / wall time; host: the host's load average at the start
  and end and its CPU busy and steal shares over the run (Linux).
"""

from typing import Literal

from hdrh.histogram import HdrHistogram
from pydantic import BaseModel, ConfigDict

from loadgen.metrics.histogram import PERCENTILES
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
    thresholds: list[ThresholdResult] = []
    host: HostLoad | None = None
    """How busy the loader's host was; None in summaries written before it was recorded."""


def _ms(value_us: int) -> float:
    return round(value_us / 1000, 3)


def latency_stats(hdr: HdrHistogram, sum_ns: int, max_ns: int, count: int) -> LatencyStats:
    """Percentiles from the histogram (never above the exact max), exact max and mean.

    `count` is every value summed in `sum_ns`, including any the histogram could not hold.
    """
    if count == 0 or hdr.get_total_count() == 0:
        return LatencyStats(p50=None, p90=None, p95=None, p99=None, p999=None, max=None, mean=None)
    exact_max = round(max_ns / NS_PER_MS, 3)
    values = {
        key: min(_ms(hdr.get_value_at_percentile(p)), exact_max) for key, p in PERCENTILES.items()
    }
    return LatencyStats(**values, max=exact_max, mean=round(sum_ns / count / NS_PER_MS, 3))


def lag_stats(hdr: HdrHistogram, max_ns: int, closed: bool) -> LagStats:
    """Closed loops send when the user is ready, so their lag is zero by definition."""
    if closed:
        return LagStats(p50=0.0, p99=0.0, max=0.0)
    if hdr.get_total_count() == 0:
        return LagStats(p50=None, p99=None, max=None)
    exact_max = round(max_ns / NS_PER_MS, 3)
    return LagStats(
        p50=min(_ms(hdr.get_value_at_percentile(50.0)), exact_max),
        p99=min(_ms(hdr.get_value_at_percentile(99.0)), exact_max),
        max=exact_max,
    )
