"""`loadgen aggregate`: every cell and every group of runs of a campaign, as one tidy table.

A group is one function × mode × sweep value × cold-start method of one campaign (platform);
its runs are the cells that differ only in `run`. Request-level statistics of a group pool the
requests of its runs; intervals and the run-to-run coefficient of variation use one value per
run (see `loadgen.analysis.stats`).
"""

import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from loadgen.analysis.requests import COLD, UNKNOWN, WARM, Requests, load_requests
from loadgen.analysis.stats import (
    DISTRIBUTION_KEYS,
    MAX_ADVISED_RUNS,
    active_s,
    coefficient_of_variation,
    distribution,
    duration_s,
    exact_percentile,
    median_interval,
    min_runs,
    runs_for_precision,
    throughput,
)
from loadgen.metrics.summary import NS_PER_MS
from loadgen.metrics.validity import late_sends
from loadgen.record.reader import RecordFormatError
from loadgen.results.models import CellSummary, MetricsFile, SegmentLoad
from loadgen.results.tree import Cell, ResultsError, ResultsTree

STATS_PARQUET = "stats.parquet"
STATS_CSV = "stats.csv"
SUMMARY_JSON = "summary.json"
#: Ok requests per run under which tail percentiles get a warning.
TAIL_REQUESTS = 1000

SCHEMA = pa.schema(
    [
        pa.field("campaign", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("level", pa.string()),
        pa.field("function", pa.string()),
        pa.field("mode", pa.string()),
        pa.field("sweep_name", pa.string()),
        pa.field("sweep_value", pa.float64()),
        pa.field("cold_method", pa.string()),
        pa.field("cell_id", pa.string()),
        pa.field("run", pa.int64()),
        pa.field("runs", pa.int64()),
        pa.field("subset", pa.string()),
        pa.field("metric", pa.string()),
        pa.field("stat", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("ci_method", pa.string()),
    ]
)
"""One row per statistic: `level` is cell or group; `subset` is all, cold or warm."""

COLD_START_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("to_ready", "deploy/scale → ready"),
    ("ready_to_send", "ready → first request sent"),
    ("first_latency", "first response's latency"),
    ("init", "platform-reported init"),
)
"""A cold start's components (metric `cold_start_<name>_ms`), each measured on its own."""
BOOT_IN: dict[str, str] = {
    "redeploy": "to_ready",
    "scale-to-zero": "first_latency",
    "action-update": "first_latency",
    "natural": "first_latency",
}
"""Which component holds the new instance's boot, by cold-start method: a redeploy waits for
the new instance before it is ready; scaling to zero, an action update and an idle reap leave
the boot to the next request (scale from zero, container creation and init)."""

Row = dict[str, object]
GroupKey = tuple[str, str, str, float | None, str | None]
"""function, mode, sweep name, sweep value, cold-start method."""


#: `ci_method` of every interval: over runs, for their median (`stats.median_interval`).
CI_METHOD = "hettmansperger-sheather"


@dataclass(frozen=True)
class Settings:
    level: float = 0.95
    """Confidence level of every interval."""
    precision: float = 0.10
    """Warn when an interval's half-width exceeds this share of its estimate."""


@dataclass(frozen=True)
class SkippedCell:
    id: str
    status: str
    reason: str | None


@dataclass(frozen=True)
class Caveat:
    """One warning about one cell or group.

    `message` says what is wrong in words shared by every cell or group it concerns, so equal
    messages make one warning; `detail` holds this subject's own figures.
    """

    message: str
    subject: str
    """A cell id or a group label."""
    detail: str = ""


@dataclass(frozen=True)
class GroupedWarning:
    """One warning, once, with every cell or group it concerns and their figures."""

    message: str
    subjects: tuple[tuple[str, str], ...]
    """(cell id or group label, its figures), in the order they were found."""

    def text(self) -> str:
        """One line: the message, then each subject with its figures."""
        return f"{self.message}: " + "; ".join(
            f"{subject} ({detail})" if detail else subject for subject, detail in self.subjects
        )

    def document(self) -> dict[str, object]:
        return {
            "message": self.message,
            "subjects": [{"subject": s, "detail": d} for s, d in self.subjects],
        }


def group_caveats(caveats: Iterable[Caveat]) -> list[GroupedWarning]:
    """Equal messages merged, in order of first appearance; a subject named twice under one
    message (p50 and p99 of one group) keeps one entry with both details."""
    merged: dict[str, dict[str, list[str]]] = {}
    for caveat in caveats:
        details = merged.setdefault(caveat.message, {}).setdefault(caveat.subject, [])
        if caveat.detail:
            details.append(caveat.detail)
    return [
        GroupedWarning(message, tuple((s, "; ".join(d)) for s, d in subjects.items()))
        for message, subjects in merged.items()
    ]


@dataclass
class Aggregate:
    """What `aggregate` computed for one campaign."""

    tree: ResultsTree
    settings: Settings
    rows: list[Row] = field(default_factory=list)
    skipped: list[SkippedCell] = field(default_factory=list)
    caveats: list[Caveat] = field(default_factory=list)
    """Every warning about one cell or group; `warnings` groups them."""
    requests: dict[str, Requests] = field(default_factory=dict)
    """Each aggregated cell's requests, by cell id (kept for figures)."""

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=SCHEMA)

    @property
    def warnings(self) -> list[GroupedWarning]:
        """Each warning once, with the cells or groups it concerns."""
        return group_caveats(self.caveats)


def group_key(cell: Cell) -> GroupKey:
    info = cell.info
    value = None if info.sweep.value is None else float(info.sweep.value)
    return (info.function, info.mode, info.sweep.name, value, info.cold_method)


def group_label(key: GroupKey) -> str:
    function, mode, sweep, value, method = key
    point = "" if sweep == "none" else f" {sweep}={value:g}"
    return f"{function} {mode}{point}" + (f" ({method})" if method else "")


@dataclass(frozen=True)
class ColdStartParts:
    """One cold start of a segment (forced, or an idle wait), component by component, in ms;
    None where that part did not happen, was not recorded, or does not count."""

    to_ready: float | None
    """The control-plane work of a forced cold start (`cost_s`): deploy or scale to ready."""
    ready_to_send: float | None
    """From ready (`effective_ns`) to the send of the segment's first request."""
    first_latency: float | None
    """That first request's latency: ok, and not reported warm."""
    init: float | None
    """The init time the platform reported for that same request."""
    sent: bool
    """The segment's first request was recorded (results from before it was are not)."""
    ok: bool
    flag: int
    """COLD, WARM or UNKNOWN: what the first request reported."""


def cold_start_parts(segments: CellSummary | None, requests: Requests) -> list[ColdStartParts]:
    """Each cold start of a cell, from the runner's segment events and the cell's records.

    A forced cold start gives `to_ready`; the first request after it (or after an idle wait)
    gives `ready_to_send` (forced only), its latency and the platform's init time. The first
    request is found among the records by its correlation id for its cold flag; its latency
    counts only when it succeeded and did not report itself warm (a warm first request means
    the cold start did not happen)."""
    if segments is None:
        return []
    by_id = {
        str(call_id): index for index, call_id in enumerate(requests.ids) if call_id is not None
    }
    platform = {record.id: record for record in requests.platform}
    cold = requests.cold
    found: list[ColdStartParts] = []
    for event in segments.segments:
        forced = event.cold_start
        first = event.first_request
        if forced is None and first is None:
            continue  # neither a forced cold start nor an idle wait before a workload
        to_ready = None if forced is None else forced.cost_s * 1000
        if first is None:
            found.append(ColdStartParts(to_ready, None, None, None, False, False, UNKNOWN))
            continue
        index = by_id.get(first.id) if first.id is not None else None
        flag = int(cold[index]) if index is not None else UNKNOWN
        ready_to_send = None
        if forced is not None:
            ready_to_send = (first.send_ns - forced.effective_ns) / NS_PER_MS
        counts = first.ok and flag != WARM
        record = platform.get(first.id) if first.id is not None else None
        init = record.init_ms if counts and record is not None else None
        latency = (first.end_ns - first.send_ns) / NS_PER_MS if counts else None
        found.append(ColdStartParts(to_ready, ready_to_send, latency, init, True, first.ok, flag))
    return found


@dataclass(frozen=True)
class _Run:
    cell: Cell
    requests: Requests
    latency_ms: npt.NDArray[np.float64]
    """ok requests only, in intended-send order."""
    duration_s: float
    """Wall span: first intended send to last completion, gaps between segments included."""
    active_s: float
    """The union of the engine runs' spans (each its first intended send to its last
    completion): what throughput divides by."""
    loads: tuple[SegmentLoad, ...] = ()
    """Loader CPU and host load of the cell's engine runs (from its summary.json)."""
    cold_starts: tuple[ColdStartParts, ...] = ()
    """Each cold start of the cell, component by component (from its summary.json)."""


def _ms(values_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return values_ns.astype(np.float64) / NS_PER_MS


class _Rows:
    """Appends rows that share the identifying columns of one cell or group."""

    def __init__(self, out: list[Row], base: Row) -> None:
        self._out = out
        self._base = base

    def add(
        self,
        metric: str,
        stat: str,
        value: float | None,
        unit: str,
        *,
        subset: str = "all",
        ci: tuple[float, float] | None = None,
        ci_method: str | None = None,
    ) -> None:
        row = dict(self._base)
        row.update(
            subset=subset,
            metric=metric,
            stat=stat,
            unit=unit,
            value=None if value is None or not math.isfinite(value) else float(value),
            ci_low=None if ci is None else ci[0],
            ci_high=None if ci is None else ci[1],
            ci_method=ci_method,
        )
        self._out.append(row)

    def distribution(self, metric: str, values: npt.NDArray[np.float64], subset: str) -> None:
        stats = distribution(values)
        for key in DISTRIBUTION_KEYS:
            self.add(metric, key, stats[key], "ms", subset=subset)


def _request_rows(rows: _Rows, runs: Sequence[_Run]) -> None:
    """Counts, errors, latency, service time, cold starts and platform phases, pooled."""
    requests = [run.requests for run in runs]
    total = sum(r.count for r in requests)
    ok = sum(int(r.ok.sum()) for r in requests)
    errors: dict[str, int] = {}
    for r in requests:
        names, counts = np.unique(r.error[~r.ok].astype(str), return_counts=True)
        for name, count in zip(names, counts, strict=True):
            errors[str(name)] = errors.get(str(name), 0) + int(count)
    rows.add("requests", "count", total, "1")
    rows.add("requests", "ok", ok, "1")
    rows.add("requests", "dropped", sum(r.dropped for r in requests), "1")
    rows.add("requests", "warmup", sum(r.warmup for r in requests), "1")
    rows.add("errors", "total", total - ok, "1")
    for name in sorted(errors):
        rows.add("errors", name, errors[name], "1")
    rows.add("error_rate", "value", (total - ok) / total if total else 0.0, "1")
    latency = np.concatenate([run.latency_ms for run in runs])
    service = np.concatenate([_ms(r.service_ns[r.ok]) for r in requests])
    rows.distribution("latency_ms", latency, "all")
    rows.distribution("service_ms", service, "all")
    cold = np.concatenate([r.cold[r.ok] for r in requests])
    for subset, flag in (("cold", COLD), ("warm", WARM)):
        chosen = latency[cold == flag]
        rows.add("requests", "ok", int(chosen.size), "1", subset=subset)
        rows.distribution("latency_ms", chosen, subset)
    _cold_rows(rows, requests)
    _cold_start_cost_rows(rows, [part for run in runs for part in run.cold_starts])
    _platform_rows(rows, requests)


def _cold_start_cost_rows(rows: _Rows, parts: Sequence[ColdStartParts]) -> None:
    """Each component of the cold starts on its own (count, mean, p50, max): never summed, as
    only some of them happen within one request (docs/statistics.md)."""
    if not parts:
        return
    rows.add("cold_start_first", "count", len(parts), "1")
    rows.add("cold_start_first", "sent", sum(p.sent for p in parts), "1")
    rows.add("cold_start_first", "ok", sum(p.ok for p in parts), "1")
    for name, flag in (("cold", COLD), ("warm", WARM), ("unknown", UNKNOWN)):
        rows.add("cold_start_first", name, sum(p.ok and p.flag == flag for p in parts), "1")
    for name, _ in COLD_START_COMPONENTS:
        values = np.asarray(
            [v for p in parts if (v := getattr(p, name)) is not None], dtype=np.float64
        )
        metric = f"cold_start_{name}_ms"
        rows.add(metric, "count", int(values.size), "1")
        if values.size:
            rows.add(metric, "mean", float(values.mean()), "ms")
            rows.add(metric, "p50", exact_percentile(values, 50), "ms")
            rows.add(metric, "max", float(values.max()), "ms")


def _cold_rows(rows: _Rows, requests: Sequence[Requests]) -> None:
    meta = np.concatenate([r.meta_cold for r in requests])
    platform = np.concatenate([r.platform_cold for r in requests])
    combined = np.concatenate([r.cold for r in requests])
    both = (meta != UNKNOWN) & (platform != UNKNOWN)
    instances = {i for r in requests for i in r.instance if i is not None}
    rows.add("cold_start", "cold", int((combined == COLD).sum()), "1")
    rows.add("cold_start", "warm", int((combined == WARM).sum()), "1")
    rows.add("cold_start", "unknown", int((combined == UNKNOWN).sum()), "1")
    rows.add("cold_start", "function_reported", int((meta != UNKNOWN).sum()), "1")
    rows.add("cold_start", "platform_reported", int((platform != UNKNOWN).sum()), "1")
    rows.add("cold_start", "both_reported", int(both.sum()), "1")
    agreement = float((meta[both] == platform[both]).mean()) if both.any() else None
    rows.add("cold_start", "agreement_rate", agreement, "1")
    rows.add("cold_start", "instances", len(instances), "1")


def _platform_rows(rows: _Rows, requests: Sequence[Requests]) -> None:
    """OpenWhisk wait/init/run and Kubernetes phases of the requests the platform reported."""
    components: dict[str, list[tuple[float, int]]] = {}
    matched = 0
    reported = 0
    for r in requests:
        reported += len(r.platform)
        cold = r.cold
        for index in np.flatnonzero(r.platform_index >= 0):
            matched += 1
            record = r.platform[int(r.platform_index[index])]
            values = {"wait": record.wait_ms, "init": record.init_ms, "run": record.run_ms}
            values.update({f"phase:{name}": ms for name, ms in record.phases.items()})
            for name, ms in values.items():
                if ms is not None:
                    components.setdefault(name, []).append((ms, int(cold[index])))
    rows.add("platform", "reported", reported, "1")
    rows.add("platform", "matched", matched, "1")
    for name in sorted(components):
        pairs = np.asarray(components[name], dtype=np.float64)
        for subset, keep in (
            ("all", np.ones(len(pairs), dtype=bool)),
            ("cold", pairs[:, 1] == COLD),
            ("warm", pairs[:, 1] == WARM),
        ):
            values = pairs[keep, 0]
            metric = f"platform_{name}_ms"
            rows.add(metric, "count", int(values.size), "1", subset=subset)
            if values.size:
                rows.add(metric, "mean", float(values.mean()), "ms", subset=subset)
                rows.add(metric, "p50", exact_percentile(values, 50), "ms", subset=subset)
                rows.add(metric, "p99", exact_percentile(values, 99), "ms", subset=subset)


def _resource_rows(rows: _Rows, metrics: MetricsFile | None) -> None:
    if metrics is None:
        return
    for series in metrics.series:
        labels = ",".join(f"{k}={v}" for k, v in sorted(series.labels.items()))
        metric = f"resource:{series.name}" + (f"{{{labels}}}" if labels else "")
        values = np.asarray([value for _, value in series.points], dtype=np.float64)
        if values.size:
            rows.add(metric, "mean", float(values.mean()), series.unit)
            rows.add(metric, "max", float(values.max()), series.unit)


def _load_run(cell: Cell) -> _Run:
    requests = load_requests(cell.record_paths(), cell.platform_records())
    latency = _ms(requests.latency_ns[requests.ok])
    if requests.count:
        seconds = duration_s(int(requests.intended_ns.min()), int(requests.end_ns.max()))
    else:
        seconds = duration_s(None, None)
    active = active_s((run.first_intended_ns, run.last_end_ns) for run in requests.engine_runs)
    recorded = {run.run_id for run in requests.engine_runs}
    segments = cell.segments()
    loads = tuple(load for load in cell.segment_loads() if load.run_id in recorded)
    parts = tuple(cold_start_parts(segments, requests))
    return _Run(cell, requests, latency, seconds, active, loads, parts)


def _cell_warnings(run: _Run) -> list[Caveat]:
    """Signs that the cell measured the client or its host rather than the platform."""
    cell_id = run.cell.info.id
    requests = run.requests
    found: list[Caveat] = []
    if requests.torn_files:
        found.append(Caveat("incomplete record files", cell_id, ", ".join(requests.torn_files)))
    if requests.count and not requests.ok.any():
        found.append(Caveat("every request failed", cell_id, f"{requests.count} requests"))
    if requests.open_loop and requests.count and run.latency_ms.size:
        lag_p99 = exact_percentile(_ms(requests.sched_lag_ns), 99)
        latency_p99 = exact_percentile(run.latency_ms, 99)
        late = late_sends(
            sched_lag_p99_ms=lag_p99,
            latency_p99_ms=latency_p99,
            cpu_share=[share for load in run.loads for share in load.client_cpu],
            hosts=[load.host for load in run.loads if load.host is not None],
        )
        if late is not None:
            found.append(Caveat(late.message, cell_id, late.detail))
    if requests.dropped:
        found.append(Caveat("open-loop arrivals dropped", cell_id, f"{requests.dropped} dropped"))
    return found


def _run_percentiles(
    rows: _Rows,
    per_run_ms: Sequence[npt.NDArray[np.float64]],
    percentiles: Sequence[tuple[str, float]],
    settings: Settings,
    label: str,
    warnings: list[Caveat],
    *,
    subset: str = "all",
    warn: bool = True,
) -> None:
    """Median over runs of each run's percentiles of one subset, with interval and CV."""
    measured = [values for values in per_run_ms if values.size]
    for name, percent in percentiles:
        per_run = np.asarray([exact_percentile(values, percent) for values in measured])
        if not measured:
            rows.add("latency_ms", f"run_median_{name}", None, "ms", subset=subset)
            continue
        stat = f"run_median_{name}"
        ci = _median_over_runs(rows, "latency_ms", stat, "ms", per_run, settings, subset=subset)
        rows.add(
            "latency_ms", f"run_cv_{name}", coefficient_of_variation(per_run), "1", subset=subset
        )
        if warn:
            what = name if subset == "all" else f"{subset} {name}"
            _precision_warning(per_run, ci, settings, label, what, warnings)


def _run_level(
    rows: _Rows,
    runs: Sequence[_Run],
    settings: Settings,
    label: str,
    warnings: list[Caveat],
    *,
    tail: bool = True,
) -> None:
    """Median over runs of per-run p50, p99 and throughput, with intervals over runs and CV;
    the latency percentiles also for the warm and the cold requests apart (subsets `warm` and
    `cold`, where the group has them).

    Without `tail` (a cold-start group: each run holds only the cold starts it forced, one by
    default), a run has no tail to estimate: only p50 is computed, and the tail-percentile rule
    does not apply. Cold requests are a few per run wherever they occur, so their subset gets
    p50 only, everywhere."""
    percentiles = (("p50", 50.0), ("p99", 99.0)) if tail else (("p50", 50.0),)
    _run_percentiles(rows, [run.latency_ms for run in runs], percentiles, settings, label, warnings)
    fewest = min((int(r.requests.ok.sum()) for r in runs), default=0)
    for subset, flag in (("warm", WARM), ("cold", COLD)):
        per_run = [run.latency_ms[run.requests.cold[run.requests.ok] == flag] for run in runs]
        if not any(values.size for values in per_run):
            continue
        chosen = percentiles if subset == "warm" else percentiles[:1]
        # Where a subset is every request of every run, its warnings are those of `all`.
        part = any(v.size != run.latency_ms.size for v, run in zip(per_run, runs, strict=True))
        _run_percentiles(rows, per_run, chosen, settings, label, warnings, subset=subset, warn=part)
        if len(chosen) > 1 and fewest > 0:
            fewest = min(fewest, min(v.size for v in per_run if v.size))
    rates = np.asarray([throughput(int(r.requests.ok.sum()), r.active_s) for r in runs])
    total_ok = sum(int(r.requests.ok.sum()) for r in runs)
    rows.add("throughput_rps", "pooled", throughput(total_ok, sum(r.active_s for r in runs)), "1/s")
    if rates.size:
        _median_over_runs(rows, "throughput_rps", "run_median", "1/s", rates, settings)
        rows.add("throughput_rps", "run_cv", coefficient_of_variation(rates), "1")
    rows.add("duration_s", "total", sum(r.duration_s for r in runs), "s")
    rows.add("active_s", "total", sum(r.active_s for r in runs), "s")
    if tail and 0 < fewest < TAIL_REQUESTS:
        # Nearest-rank p99 of n values is the ceil(0.99 n)-th: with few values it is one of the
        # last handful, and it reads low (about 5% at 400). Say so beside the number.
        warnings.append(
            Caveat(
                f"p99 from fewer than {TAIL_REQUESTS} ok requests in a run: a tail percentile "
                "then rests on a handful of requests and reads low",
                label,
                f"as few as {fewest}",
            )
        )
    needed_runs = min_runs(settings.level)
    if len(runs) < needed_runs:
        warnings.append(
            Caveat(
                f"too few runs for a {_level_text(settings.level)} interval: none reported",
                label,
                f"{len(runs)} run(s), {needed_runs} needed",
            )
        )


def _level_text(level: float) -> str:
    """A confidence level as a percentage: 95%, 97.5%."""
    return f"{level * 100:g}%"


def _median_over_runs(
    rows: _Rows,
    metric: str,
    stat: str,
    unit: str,
    values: npt.NDArray[np.float64],
    settings: Settings,
    *,
    subset: str = "all",
) -> tuple[float, float] | None:
    """The median of one value per run, with its distribution-free interval when there are
    enough runs for one (`stats.median_interval`); returns the interval."""
    ci = median_interval(values, settings.level)
    method = CI_METHOD if ci is not None else None
    rows.add(metric, stat, float(np.median(values)), unit, subset=subset, ci=ci, ci_method=method)
    return ci


def _precision_warning(
    values: npt.NDArray[np.float64],
    ci: tuple[float, float] | None,
    settings: Settings,
    label: str,
    name: str,
    warnings: list[Caveat],
) -> None:
    """Warn when the interval is wider than ±precision of its estimate, with the runs the
    interval itself predicts would narrow it enough (`stats.runs_for_precision`)."""
    estimate = float(np.median(values))
    if ci is None or estimate <= 0:
        return
    half = (ci[1] - ci[0]) / 2 / estimate
    if half <= settings.precision:
        return
    needed = runs_for_precision(values, settings.level, settings.precision)
    advice = f"about {needed}" if needed is not None else f"more than {MAX_ADVISED_RUNS}"
    warnings.append(
        Caveat(
            f"{_level_text(settings.level)} interval wider than ±{settings.precision:.0%} of "
            "its estimate",
            label,
            f"{name} ±{half:.0%} from {values.size} run(s), {advice} would reach "
            f"±{settings.precision:.0%}",
        )
    )


def complete_groups(tree: ResultsTree) -> dict[GroupKey, list[Cell]]:
    """The campaign's complete cells by group, in the order `aggregate` takes the groups."""
    groups: dict[GroupKey, list[Cell]] = {}
    for cell in tree.cells:
        if cell.info.status == "complete":
            groups.setdefault(group_key(cell), []).append(cell)
    return {key: groups[key] for key in sorted(groups, key=_sort_key)}


SKIPPED = "cells skipped, left out of every statistic"


def aggregate(
    tree: ResultsTree,
    settings: Settings = Settings(),
    *,
    keep_requests: bool = False,
    on_group: Callable[[str], None] | None = None,
) -> Aggregate:
    """Compute every statistic of a campaign; cells that are not complete are only listed.

    `on_group` is called with each group's label as its work starts (for progress).
    """
    result = Aggregate(tree, settings)
    platform = tree.manifest.platform.label
    for cell in tree.cells:
        if cell.info.status != "complete":
            result.skipped.append(SkippedCell(cell.info.id, cell.info.status, cell.info.reason))
    caveats: list[Caveat] = []
    for key, cells in complete_groups(tree).items():
        label = group_label(key)
        if on_group is not None:
            on_group(label)
        function, mode, sweep, value, method = key
        base: Row = {
            "campaign": tree.manifest.campaign,
            "platform": platform,
            "function": function,
            "mode": mode,
            "sweep_name": sweep,
            "sweep_value": value,
            "cold_method": method,
        }
        runs: list[_Run] = []
        for cell in sorted(cells, key=lambda c: c.info.run):
            try:
                run = _load_run(cell)
            except (RecordFormatError, ResultsError, OSError) as exc:
                result.skipped.append(SkippedCell(cell.info.id, "unreadable", str(exc)))
                continue
            if run.requests.count == 0:
                result.skipped.append(SkippedCell(cell.info.id, "empty", "no measured requests"))
                continue
            runs.append(run)
            caveats.extend(_cell_warnings(run))
            cell_rows = _Rows(
                result.rows,
                {**base, "level": "cell", "cell_id": cell.info.id, "run": cell.info.run, "runs": 1},
            )
            _request_rows(cell_rows, [run])
            ok = int(run.requests.ok.sum())
            cell_rows.add("throughput_rps", "value", throughput(ok, run.active_s), "1/s")
            cell_rows.add("duration_s", "value", run.duration_s, "s")
            cell_rows.add("active_s", "value", run.active_s, "s")
            _resource_rows(cell_rows, cell.metrics())
            if keep_requests:
                result.requests[cell.info.id] = run.requests
        if not runs:
            continue
        group_rows = _Rows(
            result.rows,
            {**base, "level": "group", "cell_id": None, "run": None, "runs": len(runs)},
        )
        _request_rows(group_rows, runs)
        _run_level(group_rows, runs, settings, label, caveats, tail=method is None)
    result.caveats = [
        Caveat(SKIPPED, s.id, f"{s.status}: {s.reason or 'no reason given'}")
        for s in result.skipped
    ] + caveats
    return result


def _sort_key(key: GroupKey) -> tuple[str, str, str, float, str]:
    function, mode, sweep, value, method = key
    return (function, mode, sweep, -math.inf if value is None else value, method or "")


def _section(entry: dict[str, object], key: str) -> dict[str, object]:
    part = entry.setdefault(key, {})
    assert isinstance(part, dict)
    return part


def summary_document(result: Aggregate) -> dict[str, object]:
    """`summary.json`: settings, skipped cells, warnings and each group's headline figures."""
    manifest = result.tree.manifest
    statuses: dict[str, int] = {}
    for cell in result.tree.cells:
        statuses[cell.info.status] = statuses.get(cell.info.status, 0) + 1
    groups: dict[tuple[object, ...], dict[str, object]] = {}
    headline = {
        ("requests", "count"): "requests",
        ("requests", "ok"): "ok",
        ("error_rate", "value"): "error_rate",
        ("throughput_rps", "run_median"): "throughput_rps",
        ("latency_ms", "run_median_p50"): "latency_p50_ms",
        ("latency_ms", "run_median_p99"): "latency_p99_ms",
        ("cold_start", "cold"): "cold_starts",
    }
    components = {f"cold_start_{name}_ms": f"{name}_ms" for name, _ in COLD_START_COMPONENTS}
    for row in result.rows:
        if row["level"] != "group":
            continue
        metric, stat, subset = str(row["metric"]), str(row["stat"]), str(row["subset"])
        ident = (
            row["function"],
            row["mode"],
            row["sweep_name"],
            row["sweep_value"],
            row["cold_method"],
        )
        entry = groups.setdefault(
            ident,
            {
                "function": row["function"],
                "mode": row["mode"],
                "sweep": {"name": row["sweep_name"], "value": row["sweep_value"]},
                "cold_method": row["cold_method"],
                "runs": row["runs"],
            },
        )
        if metric in components or metric == "cold_start_first":
            cost = _section(entry, "cold_start_cost")
            cost.setdefault("boot_in", BOOT_IN.get(str(row["cold_method"])))
            _section(cost, components.get(metric, "first_request"))[stat] = row["value"]
            continue
        name = headline.get((metric, stat))
        if name is None:
            continue
        # The pooled figures at the top; the warm and the cold requests' own beside them.
        target = entry if subset == "all" else _section(entry, subset)
        if name in {"requests", "ok", "error_rate", "cold_starts"}:
            target[name] = row["value"]
        else:
            target[name] = {
                "value": row["value"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
            }
    return {
        "campaign": manifest.campaign,
        "platform": manifest.platform.label,
        "manifest": manifest.model_dump(mode="json"),
        "settings": {
            "level": result.settings.level,
            "precision": result.settings.precision,
            "percentiles": "exact, nearest rank (numpy inverted_cdf)",
            "intervals": f"{CI_METHOD}: median over runs, distribution-free",
        },
        "cells": {
            "total": len(result.tree.cells),
            "by_status": statuses,
            "aggregated": len({r["cell_id"] for r in result.rows if r["level"] == "cell"}),
            "skipped": [
                {"id": s.id, "status": s.status, "reason": s.reason} for s in result.skipped
            ],
        },
        "warnings": [warning.document() for warning in result.warnings],
        "groups": list(groups.values()),
    }


def write_outputs(result: Aggregate, directory: str | os.PathLike[str]) -> list[Path]:
    """stats.parquet, stats.csv and summary.json in `directory`; returns their paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table()
    parquet = out / STATS_PARQUET
    csv = out / STATS_CSV
    summary = out / SUMMARY_JSON
    pq.write_table(table, parquet)
    pa_csv.write_csv(table, csv)
    summary.write_text(json.dumps(summary_document(result), indent=2) + "\n", encoding="utf-8")
    return [parquet, csv, summary]
