"""Latency over time: the timeline cell, its time bins and their percentiles."""

from collections.abc import Sequence

import numpy as np

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.requests import COLD, Requests
from loadgen.metrics.summary import NS_PER_MS
from loadgen.report.figures.common import (
    Figure,
    aggregated_cells,
    empty_figure,
    finish,
    log_axis,
    plain_number,
    subplots,
)
from loadgen.results.tree import Cell


def timeline_cell(result: Aggregate) -> tuple[Cell, Requests] | None:
    """The cell with the most measured requests (then the most cold starts and errors): the one
    whose timeline has enough requests per time bin to draw percentiles."""
    cells = aggregated_cells(result)
    if not cells:
        return None
    return max(
        cells,
        key=lambda item: (
            item[1].count,
            int((item[1].cold == COLD).sum()) + int((~item[1].ok).sum()),
        ),
    )


BIN_WIDTHS_S = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
TIMELINE_BINS = 60
"""Bins per second, or finer for short cells: about this many bins along a short timeline."""
BAND_MIN = 10
"""Ok requests a bin needs for its p5–p95 band (its median needs one)."""


def bin_width_s(duration_s: float) -> float:
    """1 s bins; finer for a cell too short for `TIMELINE_BINS` of them; coarser only where 1 s
    bins would be more than 600."""
    fitting = [w for w in BIN_WIDTHS_S if duration_s / w <= TIMELINE_BINS]
    finest = fitting[0] if fitting else BIN_WIDTHS_S[-1]
    if finest <= 1.0:
        return finest
    return 1.0 if duration_s <= 600 else next(w for w in BIN_WIDTHS_S if duration_s / w <= 600)


def binned_percentiles(
    t_s: np.ndarray, latency_ms: np.ndarray, width_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of `width_s` holding at least one value: (bin centre, count, p5, p50, p95)."""
    if not t_s.size:
        empty = np.array([])
        return empty, empty, empty, empty, empty
    index = np.floor(t_s / width_s).astype(np.int64)
    centres: list[float] = []
    counts: list[float] = []
    p5: list[float] = []
    p50: list[float] = []
    p95: list[float] = []
    for b in np.unique(index):
        values = latency_ms[index == b]
        low, mid, high = np.percentile(values, [5, 50, 95])
        centres.append((float(b) + 0.5) * width_s)
        counts.append(float(values.size))
        p5.append(float(low))
        p50.append(float(mid))
        p95.append(float(high))

    def column(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    return column(centres), column(counts), column(p5), column(p50), column(p95)


def latency_over_time(results: Sequence[Aggregate]) -> Figure:
    title = "Latency over time"
    chosen = [(r, cell) for r in results if (cell := timeline_cell(r)) is not None]
    if not chosen:
        return empty_figure("latency-time", title, "no aggregated cells")
    figure, axes = subplots(len(chosen), 1, figsize=(9, 3.0 * len(chosen)), squeeze=False)
    widths = []
    for ax, (result, (cell, requests)) in zip(axes[:, 0], chosen, strict=True):
        t = (requests.intended_ns - requests.intended_ns.min()).astype(np.float64) / 1e9
        latency = requests.latency_ns.astype(np.float64) / NS_PER_MS
        ok = requests.ok
        width = bin_width_s(float(t.max()) if t.size else 0.0)
        widths.append(width)
        centre, count, p5, p50, p95 = binned_percentiles(t[ok], latency[ok], width)
        banded = count >= BAND_MIN
        ax.fill_between(
            centre,
            np.where(banded, p5, np.nan),
            np.where(banded, p95, np.nan),
            step="mid",
            color="tab:blue",
            alpha=0.25,
            linewidth=0,
            label=f"p5–p95 (bins of ≥ {BAND_MIN} ok)",
        )
        ax.plot(centre, p50, "-", drawstyle="steps-mid", color="tab:blue", label="p50")
        cold = ok & (requests.cold == COLD)
        if cold.any():
            ax.plot(
                t[cold], latency[cold], "^", markersize=7, color="tab:orange", label="cold start"
            )
        if (~ok).any():
            ax.plot(t[~ok], latency[~ok], "x", markersize=6, color="tab:red", label="error")
        if ax.has_data():
            log_axis(ax, "y")
        ax.set_xlabel("seconds since the first intended send")
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(
            f"{result.tree.manifest.campaign}: {cell.info.id} "
            f"({requests.count:,} requests, {plain_number(width)} s bins)",
            fontsize=9,
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return finish(
        "latency-time",
        title,
        "Each platform's cell with the most requests, by intended send time in bins of "
        + ", ".join(f"{plain_number(w)} s" for w in widths)
        + ": the median latency of the ok requests of each bin as a line, the 5th to 95th "
        "percentile as a band (where a bin holds enough of them); cold starts as triangles, "
        "errors as crosses at the time they failed.",
        figure,
    )
