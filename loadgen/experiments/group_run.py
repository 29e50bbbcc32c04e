"""A group of cells measured together: one multi-trace experiment's run.

Every function of the group is deployed (the platform reset first, as for any cell), waited
for and primed; then the segments run index by index, each index (a trace minute) as one
start instant for all the functions that have arrivals in it (`together.run_together`); a
minute in which none has any is waited out. Each function keeps its own cell: its records
(`s<minute>-*.lgrec`), platform records, metrics and `summary.json`, so aggregation and
reports treat each sampled function as a function of its own. The cells are published
together once the last minute is over; a crash loses the group, and `--resume` measures it
again whole (its functions ran side by side, so one cannot be redone alone).

This is part of the campaign loop: it deploys, primes and targets each cell through the
`Campaign`'s own methods, so a group's cell is reset, called and recorded as any other.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadgen.experiments.cells import CellPlan
from loadgen.experiments.outcomes import CellOutcome, outcome_of
from loadgen.experiments.results_dir import now_iso, write_json
from loadgen.experiments.together import Job, run_together
from loadgen.platforms.base import PlatformError
from loadgen.processes.coordinator import RunError
from loadgen.record.format import RECORD_FILE_SUFFIX
from loadgen.results.models import CellInfo
from loadgen.results.tree import CELL_INFO
from loadgen.workload.spec import OpenLoop

if TYPE_CHECKING:
    from loadgen.experiments.campaign import Campaign

#: The trace function a multi-trace cell stands in for (its keys, stratum, durations, memory).
TRACE_FUNCTION = "trace-function.json"
#: Worker processes per function and minute unless the file sets `processes`.
PROCESSES_PER_FUNCTION = 1


def group_processes(configured: int | None) -> int:
    """Worker processes per function and minute of a group."""
    return configured or PROCESSES_PER_FUNCTION


def busiest_minute(cells: list[CellPlan]) -> int:
    """The most functions of the group called in one minute (each runs its own processes)."""
    minutes = max(len(cell.segments) for cell in cells)
    return max(
        sum(
            1
            for cell in cells
            if index < len(cell.segments) and cell.segments[index].workload is not None
        )
        for index in range(minutes)
    )


def run_group(campaign: Campaign, cells: list[CellPlan]) -> list[CellOutcome]:
    """Measure `cells` together and publish each; one outcome per cell, in order."""
    started = now_iso()
    works = {cell.id: campaign._results.new_cell(cell.id) for cell in cells}
    try:
        outcomes = _measure(campaign, cells, works)
    except (PlatformError, RunError, OSError) as exc:
        outcomes = [CellOutcome(cell, "failed", reason=str(exc)) for cell in cells]
    ended = now_iso()
    for cell, outcome in zip(cells, outcomes, strict=True):
        info = CellInfo(
            id=cell.id,
            function=cell.name,
            mode=cell.mode,
            sweep=cell.sweep,
            run=cell.run,
            invocation=cell.invocation,
            memory_mb=cell.memory_mb,
            status=outcome.status if outcome.status in {"complete", "partial"} else "failed",
            reason=outcome.reason,
            started=started,
            ended=ended,
        )
        write_json(works[cell.id] / CELL_INFO, info.model_dump(mode="json"))
        campaign._results.publish(cell.id, works[cell.id])
    return outcomes


def _deploy(campaign: Campaign, cells: list[CellPlan]) -> None:
    """The platform reset to exactly the group's functions, each ready and warm."""
    campaign._remove_deployed(["synthetic"])
    specs = [campaign._cell_spec(cell) for cell in cells]
    for cell, spec in zip(cells, specs, strict=True):
        campaign._await(campaign.platform.deploy(spec, cell.replicas, campaign._env(cell.function)))
        campaign._deployed[spec.deployed_name] = spec
    for spec in specs:
        campaign._await(campaign.platform.wait_ready(spec, campaign.config.timeouts.ready_s))
    for cell in cells:
        campaign._prime(cell)


def _measure(
    campaign: Campaign, cells: list[CellPlan], works: dict[str, Path]
) -> list[CellOutcome]:
    _deploy(campaign, cells)
    records = {cell.id: works[cell.id] / "records" for cell in cells}
    for directory in records.values():
        directory.mkdir(parents=True)
    events: dict[str, list[dict[str, Any]]] = {cell.id: [] for cell in cells}
    minutes = max(len(cell.segments) for cell in cells)
    start_ns = time.time_ns()
    for index in range(minutes):
        _run_minute(campaign, cells, index, records, events)
    end_ns = time.time_ns()
    outcomes = []
    for cell in cells:
        work = works[cell.id]
        spec = campaign._cell_spec(cell)
        rows = campaign._await(campaign.platform.records(spec, start_ns, end_ns))
        with (work / "platform.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(row.model_dump_json() + "\n")
        campaign._save_metrics(cell, work, start_ns, end_ns)
        write_json(work / "summary.json", {"segments": events[cell.id]})
        if cell.trace is not None:
            write_json(work / TRACE_FUNCTION, cell.trace.model_dump(mode="json"))
        outcomes.append(outcome_of(cell, events[cell.id]))
    return outcomes


def _run_minute(
    campaign: Campaign,
    cells: list[CellPlan],
    index: int,
    records: dict[str, Path],
    events: dict[str, list[dict[str, Any]]],
) -> None:
    active: list[tuple[CellPlan, Job]] = []
    minute_s = 0.0
    for cell in cells:
        segment = cell.segments[index]
        minute_s = max(minute_s, segment.duration_s)
        if isinstance(segment.workload, OpenLoop):
            out = records[cell.id] / f".segment-{index:03d}"
            request = campaign._target(cell).request_spec()
            active.append((cell, Job(request, segment.workload, out)))
        else:
            events[cell.id].append({"segment": index, "idle_s": segment.duration_s})
    if not active:
        time.sleep(minute_s)
        return
    note = f"{cells[0].group}: minute {index + 1}, {len(active)} of {len(cells)} functions called"
    campaign.listener.note(note)
    options = campaign._engine_options(active[0][0])
    processes = group_processes(campaign.config.processes)
    results = run_together([job for _, job in active], options=options, processes=processes)
    interrupted = False
    for (cell, job), result in zip(active, results, strict=True):
        for path in sorted(job.out_dir.glob(f"*{RECORD_FILE_SUFFIX}")):
            path.replace(records[cell.id] / f"s{index:03d}-{path.name}")
        shutil.rmtree(job.out_dir, ignore_errors=True)
        summary = result.summary.model_dump(mode="json")
        events[cell.id].append({"segment": index, "summary": summary})
        interrupted |= any(report.reason == "interrupted" for report in result.reports)
    if interrupted:
        # Ctrl-C: every run stopped and flushed its records; the group stays incomplete.
        raise KeyboardInterrupt
