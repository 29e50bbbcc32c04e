"""Errors by class: per group and over time, or a sentence where there were none."""

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from loadgen.analysis.aggregate import Aggregate, function_variant
from loadgen.analysis.requests import Requests
from loadgen.report.figures.common import (
    Figure,
    aggregated_cells,
    empty_figure,
    finish,
    plain_number,
    render,
    subplots,
)
from loadgen.report.figures.timeline import bin_width_s
from loadgen.results.tree import Cell


def _text_figure(fig_id: str, title: str, lines: Sequence[str], caption: str) -> Figure:
    """A figure that is a statement, not a plot: a plot of nothing would mislead."""
    figure, axes = subplots(figsize=(6, 0.5 + 0.35 * len(lines)))
    axes.axis("off")
    axes.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", fontsize=12)
    figure.suptitle(title)
    png, svg = render(figure)
    return Figure(fig_id, title, caption, png, svg, empty=False)


def _group_text(cell: Cell) -> str:
    info = cell.info
    label = f"{function_variant(cell)} {info.mode}"
    if info.sweep.name != "none" and info.sweep.value is not None:
        label += f" {info.sweep.name}={plain_number(float(info.sweep.value))}"
    return label


def _error_names(requests: Requests) -> np.ndarray:
    """Each request's error class, "unknown" for a failure without one, None when ok."""
    return np.array(
        [
            None if ok else ("unknown" if e is None else str(e))
            for ok, e in zip(requests.ok, requests.error, strict=True)
        ],
        dtype=object,
    )


def error_rates(results: Sequence[Aggregate]) -> Figure:
    """Errors by class: per group, and over time since each cell's first intended send. With no
    error at all, a sentence with the number of requests instead of an empty plot."""
    title = "Errors"
    fig_id = "error-rates"
    totals = {
        r.tree.manifest.campaign: (
            sum(q.count for _, q in aggregated_cells(r)),
            sum(int((~q.ok).sum()) for _, q in aggregated_cells(r)),
        )
        for r in results
    }
    if not any(count for count, _ in totals.values()):
        return empty_figure(fig_id, title, "no aggregated cells")
    if not any(errors for _, errors in totals.values()):
        lines = [
            (f"{campaign}: " if len(totals) > 1 else "") + f"0 errors in {count:,} requests"
            for campaign, (count, _) in totals.items()
        ]
        return _text_figure(
            fig_id,
            title,
            lines,
            "; ".join(lines) + ": every measured request got an ok response, so there is no "
            "error to plot.",
        )
    classes = sorted(
        {
            str(n)
            for r in results
            for _, q in aggregated_cells(r)
            for n in _error_names(q)
            if n is not None
        }
    )
    palette = plt.get_cmap("Set1").colors
    class_colors = {c: palette[i % len(palette)] for i, c in enumerate(classes)}
    failing = [r for r in results if totals[r.tree.manifest.campaign][1]]
    figure, axes = subplots(
        len(failing), 2, figsize=(11, 3.2 * len(failing)), squeeze=False, width_ratios=(1, 1.4)
    )
    for row, result in zip(axes, failing, strict=True):
        campaign = result.tree.manifest.campaign
        count, errors = totals[campaign]
        per_group: dict[str, tuple[int, dict[str, int]]] = {}
        times: list[np.ndarray] = []
        kinds: list[np.ndarray] = []
        for cell, requests in aggregated_cells(result):
            label = _group_text(cell)
            total, by_class = per_group.get(label, (0, {}))
            names = _error_names(requests)
            for name in classes:
                by_class[name] = by_class.get(name, 0) + int((names == name).sum())
            per_group[label] = (total + requests.count, by_class)
            times.append(
                (requests.intended_ns - requests.intended_ns.min()).astype(np.float64) / 1e9
            )
            kinds.append(names)
        labels = sorted(per_group)
        bottom = np.zeros(len(labels))
        by_group, over_time = row
        for name in classes:
            share = np.array(
                [
                    100 * per_group[g][1][name] / per_group[g][0] if per_group[g][0] else 0.0
                    for g in labels
                ]
            )
            by_group.bar(labels, share, bottom=bottom, color=class_colors[name], label=name)
            bottom += share
        by_group.set_xticks(range(len(labels)), labels, fontsize=7, rotation=30, ha="right")
        by_group.set_ylabel("errors (% of requests)")
        by_group.set_title(f"{campaign}: {errors:,} errors in {count:,} requests", fontsize=9)
        by_group.grid(axis="y", alpha=0.3)
        t = np.concatenate(times)
        kind = np.concatenate(kinds)
        width = bin_width_s(float(t.max()) if t.size else 0.0)
        index = np.floor(t / width).astype(np.int64)
        bins = np.arange(index.max() + 1)
        sent = np.bincount(index, minlength=bins.size).astype(np.float64)
        level = np.zeros(bins.size)
        for name in classes:
            failed = np.bincount(index[kind == name], minlength=bins.size).astype(np.float64)
            share = np.divide(100 * failed, sent, out=np.zeros_like(failed), where=sent > 0)
            over_time.bar(
                (bins + 0.5) * width, share, width=width, bottom=level, color=class_colors[name]
            )
            level += share
        over_time.set_xlabel("seconds since each cell's first intended send")
        over_time.set_ylabel("errors (% of requests sent)")
        over_time.set_title(f"over time, all cells, {plain_number(width)} s bins", fontsize=9)
        over_time.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7, title="error class", title_fontsize=7)
    return finish(
        fig_id,
        title,
        "Share of measured requests that failed, by error class: per group (left; a group with "
        "no bar had no errors) and over time (right), every cell's requests binned by the time "
        "since that cell's first intended send.",
        figure,
    )
