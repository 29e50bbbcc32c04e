"""`loadgen aggregate`: every cell and every group of runs of a campaign, as one tidy table.

A group is one function × mode × sweep value × cold-start method × invocation × language ×
memory limit × input size of one campaign (platform);
its runs are the cells that differ only in `run`. Request-level statistics of a group pool the
requests of its runs; intervals and the run-to-run coefficient of variation use one value per
run (see `loadgen.analysis.stats`).

This module drives the work, group by group; the rows come from `request_rows` (pooled requests)
and `run_level` (one value per run), the warnings from `caveats`, and `outputs` writes the files.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from functions._registry import LANGUAGES
from loadgen.analysis.caveats import Caveat, GroupedWarning, cell_warnings, group_caveats
from loadgen.analysis.completion_rows import (
    cell_completions,
    completion_ms,
    completion_rows,
)
from loadgen.analysis.request_rows import request_rows, resource_rows
from loadgen.analysis.requests import Requests
from loadgen.analysis.run_level import completion_run_level, run_level
from loadgen.analysis.runs import Run, load_run
from loadgen.analysis.stats import throughput
from loadgen.analysis.table import (
    DEFAULT_LANGUAGE,
    DEFAULT_MEMORY_MB,
    SCHEMA,
    GroupKey,
    Row,
    Rows,
)
from loadgen.completions.summary import Joined
from loadgen.record.reader import RecordFormatError
from loadgen.results.tree import Cell, ResultsError, ResultsTree


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
    return (
        info.function,
        info.mode,
        info.sweep.name,
        value,
        info.cold_method,
        info.invocation,
        info.language,
        info.memory_mb,
        info.input_size,
    )


def variant_suffix(language: str, memory_mb: int, input_size: int | None) -> str:
    """The cell dimensions away from their defaults, as labels show them: ` go`, ` 512 MiB`,
    ` input 4096 B`; empty for python at 256 MiB without input sizes."""
    text = "" if language == DEFAULT_LANGUAGE else f" {language}"
    if memory_mb != DEFAULT_MEMORY_MB:
        text += f" {memory_mb} MiB"
    if input_size is not None:
        text += f" input {input_size} B"
    return text


def function_variant(cell: Cell) -> str:
    """A cell's function with its variant: `matrix`, `matrix go 512 MiB`."""
    info = cell.info
    return info.function + variant_suffix(info.language, info.memory_mb, info.input_size)


def group_label(key: GroupKey) -> str:
    """`echo closed users=10`, with what differs from the defaults: ` async`, then
    `variant_suffix` (` go 512 MiB`), then ` (scale-to-zero)`."""
    function, mode, sweep, value, method, invocation, language, memory, size = key
    point = "" if sweep == "none" else f" {sweep}={value:g}"
    how = "" if invocation == "sync" else f" {invocation}"
    how += variant_suffix(language, memory, size)
    return f"{function} {mode}{point}{how}" + (f" ({method})" if method else "")


def complete_groups(tree: ResultsTree) -> dict[GroupKey, list[Cell]]:
    """The campaign's complete cells by group, in the order `aggregate` takes the groups."""
    groups: dict[GroupKey, list[Cell]] = {}
    for cell in tree.cells:
        if cell.info.status == "complete":
            groups.setdefault(group_key(cell), []).append(cell)
    return {key: groups[key] for key in sorted(groups, key=group_sort_key)}


SKIPPED = "cells skipped, left out of every statistic"
LOCAL_MEMORY = (
    "the local target enforces no memory limit: these groups ran like any other and differ "
    "only in the memory_mb they record"
)


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
        if tree.manifest.platform.cloud == "local" and key[7] != DEFAULT_MEMORY_MB:
            caveats.append(Caveat(LOCAL_MEMORY, label, f"memory_mb {key[7]}"))
        function, mode, sweep, value, method, invocation, language, memory, size = key
        base: Row = {
            "campaign": tree.manifest.campaign,
            "platform": platform,
            "function": function,
            "mode": mode,
            "sweep_name": sweep,
            "sweep_value": value,
            "cold_method": method,
            "invocation": invocation,
            "language": language,
            "memory_mb": memory,
            "input_size": size,
        }
        runs: list[Run] = []
        completed: list[Joined] = []
        for cell in sorted(cells, key=lambda c: c.info.run):
            try:
                run = load_run(cell)
            except (RecordFormatError, ResultsError, OSError) as exc:
                result.skipped.append(SkippedCell(cell.info.id, "unreadable", str(exc)))
                continue
            if run.requests.count == 0:
                result.skipped.append(SkippedCell(cell.info.id, "empty", "no measured requests"))
                continue
            runs.append(run)
            caveats.extend(cell_warnings(run))
            cell_rows = Rows(
                result.rows,
                {**base, "level": "cell", "cell_id": cell.info.id, "run": cell.info.run, "runs": 1},
            )
            request_rows(cell_rows, [run])
            ok = int(run.requests.ok.sum())
            cell_rows.add("throughput_rps", "value", throughput(ok, run.active_s), "1/s")
            cell_rows.add("duration_s", "value", run.duration_s, "s")
            cell_rows.add("active_s", "value", run.active_s, "s")
            resource_rows(cell_rows, cell.metrics())
            joined = cell_completions(cell)
            if joined is not None:
                completion_rows(cell_rows, [joined])
                completed.append(joined)
            if keep_requests:
                result.requests[cell.info.id] = run.requests
        if not runs:
            continue
        group_rows = Rows(
            result.rows,
            {**base, "level": "group", "cell_id": None, "run": None, "runs": len(runs)},
        )
        request_rows(group_rows, runs)
        run_level(group_rows, runs, settings, label, caveats, tail=method is None)
        if completed:
            completion_rows(group_rows, completed)
            per_run = [completion_ms(j) for j in completed]
            completion_run_level(group_rows, per_run, settings, label, caveats)
    result.caveats = [
        Caveat(SKIPPED, s.id, f"{s.status}: {s.reason or 'no reason given'}")
        for s in result.skipped
    ] + caveats
    return result


def group_sort_key(key: GroupKey) -> tuple[str, int, int, float, str, str, float, str, int]:
    """Groups in order: function, language (python, node, go, java), memory limit, input size
    (none first), mode, sweep, value (none first), cold-start method, invocation (sync, async,
    web)."""
    function, mode, sweep, value, method, invocation, language, memory, size = key
    order = INVOCATION_ORDER.get(invocation, len(INVOCATION_ORDER))
    spoken = LANGUAGES.index(language) if language in LANGUAGES else len(LANGUAGES)
    return (
        function,
        spoken,
        memory,
        -math.inf if size is None else size,
        mode,
        sweep,
        -math.inf if value is None else value,
        method or "",
        order,
    )


INVOCATION_ORDER = {"sync": 0, "async": 1, "web": 2}
