"""Rows of asynchronous cells (`invocation: async`): each accepted call from its start to its
completion, joined from the cell's records and its `records/s<segment>-completions.jsonl`.

Per cell: the calls counted (accepted, completed, failed, lost, unmatched), the completion
latency's distribution (metric `completion_ms`, exact) and the completions per second. Per
group: the median over runs of each run's completion p50 and p99 with its interval, as the
request latency gets (`run_level`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from loadgen.analysis.table import Rows
from loadgen.completions.summary import Joined, completion_rate, join, read_submissions
from loadgen.results.completions import COMPLETIONS_FILE, Completion, read_completions
from loadgen.results.tree import Cell


def cell_completions(cell: Cell) -> Joined | None:
    """The cell's calls joined with their completions; None for a cell that is not async."""
    if cell.info.invocation != "async":
        return None
    completions: list[Completion] = []
    if cell.records_dir.is_dir():
        for path in sorted(cell.records_dir.glob(f"*{COMPLETIONS_FILE}")):
            completions.extend(read_completions(path))
    return join(read_submissions(cell.record_paths()), completions)


def completion_ms(joined: Joined) -> npt.NDArray[np.float64]:
    return np.asarray(joined.completion_ms, dtype=np.float64)


def completion_rows(rows: Rows, joined: Sequence[Joined]) -> None:
    """Counts, the completion latency's distribution and completions per second, of one cell
    (one `Joined`) or of a group's cells pooled."""
    for stat in ("accepted", "failed", "lost", "unmatched"):
        rows.add("completions", stat, sum(getattr(j, stat) for j in joined), "1")
    rows.add("completions", "completed", sum(len(j.completion_ms) for j in joined), "1")
    latencies = [completion_ms(j) for j in joined]
    values = np.concatenate(latencies) if latencies else np.empty(0, dtype=np.float64)
    rows.distribution("completion_ms", values, "all")
    if len(joined) == 1:
        rows.add("completion_rps", "value", completion_rate(joined[0]), "1/s")
