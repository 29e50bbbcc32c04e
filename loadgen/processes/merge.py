"""Turning the workers' reports into one summary: counters summed, histograms added exactly."""

from loadgen.metrics.histogram import merge
from loadgen.metrics.summary import (
    HostLoad,
    PercentileBounds,
    Summary,
    lag_stats,
    latency_stats,
)
from loadgen.metrics.validity import diagnose
from loadgen.processes.plan import RunPlan, WorkerReport
from loadgen.workload.spec import ClosedLoop


def build_summary(
    plan: RunPlan, reports: list[WorkerReport], started: str, host: HostLoad | None = None
) -> Summary:
    """Merge worker reports exactly (counters summed, histograms added bucket by bucket);
    `host` is the loader host's load over the run, which the validity rule weighs."""
    workload = plan.workload
    closed = isinstance(workload, ClosedLoop)
    requests = sum(report.requests for report in reports)
    ok = sum(report.ok for report in reports)
    dropped = sum(report.dropped for report in reports)
    errors: dict[str, int] = {}
    for report in reports:
        for name, count in report.errors.items():
            errors[name] = errors.get(name, 0) + count
    errors = dict(sorted(errors.items()))

    first_intended = min(
        (r.first_intended_ns for r in reports if r.first_intended_ns is not None), default=None
    )
    last_end = max((r.last_end_ns for r in reports if r.last_end_ns is not None), default=None)
    first_send = min(
        (r.first_send_ns for r in reports if r.first_send_ns is not None), default=None
    )
    last_send = max((r.last_send_ns for r in reports if r.last_send_ns is not None), default=None)
    duration_s = 0.0
    if first_intended is not None and last_end is not None:
        duration_s = (last_end - first_intended) / 1e9
    send_span_s = 0.0
    if first_send is not None and last_send is not None:
        send_span_s = (last_send - first_send) / 1e9

    latency_hdr = merge([r.latency_hdr for r in reports])
    service_hdr = merge([r.service_hdr for r in reports])
    lag_hdr = merge([r.sched_lag_hdr for r in reports])
    latency, latency_bounds = latency_stats(
        latency_hdr,
        sum(r.latency_sum_ns for r in reports),
        max((r.latency_max_ns for r in reports), default=0),
        ok,
    )
    service, service_bounds = latency_stats(
        service_hdr,
        sum(r.service_sum_ns for r in reports),
        max((r.service_max_ns for r in reports), default=0),
        ok,
    )
    lag, lag_bounds = lag_stats(
        lag_hdr, max((r.sched_lag_max_ns for r in reports), default=0), closed
    )
    cpu = [round(r.cpu_s / r.wall_s, 3) if r.wall_s > 0 else 0.0 for r in reports]
    overflow = sum(r.histogram_overflow for r in reports)
    interrupted = any(r.reason != "completed" for r in reports)
    warnings = diagnose(
        cpu_share=cpu,
        sched_lag_p99_ms=lag.p99,
        latency_p99_ms=latency.p99,
        dropped=dropped,
        histogram_overflow=overflow,
        interrupted=interrupted,
        record_errors=[r.record_error for r in reports if r.record_error],
        requests=requests,
        host=host,
        ok=ok,
        errors=errors,
    )
    warnings.extend(sorted({r.resolve_error for r in reports if r.resolve_error}))
    records = None
    if plan.out_dir is not None:
        records = sum(r.records or 0 for r in reports)
    return Summary(
        requests=requests,
        ok=ok,
        errors=errors,
        dropped=dropped,
        duration_s=round(duration_s, 6),
        rps=round(ok / duration_s, 3) if duration_s > 0 else 0.0,
        send_rate=round(requests / send_span_s, 3) if send_span_s > 0 else 0.0,
        target_rps=None if closed else workload.rate,
        latency_ms=latency,
        service_ms=service,
        sched_lag_ms=lag,
        processes=len(reports),
        valid=not warnings,
        warnings=warnings,
        mode="closed" if closed else "open",
        users=workload.users if closed else None,
        arrival=None if closed else workload.arrival,
        seed=None if closed else workload.seed,
        max_inflight=None if closed else workload.max_inflight,
        on_saturation=None if closed else workload.on_saturation,
        warmup_s=workload.warmup_s,
        warmup_requests=sum(r.warmup for r in reports),
        url=plan.request.url,
        method=plan.request.method,
        engine=plan.engine,
        run_id=plan.run_id,
        started=started,
        records_dir=plan.out_dir,
        records=records,
        client_cpu=cpu,
        histogram_overflow=overflow,
        error_rate=round(sum(errors.values()) / requests, 6) if requests else 0.0,
        interrupted=interrupted,
        percentile_bounds=PercentileBounds(
            latency_ms=latency_bounds, service_ms=service_bounds, sched_lag_ms=lag_bounds
        ),
        host=host,
    )
