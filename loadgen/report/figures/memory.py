"""Memory sweeps: latency against the function's memory limit, and the cost per million
invocations against it (both estimates of `loadgen.analysis.costs`)."""

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.costs import group_costs
from loadgen.analysis.table import DEFAULT_MEMORY_MB, GroupKey, Row, row_key
from loadgen.report.figures.common import (
    Figure,
    as_float,
    campaign_colors,
    empty_figure,
    finish,
    subplots,
    sweep_ticks,
)
from loadgen.report.html_costs import cost_note

T = TypeVar("T")
#: The axis of both figures.
MEMORY_AXIS = "memory limit (MiB, log scale)"


def _panel(key: GroupKey) -> str:
    """What a panel shows: the group without its memory limit (`matrix closed users=1 go`)."""
    return group_label((*key[:7], DEFAULT_MEMORY_MB, key[8]))


def _swept(points: dict[str, dict[int, T]]) -> dict[str, dict[int, T]]:
    """Only the panels measured at two memory limits or more: one point is no sweep."""
    return {panel: found for panel, found in points.items() if len(found) > 1}


def _latency_points(result: Aggregate, stat: str) -> dict[str, dict[int, Row]]:
    points: dict[str, dict[int, Row]] = {}
    for row in result.rows:
        if (
            row["level"] == "group"
            and row["subset"] == "all"
            and row["metric"] == "latency_ms"
            and row["stat"] == stat
            and row["value"] is not None
        ):
            key = row_key(row)
            points.setdefault(_panel(key), {})[key[7]] = row
    return points


def latency_memory(results: Sequence[Aggregate]) -> Figure:
    """Median over runs of p50 and p99 against memory_mb, one panel per function, language and
    sweep point, one colour per campaign, error bars the intervals over runs."""
    fig_id, title = "latency-memory", "Latency against the memory limit"
    series = (("run_median_p50", "p50", "o"), ("run_median_p99", "p99", "s"))
    data: dict[str, list[tuple[str, str, str, dict[int, Row]]]] = {}
    for result in results:
        campaign = result.tree.manifest.campaign
        for stat, label, marker in series:
            for panel, rows in _swept(_latency_points(result, stat)).items():
                data.setdefault(panel, []).append((campaign, label, marker, rows))
    if not data:
        return empty_figure(fig_id, title, "no group was measured at more than one memory limit")
    colors = campaign_colors(results)
    panels = sorted(data)
    figure, axes = subplots(1, len(panels), figsize=(4.8 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        memories: list[float] = []
        for campaign, label, marker, rows in data[panel]:
            x = np.array(sorted(rows), dtype=np.float64)
            chosen = [rows[int(m)] for m in x]
            y = np.array([as_float(r["value"]) for r in chosen])
            low = np.array([as_float(r["ci_low"] if r["ci_low"] is not None else r["value"])
                            for r in chosen])  # fmt: skip
            high = np.array([as_float(r["ci_high"] if r["ci_high"] is not None else r["value"])
                             for r in chosen])  # fmt: skip
            ax.errorbar(
                x, y, yerr=[y - low, high - y], capsize=3, marker=marker,
                color=colors[campaign], label=f"{campaign} {label}",
            )  # fmt: skip
            memories.extend(x)
        ax.set_xscale("log", base=2)
        sweep_ticks(ax, memories)
        ax.set_xlabel(MEMORY_AXIS)
        ax.set_ylabel("latency (ms)")
        ax.set_title(panel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return finish(
        fig_id,
        title,
        "Median over runs of each run's latency p50 and p99 against the function's memory limit "
        "(memory_mb), one panel per function, language and sweep point; error bars are "
        "distribution-free intervals for the median over runs (none with too few runs).",
        figure,
    )


def cost_memory(results: Sequence[Aggregate]) -> Figure:
    """Both cost estimates per million invocations against memory_mb (panels as above)."""
    fig_id = "cost-memory"
    title = "Cost per million invocations against the memory limit (estimate)"
    data: dict[str, list[tuple[str, str, str, dict[int, float]]]] = {}
    for result in results:
        campaign = result.tree.manifest.campaign
        managed: dict[str, dict[int, float]] = {}
        stack: dict[str, dict[int, float]] = {}
        for cost in group_costs(result):
            panel = _panel(cost.key)
            if cost.managed_usd_per_million is not None:
                managed.setdefault(panel, {})[cost.memory_mb] = cost.managed_usd_per_million
            if cost.stack_usd_per_million is not None:
                stack.setdefault(panel, {})[cost.memory_mb] = cost.stack_usd_per_million
        for label, marker, points in (("managed FaaS", "o", managed), ("stack", "s", stack)):
            for panel, found in _swept(points).items():
                data.setdefault(panel, []).append((campaign, label, marker, found))
    if not data:
        return empty_figure(fig_id, title, "no group was measured at more than one memory limit")
    colors = campaign_colors(results)
    panels = sorted(data)
    figure, axes = subplots(1, len(panels), figsize=(4.8 * len(panels), 3.6), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        memories: list[float] = []
        for campaign, label, marker, found in data[panel]:
            x = sorted(found)
            ax.plot(
                x, [found[m] for m in x], marker=marker, color=colors[campaign],
                linestyle="-" if label == "stack" else "--", label=f"{campaign} {label}",
            )  # fmt: skip
            memories.extend(float(m) for m in x)
        ax.set_xscale("log", base=2)
        sweep_ticks(ax, memories)
        ax.set_xlabel(MEMORY_AXIS)
        ax.set_ylabel("USD per million invocations")
        ax.set_title(panel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return finish(fig_id, title, cost_note(), figure)
