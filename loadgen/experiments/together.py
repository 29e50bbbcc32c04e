"""Several engine runs at once, one start instant: a multi-trace minute's functions.

Each run is an ordinary `execute` (its own worker processes, request, open loop and records),
driven from its own thread. Their coordinators meet at a barrier once all their workers are
ready; the barrier fixes one start instant `START_LEAD_NS` ahead and every run starts there, so
the functions' arrivals of a minute share one time origin. Ctrl-C (a KeyboardInterrupt in the
calling thread) stops every run the way it stops one: each coordinator's progress callback
sees the stop and tells its workers, which flush their records and report `interrupted`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from loadgen.engine import EngineOptions, RequestSpec
from loadgen.engine.clock import now_ns
from loadgen.processes.coordinator import (
    READY_TIMEOUT_S,
    START_LEAD_NS,
    RunError,
    RunResult,
    execute,
)
from loadgen.processes.counters import ProgressSnapshot
from loadgen.workload.spec import OpenLoop


@dataclass(frozen=True)
class Job:
    """One function's run of the minute."""

    request: RequestSpec
    workload: OpenLoop
    out_dir: Path


def run_together(jobs: Sequence[Job], *, options: EngineOptions, processes: int) -> list[RunResult]:
    """Every job's result, in order. A job that fails (RunError) stops the others and its
    error is raised once all have ended."""
    if not jobs:
        return []
    instant: list[int] = []
    stop = threading.Event()

    def fix_instant() -> None:
        instant.append(now_ns() + START_LEAD_NS)

    barrier = threading.Barrier(len(jobs), action=fix_instant)

    def start_at() -> int:
        try:
            barrier.wait(timeout=READY_TIMEOUT_S)
        except threading.BrokenBarrierError:
            if stop.is_set():
                raise KeyboardInterrupt from None
            raise RunError("another function's run of this minute could not start") from None
        return instant[0]

    def progress(snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        del snapshot, elapsed_s
        if stop.is_set():
            raise KeyboardInterrupt

    def one(job: Job) -> RunResult:
        try:
            return execute(
                job.request,
                job.workload,
                options=options,
                processes=processes,
                out_dir=job.out_dir,
                on_progress=progress,
                start_at=start_at,
            )
        except BaseException:
            stop.set()
            barrier.abort()
            raise

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="together") as pool:
        futures = [pool.submit(one, job) for job in jobs]
        try:
            _wait_all(futures)
        except KeyboardInterrupt:
            stop.set()
            barrier.abort()
            wait(futures)
            raise
    failures = [future.exception() for future in futures]
    for failure in failures:
        # The job that failed first in kind, not one stopped because of it.
        if failure is not None and not isinstance(failure, KeyboardInterrupt):
            raise failure
    if any(failure is not None for failure in failures):
        raise KeyboardInterrupt
    return [future.result() for future in futures]


def _wait_all(futures: list[Future[RunResult]]) -> None:
    """Until all are done, waking now and then so Ctrl-C is seen promptly."""
    pending = set(futures)
    while pending:
        _, pending = wait(pending, timeout=0.25)
