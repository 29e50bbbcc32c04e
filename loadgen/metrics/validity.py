"""Self-diagnosis: was the load generator, not the target, the bottleneck?

A measurement is reported `valid: false`, with one warning per reason, when the client could
not keep up (a process used more than 80% of a core, or sends were late by more than 2 ms at
p99 and that lateness is more than a tenth of the latency p99), when open-loop arrivals were
dropped, or when the run itself was cut short or lost data.
"""

CPU_LIMIT = 0.80
SCHED_LAG_P99_LIMIT_MS = 2.0
SCHED_LAG_SHARE_LIMIT = 0.10


def diagnose(
    *,
    cpu_share: list[float],
    sched_lag_p99_ms: float | None,
    latency_p99_ms: float | None,
    dropped: int,
    histogram_overflow: int,
    interrupted: bool,
    record_errors: list[str],
    requests: int,
) -> list[str]:
    """Reasons the run should not be trusted; empty when it is valid."""
    warnings: list[str] = []
    for index, share in enumerate(cpu_share):
        if share > CPU_LIMIT:
            warnings.append(
                f"client CPU {share:.0%} in process {index} (> {CPU_LIMIT:.0%}): "
                "the load generator may have been the bottleneck"
            )
    if (
        sched_lag_p99_ms is not None
        and latency_p99_ms is not None
        and sched_lag_p99_ms > SCHED_LAG_P99_LIMIT_MS
        and sched_lag_p99_ms > SCHED_LAG_SHARE_LIMIT * latency_p99_ms
    ):
        warnings.append(
            f"sched_lag p99 {sched_lag_p99_ms:.3f} ms exceeds {SCHED_LAG_P99_LIMIT_MS:g} ms and "
            f"{SCHED_LAG_SHARE_LIMIT:.0%} of latency p99 ({latency_p99_ms:.3f} ms): "
            "requests left late"
        )
    if dropped > 0:
        warnings.append(
            f"{dropped} requests dropped at max-inflight: the offered rate was not sent"
        )
    if histogram_overflow > 0:
        warnings.append(f"{histogram_overflow} values exceeded the histogram range (1 h)")
    if interrupted:
        warnings.append("the run was interrupted before it finished")
    warnings.extend(f"records incomplete: {error}" for error in record_errors)
    if requests == 0:
        warnings.append("no measured requests (is the warm-up longer than the run?)")
    return warnings
