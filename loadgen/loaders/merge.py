"""One summary from the loaders' reports: the per-machine merge over every loader's processes
(counters summed, HDR histograms added bucket by bucket, so exact to the histograms'
resolution), each loader's instants moved into the driver's clock first, then each loader's
clock, start skew and saturation beside it."""

from dataclasses import dataclass

from loadgen.loaders.clock import ClockOffset
from loadgen.loaders.models import DistributedSummary, LoaderOutcome, LoaderStats, LoaderStatus
from loadgen.metrics.histogram import merge
from loadgen.metrics.summary import LagStats, lag_stats
from loadgen.metrics.validity import CPU_LIMIT, is_late
from loadgen.processes.merge import build_summary
from loadgen.processes.plan import RunPlan, WorkerReport
from loadgen.workload.spec import ClosedLoop

START_SKEW_LIMIT_MS = 10.0
"""A loader that started later than this after T0 is named as behind."""
_INSTANTS = (
    "first_intended_ns",
    "last_end_ns",
    "first_send_ns",
    "last_send_ns",
    "earliest_intended_ns",
    "earliest_send_ns",
)


@dataclass(frozen=True)
class LoaderRun:
    """One loader of a run as the driver saw it: its share, its clock, what came back."""

    name: str
    address: str
    plan: RunPlan | None
    clock: ClockOffset
    outcome: LoaderOutcome | None = None
    status: LoaderStatus = "completed"
    reason: str | None = None


def in_driver_clock(report: WorkerReport, clock: ClockOffset) -> WorkerReport:
    """`report` with its instants moved from the loader's clock into the driver's."""
    update = {
        field: clock.to_driver(value)
        for field in _INSTANTS
        if (value := getattr(report, field)) is not None
    }
    return report.model_copy(update=update)


def start_skew_ns(outcome: LoaderOutcome, closed: bool) -> int | None:
    """How late the loader's first send left after its start instant plus that send's
    scheduled offset (none for a closed loop): its lateness in its own clock, which equals the
    driver's T0 translated by the measured offset."""
    firsts = [
        (report.earliest_intended_ns, report.earliest_send_ns)
        for report in outcome.reports
        if report.earliest_intended_ns is not None and report.earliest_send_ns is not None
    ]
    if not firsts:
        return None
    intended, send = min(firsts)
    scheduled = outcome.t0_ns if closed else intended
    return send - scheduled


def _ms(ns: float) -> float:
    return round(ns / 1e6, 3)


def _stats(loader: LoaderRun, closed: bool, latency_p99_ms: float | None) -> LoaderStats:
    plan, outcome, clock = loader.plan, loader.outcome, loader.clock
    reports = outcome.reports if outcome is not None else []
    skew = start_skew_ns(outcome, closed) if outcome is not None else None
    cpu = [round(r.cpu_s / r.wall_s, 3) if r.wall_s > 0 else 0.0 for r in reports]
    lag: LagStats | None = None
    if reports:
        lag, _ = lag_stats(
            merge([r.sched_lag_hdr for r in reports]),
            max(r.sched_lag_max_ns for r in reports),
            closed,
        )
    behind = (
        any(share > CPU_LIMIT for share in cpu)
        or (lag is not None and is_late(lag.p99, latency_p99_ms))
        or (skew is not None and skew / 1e6 > START_SKEW_LIMIT_MS)
    )
    return LoaderStats(
        name=loader.name,
        address=loader.address,
        hostname=outcome.hostname if outcome is not None else None,
        status=loader.status,
        reason=loader.reason,
        processes=plan.processes if plan is not None else 0,
        first_process=plan.first_index if plan is not None else 0,
        clock_offset_ms=_ms(clock.offset_ns),
        clock_uncertainty_ms=_ms(clock.uncertainty_ns),
        clock_rtt_ms=_ms(clock.rtt_ns),
        start_skew_ms=_ms(skew) if skew is not None else None,
        requests=sum(r.requests for r in reports),
        ok=sum(r.ok for r in reports),
        client_cpu=cpu,
        sched_lag_ms=lag,
        host=outcome.host if outcome is not None else None,
        behind=behind,
    )


def _behind_text(stats: LoaderStats) -> str:
    figures = [f"CPU up to {max(stats.client_cpu, default=0.0):.2f} of a core"]
    if stats.sched_lag_ms is not None and stats.sched_lag_ms.p99 is not None:
        figures.append(f"schedule lag p99 {stats.sched_lag_ms.p99:g} ms")
    if stats.start_skew_ms is not None:
        figures.append(f"start skew {stats.start_skew_ms:g} ms")
    where = f" ({stats.hostname})" if stats.hostname else ""
    return f"loader {stats.name}{where} fell behind: {', '.join(figures)}"


def merge_loaders(
    run: RunPlan, loaders: list[LoaderRun], started: str, loaders_spec: str
) -> DistributedSummary:
    """The run's summary from every loader that came back; the others are named as lost."""
    closed = isinstance(run.workload, ClosedLoop)
    reports = sorted(
        (
            in_driver_clock(report, loader.clock)
            for loader in loaders
            if loader.outcome is not None
            for report in loader.outcome.reports
        ),
        key=lambda report: report.index,
    )
    summary = build_summary(run, reports, started)
    stats = [_stats(loader, closed, summary.latency_ms.p99) for loader in loaders]
    warnings = list(summary.warnings)
    missing = [loader for loader in loaders if loader.status != "completed"]
    for loader in missing:
        warnings.append(f"loader {loader.name} ({loader.address}) {loader.status}: {loader.reason}")
    warnings.extend(_behind_text(entry) for entry in stats if entry.behind)
    skews = [entry.start_skew_ms for entry in stats if entry.start_skew_ms is not None]
    partial_reason = None
    if missing:
        names = ", ".join(f"{loader.name} {loader.status} ({loader.reason})" for loader in missing)
        partial_reason = f"{len(missing)} of {len(loaders)} loaders missing: {names}"
    return DistributedSummary(
        **summary.model_dump(exclude={"warnings", "valid"}),
        warnings=warnings,
        valid=not warnings,
        loaders_spec=loaders_spec,
        loaders=stats,
        start_skew_ms=max(skews, key=abs) if skews else None,
        clock_uncertainty_ms=max((entry.clock_uncertainty_ms for entry in stats), default=0.0),
        partial=bool(missing),
        partial_reason=partial_reason,
    )
