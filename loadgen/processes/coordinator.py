"""Running a workload across worker processes and merging what they measured.

The coordinator fixes the run-wide monotonic epoch and its wall-clock anchor, starts one
worker per process (spawned, so nothing of the parent's state leaks in), waits until all are
ready, gives them one common start instant a little in the future, shows progress from shared
counters, and merges the workers' reports into a `Summary`.
"""

import contextlib
import json
import multiprocessing
import os
import resource
import signal
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.bounds import PROCESSES_PER_CORE, max_processes
from loadgen.engine import EngineName, EngineOptions, RequestSpec
from loadgen.engine.clock import now_ns, wall_anchor_ns
from loadgen.errorlog import write_error_log
from loadgen.metrics.histogram import merge
from loadgen.metrics.host import host_load, sample_host
from loadgen.metrics.summary import HostLoad, Summary
from loadgen.metrics.thresholds import Threshold, evaluate_all
from loadgen.processes.counters import ProgressBoard, ProgressSnapshot
from loadgen.processes.limits import FILE_DESCRIPTOR_HEADROOM
from loadgen.processes.merge import build_summary
from loadgen.processes.plan import RunPlan, WorkerReport
from loadgen.processes.worker import worker_main
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.userfiles import shorten
from loadgen.workload.jobs import JobWait
from loadgen.workload.spec import ClosedLoop, OpenLoop
from loadgen.workload.split import split_evenly, usable_processes

START_LEAD_NS = 50_000_000
"""Workers receive the start instant this far ahead, so all of them start on time."""
READY_TIMEOUT_S = 60.0
PROGRESS_EVERY_S = 0.25
SUMMARY_FILE = "summary.json"

ProgressCallback = Callable[[ProgressSnapshot, float], None]


class RunError(RuntimeError):
    """A worker failed, or could not be started."""


class CapacityError(RunError):
    """The workload needs more than this machine allows (processes, open files)."""


class ResultsDirError(ValueError):
    """A directory to write results into cannot be used (the message says why)."""


class OutDirError(ResultsDirError):
    """The records directory cannot be used."""


@dataclass(frozen=True)
class RunResult:
    summary: Summary
    reports: list[WorkerReport]
    plan: RunPlan
    latency_histogram: HdrHistogram
    """All processes' latency histograms merged (ok responses, microseconds)."""


def default_processes() -> int:
    """One process per core this process may run on (respects taskset and cgroups' cpusets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def ensure_writable_dir(path: str | os.PathLike[str]) -> Path:
    """`path` as a directory this process can create files in (created with its parents)."""
    directory = Path(path)
    if str(directory).strip() == "" or "\x00" in str(directory):
        raise ResultsDirError(f"{str(directory)!r} is not a usable directory name")
    if directory.exists() and not directory.is_dir():
        raise ResultsDirError(f"{directory} exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise ResultsDirError(f"{directory}: cannot write there ({exc.strerror or exc})") from None
    return directory


def prepare_out_dir(path: str | os.PathLike[str]) -> str:
    try:
        directory = ensure_writable_dir(path)
    except ResultsDirError as exc:
        raise OutDirError(str(exc)) from None
    if any(directory.glob(f"*{RECORD_FILE_SUFFIX}")):
        raise OutDirError(f"{directory} already holds records; choose an empty directory")
    return str(directory.resolve())


def iso_utc(epoch_ns: int) -> str:
    moment = datetime.fromtimestamp(epoch_ns / 1e9, tz=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def capacity_problem(
    workload: ClosedLoop | OpenLoop, processes: int, run_processes: int | None = None
) -> tuple[str, str] | None:
    """Why this machine cannot run `workload` with `processes` worker processes, as (the
    field at fault: processes, users or max_inflight; the reason), or None when it can;
    `run_processes` is how many share the workload in all when several loaders run it.

    Each process may keep one socket per user (closed loop) or per request in flight (open
    loop) open at once; more than the hard RLIMIT_NOFILE would fail requests at random."""
    cores = default_processes()
    if processes > max_processes(cores):
        return (
            "processes",
            f"{processes} is more than {max_processes(cores)} "
            f"({PROCESSES_PER_CORE} per core on this machine's {cores})",
        )
    count = usable_processes(workload, run_processes or processes)
    if isinstance(workload, ClosedLoop):
        field, share, what = "users", split_evenly(workload.users, count)[0], "users"
    else:
        share = split_evenly(workload.max_inflight, count)[0]
        field, what = "max_inflight", "requests in flight"
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = share + FILE_DESCRIPTOR_HEADROOM
    if hard != resource.RLIM_INFINITY and needed > hard:
        return (
            field,
            f"{share:,} {what} per process need {needed:,} open files, more than this "
            f"machine's limit of {hard:,} (ulimit -Hn): use more processes or fewer {what}",
        )
    return None


def execute(
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    *,
    options: EngineOptions | None = None,
    processes: int | None = None,
    engine: EngineName = "http1",
    out_dir: str | os.PathLike[str] | None = None,
    thresholds: list[Threshold] | None = None,
    on_progress: ProgressCallback | None = None,
    live_percentiles: bool = False,
    jobs: JobWait | None = None,
    start_at: Callable[[], int] | None = None,
) -> RunResult:
    """Run `workload` against `request` and return the merged summary; with `jobs` (a closed
    loop of asynchronous calls) each user waits for its call's completion before the next.
    `start_at` gives the start instant once every worker is ready (`run_processes`): runs
    started together share one."""
    if jobs is not None and not isinstance(workload, ClosedLoop):
        raise ValueError("jobs: only a closed loop waits for its calls' completion")
    problem = capacity_problem(workload, processes or default_processes())
    if problem is not None:
        raise CapacityError(f"{problem[0]}: {problem[1]}")
    count = usable_processes(workload, processes or default_processes())
    records_dir = prepare_out_dir(out_dir) if out_dir is not None else None
    epoch = now_ns()
    plan = RunPlan(
        run_id=uuid.uuid4().hex,
        request=request,
        options=options or EngineOptions(),
        workload=workload,
        engine=engine,
        processes=count,
        out_dir=records_dir,
        monotonic_epoch_ns=epoch,
        wall_anchor_ns=wall_anchor_ns(epoch),
        live_percentiles=live_percentiles,
        jobs=jobs,
    )
    reports, t0, host = run_processes(plan, on_progress, start_at)
    started = iso_utc(plan.wall_anchor_ns + (t0 - epoch))
    summary = build_summary(plan, reports, started, host)
    if thresholds:
        results = evaluate_all(thresholds, summary.model_dump())
        summary = summary.model_copy(update={"thresholds": results})
    if records_dir is not None:
        write_summary(Path(records_dir) / SUMMARY_FILE, summary)
    return RunResult(
        summary=summary,
        reports=reports,
        plan=plan,
        latency_histogram=merge([report.latency_hdr for report in reports]),
    )


def write_summary(path: Path, summary: Summary) -> None:
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(summary.model_dump(), indent=2) + "\n")
    partial.replace(path)


@contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Start workers with SIGINT ignored (inherited across exec): Ctrl-C reaches the whole
    process group, and only the coordinator should act on it, by telling workers to stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_processes(
    plan: RunPlan,
    on_progress: ProgressCallback | None,
    start_at: Callable[[], int] | None = None,
) -> tuple[list[WorkerReport], int, HostLoad]:
    """The workers' reports, the start instant, and the host's load from the start (every
    worker ready) to the last report.

    The start instant is `START_LEAD_NS` after every worker is ready, or what `start_at`
    returns then (a loader of a distributed run waits there for the run's common instant; a
    KeyboardInterrupt from it or from `on_progress` stops the workers, as Ctrl-C does)."""
    context = multiprocessing.get_context("spawn")
    board = ProgressBoard(plan.processes)
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
    try:
        with _children_ignore_sigint():
            for index in range(plan.processes):
                parent_end, child_end = context.Pipe(duplex=True)
                process = context.Process(
                    target=worker_main,
                    args=(plan, index, child_end, board.array),
                    name=f"loadgen-worker-{index}",
                    daemon=True,
                )
                process.start()
                child_end.close()
                workers.append((process, parent_end))
        stopping = _await_ready(workers)
        before = sample_host()
        t0 = start_at() if start_at is not None else now_ns() + START_LEAD_NS
        for _, conn in workers:
            conn.send(("go", t0))
        reports = _collect_reports(workers, board, t0, on_progress, stopping=stopping)
        host = host_load(before, sample_host())
    finally:
        for process, conn in workers:
            if process.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(("stop", None))
        for process, conn in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
    return sorted(reports, key=lambda report: report.index), t0, host


def _receive(conn: Connection, index: int) -> tuple[str, Any]:
    try:
        kind, value = conn.recv()
    except (EOFError, OSError) as exc:
        raise RunError(f"worker process {index} exited before reporting") from exc
    if kind == "error":
        text = str(value)
        lines = text.strip().splitlines() or ["no message"]
        log = write_error_log(f"worker process {index} failed", text)
        where = f"; the traceback is in {log}" if log is not None else f":\n{text}"
        raise RunError(f"worker process {index} failed: {shorten(lines[-1], 200)}{where}")
    return kind, value


def _send_stop(connections: Iterable[Connection]) -> None:
    for conn in connections:
        with contextlib.suppress(OSError):
            conn.send(("stop", None))


def _await_ready(workers: list[tuple[multiprocessing.process.BaseProcess, Connection]]) -> bool:
    """Wait for every worker's `ready`; True when Ctrl-C came meanwhile (the workers were told
    to stop, and the run goes on to an empty, interrupted report with its records closed)."""
    waiting = {conn: index for index, (_, conn) in enumerate(workers)}
    deadline = now_ns() + int(READY_TIMEOUT_S * 1e9)
    stopping = False
    while waiting:
        remaining = (deadline - now_ns()) / 1e9
        if remaining <= 0:
            raise RunError(f"worker processes {sorted(waiting.values())} did not start in time")
        try:
            for conn in wait(list(waiting), timeout=remaining):
                assert isinstance(conn, Connection)
                kind, _ = _receive(conn, waiting[conn])
                if kind == "ready":
                    del waiting[conn]
        except KeyboardInterrupt:
            if stopping:
                raise
            stopping = True
            _send_stop(conn for _, conn in workers)
    return stopping


def _collect_reports(
    workers: list[tuple[multiprocessing.process.BaseProcess, Connection]],
    board: ProgressBoard,
    t0: int,
    on_progress: ProgressCallback | None,
    *,
    stopping: bool = False,
) -> list[WorkerReport]:
    waiting = {conn: index for index, (_, conn) in enumerate(workers)}
    reports: list[WorkerReport] = []
    while waiting:
        try:
            ready = wait(list(waiting), timeout=PROGRESS_EVERY_S)
            for conn in ready:
                assert isinstance(conn, Connection)
                kind, value = _receive(conn, waiting[conn])
                if kind == "report":
                    reports.append(WorkerReport.model_validate(value))
                    del waiting[conn]
            if on_progress is not None:
                on_progress(board.snapshot(), max(0.0, (now_ns() - t0) / 1e9))
        except KeyboardInterrupt:
            if stopping:
                raise
            stopping = True
            for conn in waiting:
                try:
                    conn.send(("stop", None))
                except OSError:
                    continue
    return reports
