"""Resource usage over time from metrics.json: one panel per metric, the highest series named."""

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import (
    MaxNLocator,
)

from loadgen.analysis.aggregate import Aggregate
from loadgen.report.figures.common import Figure, aggregated_cells, empty_figure, finish, subplots
from loadgen.report.figures.timeline import timeline_cell
from loadgen.results.tree import Cell

SHOWN_SERIES = 8
"""Series drawn per resource panel: the highest peaks; the rest are summed as "other"."""
LABEL_KEYS = (
    "pod",
    "container_label_com_docker_swarm_task_name",
    "task",
    "alloc_id",
    "container",
    "node",
    "instance",
    "function_name",
)
"""Label keys that name a series' pod, container, allocation or node, by preference."""
LABEL_CHARS = 24
UNITS = {"bytes": ("MiB", 1 / 2**20), "cores": ("cores", 1.0), "count": ("", 1.0)}
"""Recorded unit -> (shown unit, factor)."""
METRIC_NAMES = {"cpu": "CPU", "memory": "memory", "replicas": "replicas"}


def short_label(labels: dict[str, str], fallback: str) -> str:
    """A series' name in a legend: its pod, container, allocation or node, at most
    `LABEL_CHARS` characters; never the whole Prometheus label set."""
    for key in LABEL_KEYS:
        value = labels.get(key)
        if value:
            text = value[:8] if key == "alloc_id" else value
            return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
    return fallback


def resource_panel(
    series: Sequence[tuple[str, np.ndarray]], limit: int = SHOWN_SERIES
) -> list[tuple[str, np.ndarray]]:
    """The `limit` series with the highest peaks, by peak, then "other (n)": the sum of the rest
    at each instant (series missing an instant add nothing to it)."""
    ranked = sorted(series, key=lambda item: -float(item[1][:, 1].max()))
    if len(ranked) <= limit + 1:
        return ranked
    kept, rest = ranked[:limit], ranked[limit:]
    summed: dict[float, float] = {}
    for _, points in rest:
        for t, v in points:
            summed[float(t)] = summed.get(float(t), 0.0) + float(v)
    other = np.array(sorted(summed.items()), dtype=np.float64)
    return [*kept, (f"other ({len(rest)} summed)", other)]


def _resource_cell(result: Aggregate) -> tuple[Cell, Any] | None:
    """The timeline's cell where it has metrics, else the cell with metrics and most requests."""
    cells = sorted(aggregated_cells(result), key=lambda item: -item[1].count)
    timeline = timeline_cell(result)
    if timeline is not None:
        cells.insert(0, timeline)
    for cell, _ in cells:
        metrics = cell.metrics()
        if metrics is not None and any(s.points for s in metrics.series):
            return cell, metrics
    return None


def resource_usage(results: Sequence[Aggregate]) -> Figure:
    title = "Resource usage over time"
    rows = []
    for result in results:
        found = _resource_cell(result)
        if found is not None:
            rows.append((result.tree.manifest.campaign, *found))
    if not rows:
        return empty_figure("resources", title, "no metrics.json in any cell")
    names = sorted(
        {s.name for _, _, metrics in rows for s in metrics.series if s.points},
        key=lambda n: (list(METRIC_NAMES).index(n) if n in METRIC_NAMES else len(METRIC_NAMES), n),
    )
    figure, axes = subplots(
        len(rows), len(names), figsize=(4.2 * len(names), 3.0 * len(rows)), squeeze=False
    )
    for row, (campaign, cell, metrics) in zip(axes, rows, strict=True):
        start = min(p[0] for s in metrics.series for p in s.points)
        for ax, name in zip(row, names, strict=True):
            chosen = [s for s in metrics.series if s.name == name and s.points]
            if not chosen:
                ax.axis("off")
                ax.text(0.5, 0.5, f"no {name} series", ha="center", va="center", fontsize=9)
                continue
            units = {s.unit for s in chosen}
            unit = chosen[0].unit if len(units) == 1 else "mixed units"
            shown, factor = UNITS.get(unit, (unit, 1.0))
            series = []
            for index, s in enumerate(chosen):
                points = np.asarray(s.points, dtype=np.float64)
                points[:, 0] -= start
                points[:, 1] *= factor
                series.append((short_label(s.labels, f"{name} {index + 1}"), points))
            drawn = resource_panel(series)
            palette = plt.get_cmap("tab10").colors
            for index, (label, points) in enumerate(drawn):
                other = label.startswith("other (")
                ax.plot(
                    points[:, 0],
                    points[:, 1],
                    marker="." if len(points) < 5 else None,
                    linestyle=":" if other else "-",
                    color="0.4" if other else palette[index % len(palette)],
                    label=label,
                )
            heading = METRIC_NAMES.get(name, name)
            ax.set_ylabel(f"{heading} ({shown})" if shown else heading)
            ax.set_ylim(bottom=0)
            if unit == "count":
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_ylim(top=max(1.0, ax.get_ylim()[1]) + 0.5)
            ax.set_xlabel("seconds since the cell started")
            ax.set_title(f"{heading}, {campaign}: {cell.info.id}", fontsize=8)
            ax.grid(alpha=0.3)
            if len(drawn) > 1:
                ax.legend(fontsize=7, loc="best")
    return finish(
        "resources",
        title,
        "Resource series of metrics.json for the cell in the latency timeline (or, without "
        f"metrics there, the busiest cell that has them), one panel per metric: CPU in cores, "
        f"memory in MiB (working set), replicas; each series named by its pod, container or "
        f"node, at most {SHOWN_SERIES} per panel (the highest peaks), the others summed as "
        f'"other".',
        figure,
    )
