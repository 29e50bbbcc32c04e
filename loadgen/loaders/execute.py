"""Running one workload over a loader pool: the driver's side.

Per run: each loader's clock offset is measured; the run's processes are dealt out to the
loaders (`split`); every loader starts its agent and its processes (`task.prepare`) and reports
ready; the driver then picks the start instant T0 `START_MARGIN_S` ahead and sends each loader
T0 in its own clock (`task.finish`); while they run it shows their summed progress and watches
that every loader is still in the cluster. A loader that leaves (its machine or worker died)
or fails is named, the run goes on with the others, and the summary is marked partial with
the survivors' data. Records come back to the driver's records directory.
"""

import contextlib
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from distributed import Future

from loadgen.engine import EngineName, EngineOptions, RequestSpec
from loadgen.engine.clock import now_ns, wall_anchor_ns
from loadgen.loaders.clock import measure_offset
from loadgen.loaders.merge import LoaderRun, in_driver_clock, merge_loaders
from loadgen.loaders.models import LoaderAssignment, LoaderOutcome, LoaderReady, LoaderStatus
from loadgen.loaders.pool import LoaderPool
from loadgen.loaders.split import loader_plans, loader_processes
from loadgen.loaders.task import finish, prepare, progress_key, stop
from loadgen.metrics.histogram import merge
from loadgen.metrics.thresholds import Threshold, evaluate_all
from loadgen.processes.coordinator import (
    SUMMARY_FILE,
    ProgressCallback,
    RunError,
    RunResult,
    default_processes,
    iso_utc,
    prepare_out_dir,
    write_summary,
)
from loadgen.processes.counters import ProgressSnapshot
from loadgen.processes.plan import RunPlan
from loadgen.workload.spec import ClosedLoop, OpenLoop

START_MARGIN_S = 0.5
"""T0 is this far ahead when the driver sends it: time for the message to reach every loader."""
READY_TIMEOUT_S = 120.0
"""How long loaders may take to start their processes (and then wait for T0)."""
POLL_S = 0.25


def execute_on_pool(
    pool: LoaderPool,
    request: RequestSpec,
    workload: ClosedLoop | OpenLoop,
    *,
    options: EngineOptions | None = None,
    processes: int | None = None,
    engine: EngineName = "http1",
    out_dir: str | Path | None = None,
    thresholds: list[Threshold] | None = None,
    on_progress: ProgressCallback | None = None,
    live_percentiles: bool = False,
) -> RunResult:
    """Run `workload` from every loader of `pool` at once; `processes` is per loader (default:
    one per core of each loader)."""
    client = pool.client
    addresses = pool.loaders()
    if not addresses:
        raise RunError(f"the loader pool {pool.spec.text} has no workers")
    cores: dict[str, int] = client.run(default_processes, workers=addresses)
    counts = loader_processes(workload, [processes or cores[address] for address in addresses])
    records_dir = prepare_out_dir(out_dir) if out_dir is not None else None
    epoch = now_ns()
    run = RunPlan(
        run_id=uuid.uuid4().hex,
        request=request,
        options=options or EngineOptions(),
        workload=workload,
        engine=engine,
        processes=sum(counts),
        out_dir=records_dir,
        monotonic_epoch_ns=epoch,
        wall_anchor_ns=wall_anchor_ns(epoch),
        live_percentiles=live_percentiles,
    )
    loaders = [
        LoaderRun(
            name=f"loader-{index}",
            address=address,
            plan=plan,
            clock=measure_offset(client, address),
        )
        for index, (address, plan) in enumerate(
            zip(addresses, loader_plans(run, counts), strict=True)
        )
    ]
    try:
        t0, results = _run(pool, run, loaders, records_dir is not None, on_progress)
    finally:
        with contextlib.suppress(Exception):
            client.set_metadata(["loadgen", run.run_id], None)  # the loaders' progress
    loaders = [_with_result(loader, results.get(loader.name)) for loader in loaders]
    came_back = [loader for loader in loaders if loader.outcome is not None]
    if not came_back:
        reasons = "; ".join(f"{loader.name}: {loader.reason}" for loader in loaders)
        raise RunError(f"no loader finished the run ({reasons})")
    if records_dir is not None:
        for loader in came_back:
            assert loader.outcome is not None
            for name, data in loader.outcome.records.items():
                (Path(records_dir) / name).write_bytes(data)
    started = iso_utc(run.wall_anchor_ns + (t0 - epoch))
    summary = merge_loaders(run, loaders, started, pool.spec.text)
    if thresholds:
        summary = summary.model_copy(
            update={"thresholds": evaluate_all(thresholds, summary.model_dump())}
        )
    if records_dir is not None:
        write_summary(Path(records_dir) / SUMMARY_FILE, summary)
    reports = sorted(
        (
            in_driver_clock(report, loader.clock)
            for loader in came_back
            if loader.outcome is not None
            for report in loader.outcome.reports
        ),
        key=lambda report: report.index,
    )
    return RunResult(
        summary=summary,
        reports=reports,
        plan=run,
        latency_histogram=merge([report.latency_hdr for report in reports]),
    )


_Result = LoaderOutcome | tuple[LoaderStatus, str]
"""A loader's outcome, or (`lost`/`failed`, why)."""
_Step = LoaderReady | LoaderOutcome | tuple[LoaderStatus, str]
"""What `_wait` collects: `prepare`'s LoaderReady, `finish`'s outcome, or a failure."""


def _with_result(loader: LoaderRun, result: _Result | None) -> LoaderRun:
    if result is None:
        return loader
    if isinstance(result, LoaderOutcome):
        return LoaderRun(loader.name, loader.address, loader.plan, loader.clock, outcome=result)
    status, reason = result
    return LoaderRun(
        loader.name, loader.address, loader.plan, loader.clock, status=status, reason=reason
    )


@dataclass(frozen=True)
class _Run:
    pool: LoaderPool
    run_key: str
    loaders: dict[str, LoaderRun]
    """The loaders with a share, by name."""


def _run(
    pool: LoaderPool,
    run: RunPlan,
    loaders: list[LoaderRun],
    records: bool,
    on_progress: ProgressCallback | None,
) -> tuple[int, dict[str, _Result]]:
    """Prepare every loader with a share, start them at one T0 and collect what they return."""
    client = pool.client
    active = _Run(pool, run.run_id, {loader.name: loader for loader in loaders if loader.plan})
    try:
        preparing: dict[str, Future] = {}
        for loader in active.loaders.values():
            assert loader.plan is not None
            assignment = LoaderAssignment(
                run_key=run.run_id,
                name=loader.name,
                plan=loader.plan.model_copy(
                    update={"monotonic_epoch_ns": loader.clock.to_loader(run.monotonic_epoch_ns)}
                ),
                clock=loader.clock,
                records=records,
                ready_timeout_s=READY_TIMEOUT_S,
            )
            preparing[loader.name] = client.submit(
                prepare, assignment, workers=[loader.address], allow_other_workers=False, pure=False
            )
        ready = _wait(active, preparing, None, None)
        failed = {name: result for name, result in ready.items() if isinstance(result, tuple)}
        if failed:
            reasons = "; ".join(f"{name} {status}: {why}" for name, (status, why) in failed.items())
            raise RunError(f"loaders could not start: {reasons}")
        t0 = now_ns() + int(START_MARGIN_S * 1e9)
        finishing = {
            loader.name: client.submit(
                finish,
                run.run_id,
                loader.clock.to_loader(t0),
                workers=[loader.address],
                allow_other_workers=False,
                pure=False,
            )
            for loader in active.loaders.values()
        }
        finished = _wait(active, finishing, t0, on_progress)
        return t0, {
            name: result for name, result in finished.items() if not isinstance(result, LoaderReady)
        }
    except BaseException:
        _stop(active, list(active.loaders))
        raise


def _wait(
    run: _Run,
    futures: dict[str, Future],
    t0: int | None,
    on_progress: ProgressCallback | None,
) -> dict[str, _Step]:
    """Each loader's result, or (`lost`/`failed`, why). Before the start (`t0` None) a
    loader has `READY_TIMEOUT_S` to get ready; after it, Ctrl-C (once) stops the loaders and
    waits for what they measured until then."""
    results: dict[str, _Step] = {}
    pending = dict(futures)
    deadline = time.monotonic() + READY_TIMEOUT_S if t0 is None else None
    stopping = False
    while pending:
        try:
            for name, future in list(pending.items()):
                if future.status == "finished":
                    results[name] = future.result()
                elif future.status in {"error", "cancelled", "lost"}:
                    results[name] = ("failed", _failure(future))
                else:
                    continue
                del pending[name]
            if not pending:
                break
            alive = run.pool.alive()
            for name in [name for name in pending if run.loaders[name].address not in alive]:
                pending.pop(name).cancel()
                results[name] = ("lost", f"its worker {run.loaders[name].address} left the cluster")
            if deadline is not None and time.monotonic() > deadline:
                for name in list(pending):
                    pending.pop(name).cancel()
                    results[name] = ("failed", f"not ready within {READY_TIMEOUT_S:.0f} s")
            if on_progress is not None and t0 is not None:
                on_progress(_progress(run), max(0.0, (now_ns() - t0) / 1e9))
            time.sleep(POLL_S)
        except KeyboardInterrupt:
            if stopping or t0 is None:
                raise
            stopping = True
            _stop(run, list(pending))
    return results


def _failure(future: Future) -> str:
    try:
        exception = future.exception(timeout=5)
    except Exception as exc:  # the future itself is gone: say so
        return f"{type(exc).__name__}: {exc}"
    return str(exception) or type(exception).__name__


def _progress(run: _Run) -> ProgressSnapshot:
    """The loaders' latest counters summed (p99: the highest), from the scheduler."""
    rows: list[list[int]] = []
    for name in run.loaders:
        with contextlib.suppress(Exception):
            message = run.pool.client.get_metadata(progress_key(run.run_key, name), default=None)
            if isinstance(message, dict) and isinstance(message.get("progress"), list):
                rows.append([int(value) for value in message["progress"]])
    if not rows:
        return ProgressSnapshot(0, 0, 0, 0, 0, 0, 0)
    totals = [sum(row[field] for row in rows) for field in range(6)]
    return ProgressSnapshot(*totals, max(row[6] for row in rows))


def _stop(run: _Run, names: list[str]) -> None:
    """Tell the named loaders' agents to stop (what they measured so far still comes back)."""
    with contextlib.suppress(Exception):
        alive = run.pool.alive()
        addresses = [run.loaders[name].address for name in names]
        addresses = [address for address in addresses if address in alive]
        if addresses:
            run.pool.client.run(stop, run.run_key, workers=addresses, on_error="ignore")
