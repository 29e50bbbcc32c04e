"""Where a campaign's load comes from: this machine's processes, or a loader pool.

With a pool (`loadgen run --loaders`) each segment runs on every loader at one start instant;
a loader lost mid-segment leaves the segment, and so its cell, partial with the surviving
loaders' data and the reason, and the campaign goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loadgen.engine import EngineOptions, RequestSpec
from loadgen.processes.coordinator import ProgressCallback, RunError, RunResult, execute
from loadgen.results.models import LoaderClock
from loadgen.workload.jobs import JobWait
from loadgen.workload.spec import ClosedLoop, OpenLoop

if TYPE_CHECKING:
    from loadgen.loaders.pool import LoaderPool


def run_load(
    pool: LoaderPool | None,
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    *,
    options: EngineOptions,
    processes: int | None,
    out_dir: Path,
    on_progress: ProgressCallback,
    jobs: JobWait | None = None,
) -> RunResult:
    """One engine run: on this machine's processes, or on every loader of `pool`
    (`processes` per loader); `jobs`: closed-loop asynchronous jobs (this machine only: the
    users wait on the campaign's completion service over loopback)."""
    if pool is None:
        return execute(
            request,
            workload,
            options=options,
            processes=processes,
            out_dir=out_dir,
            on_progress=on_progress,
            jobs=jobs,
        )
    if jobs is not None:
        raise RunError(
            "closed-loop asynchronous jobs run on this machine only (their users wait on the "
            "campaign's callback receiver): run without --loaders"
        )
    from loadgen.loaders.execute import execute_on_pool

    return execute_on_pool(
        pool,
        request,
        workload,
        options=options,
        processes=processes,
        out_dir=out_dir,
        on_progress=on_progress,
    )


def partial_reason(result: RunResult) -> str | None:
    """Why a run over a pool has only some loaders' data; None for a whole run."""
    from loadgen.loaders.models import DistributedSummary

    summary = result.summary
    if isinstance(summary, DistributedSummary) and summary.partial:
        return summary.partial_reason
    return None


def loader_clocks(cell: str, segment: int, result: RunResult) -> list[LoaderClock]:
    """Each loader's clock and start skew in this run, for the manifest; none without a pool."""
    from loadgen.loaders.models import DistributedSummary

    summary = result.summary
    if not isinstance(summary, DistributedSummary):
        return []
    return [
        LoaderClock(
            cell=cell,
            segment=segment,
            name=loader.name,
            address=loader.address,
            hostname=loader.hostname,
            status=loader.status,
            clock_offset_ms=loader.clock_offset_ms,
            clock_uncertainty_ms=loader.clock_uncertainty_ms,
            start_skew_ms=loader.start_skew_ms,
        )
        for loader in summary.loaders
    ]
