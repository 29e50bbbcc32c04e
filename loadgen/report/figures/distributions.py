"""Latency distributions: the CDF per platform and the violin/box plots per sweep value."""

from collections.abc import Sequence

import numpy as np

from loadgen.analysis.aggregate import Aggregate, function_variant
from loadgen.analysis.requests import Requests
from loadgen.metrics.summary import NS_PER_MS
from loadgen.report.figures.common import (
    SWEEP_AXIS,
    Figure,
    aggregated_cells,
    campaign_colors,
    empty_figure,
    finish,
    log_axis,
    subplots,
)


def _ok_latency_ms(requests: Requests) -> np.ndarray:
    return requests.latency_ns[requests.ok].astype(np.float64) / NS_PER_MS


def _functions(results: Sequence[Aggregate]) -> list[str]:
    return sorted({function_variant(c) for r in results for c, _ in aggregated_cells(r)})


def latency_cdf(results: Sequence[Aggregate]) -> Figure:
    title = "Latency CDF per platform"
    functions = _functions(results)
    if not functions:
        return empty_figure("latency-cdf", title, "no aggregated cells")
    colors = campaign_colors(results)
    figure, axes = subplots(1, len(functions), figsize=(5 * len(functions), 3.6), squeeze=False)
    for ax, function in zip(axes[0], functions, strict=True):
        for result in results:
            values = [
                _ok_latency_ms(q)
                for c, q in aggregated_cells(result)
                if function_variant(c) == function
            ]
            data = np.sort(np.concatenate(values)) if values else np.array([])
            if data.size:
                ax.step(
                    data,
                    np.arange(1, data.size + 1) / data.size,
                    where="post",
                    color=colors[result.tree.manifest.campaign],
                    label=result.tree.manifest.campaign,
                )
        if ax.has_data():
            log_axis(ax, "x")
        ax.set_xlabel("latency (ms, log scale)")
        ax.set_ylabel("fraction of ok requests")
        ax.set_title(function)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return finish(
        "latency-cdf",
        title,
        "Empirical CDF of the latency of every ok request, all modes and sweep points pooled, "
        "one line per platform.",
        figure,
    )


def _distribution_by(results: Sequence[Aggregate], sweep: str, fig_id: str) -> Figure:
    title = f"Latency distribution per {sweep}"
    colors = campaign_colors(results)
    data: dict[str, dict[float, dict[str, np.ndarray]]] = {}
    for result in results:
        for cell, requests in aggregated_cells(result):
            info = cell.info
            if info.sweep.name != sweep or info.sweep.value is None:
                continue
            per_function = data.setdefault(function_variant(cell), {})
            per_value = per_function.setdefault(float(info.sweep.value), {})
            name = result.tree.manifest.campaign
            per_value[name] = np.concatenate(
                [per_value.get(name, np.array([])), _ok_latency_ms(requests)]
            )
    if not data:
        return empty_figure(fig_id, title, f"no cell swept {sweep}")
    functions = sorted(data)
    campaigns = [r.tree.manifest.campaign for r in results]
    figure, axes = subplots(1, len(functions), figsize=(5 * len(functions), 3.6), squeeze=False)
    width = 0.8 / len(campaigns)
    for ax, function in zip(axes[0], functions, strict=True):
        values = sorted(data[function])
        for index, campaign in enumerate(campaigns):
            positions, series = [], []
            for slot, value in enumerate(values):
                sample = data[function][value].get(campaign)
                if sample is not None and sample.size:
                    positions.append(slot - 0.4 + width * (index + 0.5))
                    series.append(sample)
            if not series:
                continue
            parts = ax.violinplot(series, positions=positions, widths=width * 0.9, showmedians=True)
            for body in parts["bodies"]:
                body.set_facecolor(colors[campaign])
                body.set_alpha(0.5)
            ax.boxplot(
                series,
                positions=positions,
                widths=width * 0.3,
                showfliers=False,
                medianprops={"color": colors[campaign]},
            )
            ax.plot([], [], color=colors[campaign], label=campaign, linewidth=6, alpha=0.5)
        ax.set_xticks(range(len(values)), [f"{v:g}" for v in values])
        log_axis(ax, "y")
        ax.set_xlabel(SWEEP_AXIS.get(sweep, sweep))
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(function)
        ax.legend(fontsize=8)
    return finish(
        fig_id,
        title,
        f"Violin and box (quartiles, whiskers at 1.5 IQR, outliers hidden) of ok-request latency "
        f"for each {sweep} value, runs pooled, one colour per platform.",
        figure,
    )


def box_users(results: Sequence[Aggregate]) -> Figure:
    return _distribution_by(results, "users", "box-users")


def box_replicas(results: Sequence[Aggregate]) -> Figure:
    return _distribution_by(results, "replicas", "box-replicas")
