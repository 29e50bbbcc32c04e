"""Run-level estimates against the sweep value, with their intervals: median p50/p99 and
throughput."""

from collections.abc import Sequence

import numpy as np

from loadgen.analysis.aggregate import Aggregate, variant_suffix
from loadgen.analysis.table import Row, row_key
from loadgen.report.figures.common import (
    SWEEP_AXIS,
    Figure,
    as_float,
    campaign_colors,
    empty_figure,
    finish,
    subplots,
    sweep_ticks,
)


def _group_rows(result: Aggregate, metric: str, stat: str) -> list[Row]:
    return [
        r
        for r in result.rows
        if r["level"] == "group"
        and r["subset"] == "all"
        and r["metric"] == metric
        and r["stat"] == stat
        and r["sweep_value"] is not None
        and r["value"] is not None
    ]


def _sweep_lines(
    results: Sequence[Aggregate],
    fig_id: str,
    title: str,
    series: Sequence[tuple[str, str, str]],
    ylabel: str,
    caption: str,
    sweep: str | None = None,
) -> Figure:
    """Estimate with CI error bars against the sweep value, per function and platform."""
    colors = campaign_colors(results)
    panels: dict[tuple[str, str, str], list[tuple[Aggregate, str, list[Row]]]] = {}
    for result in results:
        for metric, stat, label in series:
            for row in _group_rows(result, metric, stat):
                if sweep is not None and row["sweep_name"] != sweep:
                    continue
                variant = variant_suffix(*row_key(row)[6:])
                key = (str(row["function"]) + variant, str(row["mode"]), str(row["sweep_name"]))
                entries = panels.setdefault(key, [])
                match = next((e for e in entries if e[0] is result and e[1] == label), None)
                if match is None:
                    entries.append((result, label, [row]))
                else:
                    match[2].append(row)
    if not panels:
        return empty_figure(fig_id, title, "no group with a swept value")
    keys = sorted(panels)
    figure, axes = subplots(1, len(keys), figsize=(4.5 * len(keys), 3.4), squeeze=False)
    markers = ["o", "s", "^", "D"]
    for ax, key in zip(axes[0], keys, strict=True):
        for result, label, rows in panels[key]:
            rows.sort(key=lambda r: as_float(r["sweep_value"]))
            x = np.array([as_float(r["sweep_value"]) for r in rows])
            y = np.array([as_float(r["value"]) for r in rows])
            low = np.array(
                [
                    r["ci_low"] if r["ci_low"] is not None else v
                    for r, v in zip(rows, y, strict=True)
                ]
            )
            high = np.array(
                [
                    r["ci_high"] if r["ci_high"] is not None else v
                    for r, v in zip(rows, y, strict=True)
                ]
            )
            labels = [s[2] for s in series]
            ax.errorbar(
                x,
                y,
                yerr=[y - low, high - y],
                capsize=3,
                marker=markers[labels.index(label) % len(markers)],
                color=colors[result.tree.manifest.campaign],
                label=f"{result.tree.manifest.campaign} {label}".strip(),
            )
        swept = [as_float(r["sweep_value"]) for e in panels[key] for r in e[2]]
        if all(v > 0 for v in swept):
            ax.set_xscale("log")
        sweep_ticks(ax, swept)
        ax.set_xlabel(SWEEP_AXIS.get(key[2], key[2]))
        ax.set_ylabel(ylabel)
        ax.set_title(f"{key[0]} ({key[1]})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return finish(fig_id, title, caption, figure)


def medians_ci(results: Sequence[Aggregate]) -> Figure:
    return _sweep_lines(
        results,
        "medians-ci",
        "Median over runs of p50 and p99, with intervals",
        [("latency_ms", "run_median_p50", "p50"), ("latency_ms", "run_median_p99", "p99")],
        "latency (ms)",
        "Median over runs of each run's latency p50 and p99 against the sweep value; error bars "
        "are distribution-free intervals for the median over runs (none with too few runs).",
    )


def throughput_users(results: Sequence[Aggregate]) -> Figure:
    return _sweep_lines(
        results,
        "throughput-users",
        "Throughput against users",
        [("throughput_rps", "run_median", "")],
        "throughput (ok responses/s)",
        "Median over runs of each run's throughput (ok responses ÷ active time, each engine "
        "run from its first intended send to its last completion) against closed-loop users, "
        "with distribution-free intervals over runs.",
        sweep="users",
    )
