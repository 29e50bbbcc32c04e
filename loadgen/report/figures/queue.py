"""Queue-driven scaling over time (KEDA's queue mode): for each campaign's enqueue cell with the
most jobs, the backlog, the replicas and the enqueue → completion latency on one time axis,
so scaling on events (the backlog rises, replicas follow, latency falls back) can be seen."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.requests import Requests
from loadgen.metrics.summary import NS_PER_MS
from loadgen.report.figures.common import (
    Figure,
    aggregated_cells,
    empty_figure,
    finish,
    log_axis,
    subplots,
)
from loadgen.report.figures.timeline import bin_width_s, binned_percentiles
from loadgen.results.tree import Cell

FIGURE_ID = "queue-time"
TITLE = "Backlog, replicas and completion latency over time"


def samples(cell: Cell) -> list[dict[str, float | None]]:
    """The sampled backlog / replicas / completions of an enqueue cell (every segment's, in
    order); empty for any other cell."""
    found: list[dict[str, float | None]] = []
    for path in sorted((cell.path / "records").glob("s*-queue.json")):
        try:
            document = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            continue
        found += [s for s in document.get("samples", []) if isinstance(s, dict)]
    return found


def queue_cell(result: Aggregate) -> tuple[Cell, Requests, list[dict[str, float | None]]] | None:
    """The enqueue cell with the most jobs."""
    candidates = [
        (cell, requests, found)
        for cell, requests in aggregated_cells(result)
        if (found := samples(cell))
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda item: item[1].count)


def queue_over_time(results: Sequence[Aggregate]) -> Figure:
    chosen = [(r, found) for r in results if (found := queue_cell(r)) is not None]
    if not chosen:
        return empty_figure(FIGURE_ID, TITLE, "no enqueue cell")
    figure, axes = subplots(
        3 * len(chosen), 1, figsize=(9, 6.5 * len(chosen)), squeeze=False, sharex=False
    )
    for number, (result, (cell, requests, sampled)) in enumerate(chosen):
        backlog_ax, replicas_ax, latency_ax = axes[3 * number : 3 * number + 3, 0]
        origin = int(requests.intended_ns.min()) if requests.count else int(sampled[0]["t_ns"] or 0)
        t = np.asarray([(float(s["t_ns"] or 0) - origin) / 1e9 for s in sampled])
        backlog = np.asarray([float(s["backlog"] or 0) for s in sampled])
        backlog_ax.plot(t, backlog, "-", drawstyle="steps-post", color="tab:purple")
        backlog_ax.set_ylabel("backlog (jobs)")
        backlog_ax.set_title(
            f"{result.tree.manifest.campaign}: {cell.info.id} ({requests.count:,} jobs)",
            fontsize=9,
        )
        replicas = [s["replicas"] for s in sampled]
        known = np.asarray([r is not None for r in replicas])
        replicas_ax.plot(
            t[known],
            np.asarray([float(r) for r in replicas if r is not None]),
            "-",
            drawstyle="steps-post",
            color="tab:green",
        )
        replicas_ax.set_ylabel("replicas")
        job_t = (requests.intended_ns - origin).astype(np.float64) / 1e9
        latency = requests.latency_ns.astype(np.float64) / NS_PER_MS
        ok = requests.ok
        width = bin_width_s(float(job_t.max()) if job_t.size else 0.0)
        centre, _, _, p50, p95 = binned_percentiles(job_t[ok], latency[ok], width)
        latency_ax.plot(centre, p50, "-", drawstyle="steps-mid", color="tab:blue", label="p50")
        latency_ax.plot(centre, p95, ":", drawstyle="steps-mid", color="tab:blue", label="p95")
        lost = ~ok
        if lost.any():
            floor = float(latency[ok].min()) if ok.any() else 1.0
            latency_ax.plot(
                job_t[lost], np.full(int(lost.sum()), floor), "x", color="tab:red",
                label="lost or failed (at their push)",
            )  # fmt: skip
        if latency_ax.has_data():
            log_axis(latency_ax, "y")
        latency_ax.set_ylabel("enqueue → completion (ms)")
        latency_ax.set_xlabel("seconds since the first intended push")
        latency_ax.legend(fontsize=7, loc="upper right")
        for ax in (backlog_ax, replicas_ax, latency_ax):
            ax.grid(alpha=0.3)
    return finish(
        FIGURE_ID,
        TITLE,
        "Each campaign's enqueue cell with the most jobs: the jobs waiting in the queue and the "
        "function's replicas as the loader sampled them, and the enqueue → completion latency "
        "of the jobs pushed in each time bin (median and 95th percentile, by the job's push); "
        "jobs lost or failed as crosses at their push. Scaling on events: replicas follow the "
        "backlog, not CPU.",
        figure,
    )
