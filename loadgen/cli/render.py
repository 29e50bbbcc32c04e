"""The human-readable report of a run, in the spirit of hey's: summary, histogram, percentiles."""

import math
from typing import TYPE_CHECKING

from hdrh.histogram import HdrHistogram

from loadgen.engine.errors import error_meaning
from loadgen.loaders.models import DistributedSummary
from loadgen.metrics.summary import LagStats, LatencyStats, Summary
from loadgen.metrics.validity import host_text

if TYPE_CHECKING:
    from loadgen.completions.summary import CompletionSummary

HISTOGRAM_BINS = 12
BAR_WIDTH = 40


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _stats_line(label: str, stats: LatencyStats) -> str:
    return (
        f"  {label:<14} p50 {_ms(stats.p50)}  p90 {_ms(stats.p90)}  p95 {_ms(stats.p95)}  "
        f"p99 {_ms(stats.p99)}  p99.9 {_ms(stats.p999)}  max {_ms(stats.max)}  "
        f"mean {_ms(stats.mean)}"
    )


def _lag_line(stats: LagStats) -> str:
    return f"  {'sched lag':<14} p50 {_ms(stats.p50)}  p99 {_ms(stats.p99)}  max {_ms(stats.max)}"


def bucket_spread_ms(summary: Summary) -> float | None:
    """How far a printed percentile may sit from the exact one: the widest bucket among them
    plus the microsecond the histogram truncates; None when no percentile was measured."""
    bounds = summary.percentile_bounds
    shown = [bounds.latency_ms]
    if summary.mode == "open":
        shown += [bounds.service_ms, bounds.sched_lag_ms]
    widths = [high - low for group in shown for low, high in group.values()]
    return round(max(widths) + 0.001, 3) if widths else None


def histogram_bins(hdr: HdrHistogram, bins: int = HISTOGRAM_BINS) -> list[tuple[float, int]]:
    """(upper edge in ms, count) for log-spaced bins from the fastest to the slowest value."""
    if hdr.get_total_count() == 0:
        return []
    low = max(hdr.get_min_value(), 1)
    high = max(hdr.get_max_value(), low + 1)
    ratio = (high / low) ** (1 / bins)
    edges = [low * ratio ** (i + 1) for i in range(bins)]
    edges[-1] = math.inf
    counts = [0] * bins
    for index in range(hdr.counts_len):
        count = hdr.get_count_at_index(index)
        if count:
            value = hdr.get_value_from_index(index)
            slot = next(i for i, edge in enumerate(edges) if value < edge)
            counts[slot] += count
    uppers = [edge / 1000 for edge in edges[:-1]] + [hdr.get_max_value() / 1000]
    return list(zip(uppers, counts, strict=True))


def loader_lines(summary: DistributedSummary) -> list[str]:
    """Each loader's share, clock and start: what a run over a pool adds to the report."""
    skew = "–" if summary.start_skew_ms is None else f"{summary.start_skew_ms:.3f}"
    lines = [
        f"Loaders ({summary.loaders_spec}): start skew {skew} ms, clocks known to "
        f"±{summary.clock_uncertainty_ms:.3f} ms"
    ]
    for loader in summary.loaders:
        state = loader.status if loader.status != "completed" else f"{loader.ok:,} ok"
        start = "–" if loader.start_skew_ms is None else f"{loader.start_skew_ms:.3f}"
        lag = loader.sched_lag_ms.p99 if loader.sched_lag_ms is not None else None
        lines.append(
            f"  {loader.name:<10} {loader.hostname or loader.address}  {loader.processes} proc  "
            f"offset {loader.clock_offset_ms:+.3f} ±{loader.clock_uncertainty_ms:.3f} ms  "
            f"skew {start} ms  lag p99 {_ms(lag)} ms  {state}"
        )
    if summary.partial:
        lines.append(f"  PARTIAL: {summary.partial_reason}")
    return lines


def render_report(
    summary: Summary, latency: HdrHistogram, causes: dict[str, str] | None = None
) -> str:
    """CAUSES: what the system said about an error class (`connect`: `connection refused`)."""
    lines: list[str] = []
    if summary.mode == "closed":
        shape = f"closed loop, {summary.users} users"
    else:
        shape = f"open loop, {summary.target_rps:g}/s {summary.arrival}, seed {summary.seed}"
    plural = "es" if summary.processes != 1 else ""
    lines.append("Summary:")
    lines.append(f"  Target:        {summary.method} {summary.url}")
    lines.append(f"  Workload:      {shape}, {summary.processes} process{plural}")
    lines.append(f"  Duration:      {summary.duration_s:.4f} s")
    lines.append(
        f"  Requests:      {summary.requests:,}  (ok {summary.ok:,}, "
        f"errors {sum(summary.errors.values()):,}, dropped {summary.dropped:,})"
    )
    lines.append(
        f"  Requests/sec:  {summary.rps:,.1f} ok/s  (send rate {summary.send_rate:,.1f}/s)"
    )
    if summary.warmup_requests:
        lines.append(f"  Warm-up:       {summary.warmup_requests:,} requests not counted")
    if summary.client_cpu and summary.ok:  # without an ok response nothing was measured
        host = "" if summary.host is None else f"; {host_text([summary.host])}"
        lines.append(
            f"  Loader:        CPU {max(summary.client_cpu):.0%} of a core (busiest process){host}"
        )
    lines.append("")
    lines.append("Latency (ms):")
    lines.append(_stats_line("latency", summary.latency_ms))
    if summary.mode == "open":
        lines.append(_stats_line("service", summary.service_ms))
        lines.append(_lag_line(summary.sched_lag_ms))
    spread = bucket_spread_ms(summary)
    if spread is not None:
        lines.append(
            f"  percentiles: nearest rank, each the top of its histogram bucket, within "
            f"{spread:.3f} ms of the exact value"
        )
    bins = histogram_bins(latency)
    if bins:
        lines.append("")
        lines.append("Latency histogram (ms, ok responses):")
        peak = max(count for _, count in bins) or 1
        for upper, count in bins:
            bar = "■" * round(BAR_WIDTH * count / peak)
            lines.append(f"  {upper:>10.3f} [{count:>9,}] |{bar}")
    if summary.errors:
        lines.append("")
        lines.append("Errors:")
        for name, count in summary.errors.items():
            cause = (causes or {}).get(name)
            meaning = f"{cause}" if cause else error_meaning(name)
            lines.append(f"  {name:<14} {count:>9,}  {meaning}")
    if isinstance(summary, DistributedSummary):
        lines.append("")
        lines.extend(loader_lines(summary))
    if summary.records_dir is not None:
        lines.append("")
        lines.append(f"Records: {summary.records:,} in {summary.records_dir}")
    if summary.thresholds:
        lines.append("")
        lines.append("Thresholds:")
        for result in summary.thresholds:
            verdict = "pass" if result.passed else "FAIL"
            actual = "no data" if result.actual is None else f"{result.actual:g}"
            lines.append(f"  {verdict}  {result.expression}  (actual {actual})")
    lines.append("")
    if summary.valid:
        lines.append("Valid: yes")
    else:
        lines.append("Valid: NO")
        lines.extend(f"  - {warning}" for warning in summary.warnings)
    return "\n".join(lines)


def render_completions(completions: "CompletionSummary") -> str:
    """Asynchronous calls from submission to completion (`hit --callback`)."""
    refused = ", ".join(f"{k} {v:,}" for k, v in completions.refused.items()) or "none"
    lines = [
        "Asynchronous calls:",
        f"  Submitted:     {completions.submitted:,}  (accepted {completions.accepted:,}; "
        f"refused {refused})",
        f"  Completed:     {completions.completed:,}  (failed {completions.failed:,}, "
        f"lost {completions.lost:,} after {completions.deadline_s:g} s, "
        f"unmatched {completions.unmatched:,}, cold {completions.cold:,})",
        f"  Completed/sec: {completions.completion_rate:,.1f}",
        "",
        "Latency (ms):",
    ]
    for label, stats in (
        ("submission", completions.submission),
        ("completion", completions.completion),
        ("waiting", completions.waiting),
    ):
        if stats is not None:
            lines.append(_stats_line(label, stats))
    return "\n".join(lines)
