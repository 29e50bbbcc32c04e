"""Asynchronous calls (`invocation: async`): how long the caller waits for the work, beside the
synchronous latency of the same function, how fast calls complete over time, and the backlog
(calls accepted but not completed yet) over time.

The backlog is the client's view, from the cell's records and completions: calls accepted by t
less calls completed by t. The local gateway's own queue depth (`faasbench_async_queue_depth` in
its `/metrics`) is not sampled into results, so it is not drawn."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.axes import Axes

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.completion_rows import cell_completions
from loadgen.completions.summary import backlog
from loadgen.metrics.summary import NS_PER_MS
from loadgen.report.figures.common import (
    Figure,
    aggregated_cells,
    empty_figure,
    finish,
    log_axis,
    subplots,
)

FIG_ID = "completions"
TITLE = "Asynchronous calls: completion latency, completions and backlog over time"


@dataclass
class _Panel:
    """One function's curves: (label, values) each."""

    completion_ms: list[tuple[str, np.ndarray]] = field(default_factory=list)
    latency_ms: list[tuple[str, np.ndarray]] = field(default_factory=list)
    completed_s: list[tuple[str, np.ndarray]] = field(default_factory=list)
    #: (label, seconds since the first start, backlog from then on) per async cell.
    backlog: list[tuple[str, list[float], list[int]]] = field(default_factory=list)


def _cdf(ax: Axes, values: np.ndarray, label: str, linestyle: str = "-") -> None:
    data = np.sort(values)
    ax.step(
        data, np.arange(1, data.size + 1) / data.size, where="post", label=label,
        linestyle=linestyle,
    )  # fmt: skip


def completions_figure(results: Sequence[Aggregate]) -> Figure:
    """Per function with async cells: the CDF of completion latency (async) next to the CDF of
    latency (sync cells of the same function, where the campaign has them), completed calls
    per second from each async cell's first start, and each async cell's backlog over time."""
    panels: dict[str, _Panel] = {}
    for result in results:
        campaign = result.tree.manifest.campaign
        for cell, requests in aggregated_cells(result):
            info = cell.info
            entry = panels.setdefault(info.function, _Panel())
            if info.invocation == "sync":
                latency = requests.latency_ns[requests.ok].astype(np.float64) / NS_PER_MS
                entry.latency_ms.append((campaign, latency))
                continue
            joined = cell_completions(cell)
            if joined is None or not joined.completion_ms:
                continue
            entry.completion_ms.append((campaign, np.asarray(joined.completion_ms)))
            seconds = (np.asarray(joined.arrivals_ns) - joined.first_start_ns) / 1e9
            entry.completed_s.append((f"{campaign} {info.id}", seconds))
            entry.backlog.append((f"{campaign} {info.id}", *backlog(joined)))
    functions = sorted(f for f, entry in panels.items() if entry.completion_ms)
    if not functions:
        return empty_figure(FIG_ID, TITLE, "no asynchronous cells")
    figure, axes = subplots(len(functions), 3, figsize=(15, 3.4 * len(functions)), squeeze=False)
    for row, function in zip(axes, functions, strict=True):
        cdf_ax, rate_ax, backlog_ax = row
        entry = panels[function]
        for campaign, values in entry.completion_ms:
            _cdf(cdf_ax, values, f"{campaign}: completion (async)")
        for campaign, values in entry.latency_ms:
            if values.size:
                _cdf(cdf_ax, values, f"{campaign}: latency (sync)", linestyle="--")
        log_axis(cdf_ax, "x")
        cdf_ax.set_xlabel("ms, log scale")
        cdf_ax.set_ylabel("fraction of calls")
        cdf_ax.set_title(function)
        cdf_ax.grid(alpha=0.3)
        cdf_ax.legend(fontsize=7)
        for label, seconds in entry.completed_s:
            edges = np.arange(0, np.ceil(seconds.max()) + 1)
            counts, _ = np.histogram(seconds, bins=edges if edges.size > 1 else [0, 1])
            rate_ax.step(edges[: counts.size], counts, where="post", label=label)
        rate_ax.set_xlabel("seconds since the cell's first call")
        rate_ax.set_ylabel("completed calls per second")
        rate_ax.set_title(f"{function}: completions over time")
        rate_ax.grid(alpha=0.3)
        rate_ax.legend(fontsize=6)
        for label, times, levels in entry.backlog:
            backlog_ax.step(times, levels, where="post", label=label)
        backlog_ax.set_xlabel("seconds since the cell's first call")
        backlog_ax.set_ylabel("calls accepted, not completed")
        backlog_ax.set_title(f"{function}: backlog over time")
        backlog_ax.grid(alpha=0.3)
        backlog_ax.legend(fontsize=6)
    return finish(
        FIG_ID,
        TITLE,
        "Left: empirical CDF of each completed asynchronous call from its start (intended instant "
        "in an open loop) to its completion, beside the latency of synchronous cells of the same "
        "function (dashed). Middle: calls completed in each second of every asynchronous cell; a "
        "rate that trails the submissions is the platform's queue draining. Right: each "
        "asynchronous cell's backlog, calls accepted less calls completed by then, as the client "
        "saw them (a lost call stays in it; a closed loop of N users keeps it at most N plus its "
        "losses). The platform's own queue depth is not sampled, so not drawn.",
        figure,
    )
