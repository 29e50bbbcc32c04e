"""The report's figures, drawn with matplotlib's Agg backend into PNG and SVG bytes.

Every figure function returns a `Figure` even without data: an empty figure says so in the
image and in its caption, so a reader never mistakes a missing plot for a blank one.
"""

import io
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch

from loadgen.analysis.aggregate import (
    BOOT_IN,
    COLD_START_COMPONENTS,
    Aggregate,
    Row,
    group_label,
)
from loadgen.analysis.compare import row_key
from loadgen.analysis.requests import COLD, Requests
from loadgen.metrics.summary import NS_PER_MS
from loadgen.results.tree import Cell

DPI = 100


@dataclass(frozen=True)
class Figure:
    """One rendered figure and what it shows."""

    id: str
    title: str
    caption: str
    png: bytes
    svg: bytes
    empty: bool


def _subplots(*args: int, **kwargs: object) -> tuple[MplFigure, Any]:
    """pyplot.subplots with constrained layout, so titles and labels never overlap."""
    return plt.subplots(*args, layout="constrained", **kwargs)


def _f(value: object) -> float:
    """A numeric cell of the tidy table."""
    assert isinstance(value, int | float)
    return float(value)


def _render(figure: MplFigure) -> tuple[bytes, bytes]:
    png, svg = io.BytesIO(), io.BytesIO()
    with warnings.catch_warnings():
        # An empty "no data" panel has nothing for constrained layout to arrange; harmless.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        figure.savefig(png, format="png", dpi=DPI, bbox_inches="tight")
        figure.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(figure)
    return png.getvalue(), svg.getvalue()


def _finish(fig_id: str, title: str, caption: str, figure: MplFigure) -> Figure:
    figure.suptitle(title)
    png, svg = _render(figure)
    return Figure(fig_id, title, caption, png, svg, empty=False)


def _empty(fig_id: str, title: str, why: str) -> Figure:
    figure, axes = _subplots(figsize=(6, 1.6))
    axes.axis("off")
    axes.text(0.5, 0.5, f"No data: {why}", ha="center", va="center", fontsize=12)
    figure.suptitle(title)
    png, svg = _render(figure)
    return Figure(fig_id, title, f"No data: {why}.", png, svg, empty=True)


def _colors(results: Sequence[Aggregate]) -> dict[str, str]:
    palette = plt.get_cmap("tab10").colors
    return {
        r.tree.manifest.campaign: matplotlib.colors.to_hex(palette[i % len(palette)])
        for i, r in enumerate(results)
    }


def _cells(result: Aggregate) -> list[tuple[Cell, Requests]]:
    """Aggregated cells with their requests, in tree order."""
    return [
        (c, result.requests[c.info.id]) for c in result.tree.cells if c.info.id in result.requests
    ]


def _ok_latency_ms(requests: Requests) -> np.ndarray:
    return requests.latency_ns[requests.ok].astype(np.float64) / NS_PER_MS


def _functions(results: Sequence[Aggregate]) -> list[str]:
    return sorted({c.info.function for r in results for c, _ in _cells(r)})


def latency_cdf(results: Sequence[Aggregate]) -> Figure:
    title = "Latency CDF per platform"
    functions = _functions(results)
    if not functions:
        return _empty("latency-cdf", title, "no aggregated cells")
    colors = _colors(results)
    figure, axes = _subplots(1, len(functions), figsize=(5 * len(functions), 3.6), squeeze=False)
    for ax, function in zip(axes[0], functions, strict=True):
        for result in results:
            values = [_ok_latency_ms(q) for c, q in _cells(result) if c.info.function == function]
            data = np.sort(np.concatenate(values)) if values else np.array([])
            if data.size:
                ax.step(
                    data,
                    np.arange(1, data.size + 1) / data.size,
                    where="post",
                    color=colors[result.tree.manifest.campaign],
                    label=result.tree.manifest.campaign,
                )
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms, log)")
        ax.set_ylabel("fraction of ok requests")
        ax.set_title(function)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _finish(
        "latency-cdf",
        title,
        "Empirical CDF of the latency of every ok request, all modes and sweep points pooled, "
        "one line per platform.",
        figure,
    )


def _distribution_by(results: Sequence[Aggregate], sweep: str, fig_id: str) -> Figure:
    title = f"Latency distribution per {sweep}"
    colors = _colors(results)
    data: dict[str, dict[float, dict[str, np.ndarray]]] = {}
    for result in results:
        for cell, requests in _cells(result):
            info = cell.info
            if info.sweep.name != sweep or info.sweep.value is None:
                continue
            per_value = data.setdefault(info.function, {}).setdefault(float(info.sweep.value), {})
            name = result.tree.manifest.campaign
            per_value[name] = np.concatenate(
                [per_value.get(name, np.array([])), _ok_latency_ms(requests)]
            )
    if not data:
        return _empty(fig_id, title, f"no cell swept {sweep}")
    functions = sorted(data)
    campaigns = [r.tree.manifest.campaign for r in results]
    figure, axes = _subplots(1, len(functions), figsize=(5 * len(functions), 3.6), squeeze=False)
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
        ax.set_yscale("log")
        ax.set_xlabel(sweep)
        ax.set_ylabel("latency (ms, log)")
        ax.set_title(function)
        ax.legend(fontsize=8)
    return _finish(
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
    colors = _colors(results)
    panels: dict[tuple[str, str, str], list[tuple[Aggregate, str, list[Row]]]] = {}
    for result in results:
        for metric, stat, label in series:
            for row in _group_rows(result, metric, stat):
                if sweep is not None and row["sweep_name"] != sweep:
                    continue
                key = (str(row["function"]), str(row["mode"]), str(row["sweep_name"]))
                entries = panels.setdefault(key, [])
                match = next((e for e in entries if e[0] is result and e[1] == label), None)
                if match is None:
                    entries.append((result, label, [row]))
                else:
                    match[2].append(row)
    if not panels:
        return _empty(fig_id, title, "no group with a swept value")
    keys = sorted(panels)
    figure, axes = _subplots(1, len(keys), figsize=(4.5 * len(keys), 3.4), squeeze=False)
    markers = ["o", "s", "^", "D"]
    for ax, key in zip(axes[0], keys, strict=True):
        for result, label, rows in panels[key]:
            rows.sort(key=lambda r: _f(r["sweep_value"]))
            x = np.array([_f(r["sweep_value"]) for r in rows])
            y = np.array([_f(r["value"]) for r in rows])
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
        ax.set_xscale(
            "log" if all(_f(r["sweep_value"]) > 0 for e in panels[key] for r in e[2]) else "linear"
        )
        ax.set_xlabel(key[2])
        ax.set_ylabel(ylabel)
        ax.set_title(f"{key[0]} ({key[1]})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _finish(fig_id, title, caption, figure)


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
        "ok responses / s",
        "Median over runs of each run's throughput (ok responses ÷ active time, each engine "
        "run from its first intended send to its last completion) against closed-loop users, "
        "with distribution-free intervals over runs.",
        sweep="users",
    )


def _representative(result: Aggregate) -> tuple[Cell, Requests] | None:
    """The cell with the most cold starts and errors: the most eventful timeline."""
    cells = _cells(result)
    if not cells:
        return None
    return max(
        cells,
        key=lambda item: (
            int((item[1].cold == COLD).sum()) + int((~item[1].ok).sum()),
            item[1].count,
        ),
    )


def latency_over_time(results: Sequence[Aggregate]) -> Figure:
    title = "Latency over time"
    chosen = [(r, rep) for r in results if (rep := _representative(r)) is not None]
    if not chosen:
        return _empty("latency-time", title, "no aggregated cells")
    figure, axes = _subplots(len(chosen), 1, figsize=(9, 2.8 * len(chosen)), squeeze=False)
    for ax, (result, (cell, requests)) in zip(axes[:, 0], chosen, strict=True):
        t = (requests.intended_ns - requests.intended_ns.min()).astype(np.float64) / 1e9
        latency = requests.latency_ns.astype(np.float64) / NS_PER_MS
        warm = requests.ok & (requests.cold != COLD)
        cold = requests.ok & (requests.cold == COLD)
        ax.plot(t[warm], latency[warm], ".", markersize=3, color="tab:blue", label="ok")
        ax.plot(t[cold], latency[cold], "^", markersize=7, color="tab:orange", label="cold start")
        ax.plot(
            t[~requests.ok],
            latency[~requests.ok],
            "x",
            markersize=6,
            color="tab:red",
            label="error",
        )
        ax.set_yscale("log")
        ax.set_xlabel("seconds since the first intended send")
        ax.set_ylabel("latency (ms, log)")
        ax.set_title(f"{result.tree.manifest.campaign}: {cell.info.id}", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    return _finish(
        "latency-time",
        title,
        "Every request of each platform's most eventful cell (most cold starts and errors) by "
        "intended send time: cold starts as triangles, errors as crosses at the time they failed.",
        figure,
    )


_PANELS: tuple[tuple[str, str], ...] = (
    ("to_ready", "deploy/scale → ready"),
    ("ready_to_send", "ready → first request sent"),
    ("first_latency", "first response's latency"),
)
"""One panel per component that is its own interval: bars in different panels never add up."""


def _cold_components(
    results: Sequence[Aggregate],
) -> list[tuple[str, str, str | None, dict[str, float]]]:
    """(campaign, group label, cold-start method, {component: mean ms, component_count: n})
    per group with cold starts, from the tidy table's `cold_start_<component>_ms` group rows."""
    found: list[tuple[str, str, str | None, dict[str, float]]] = []
    names = {name for name, _ in COLD_START_COMPONENTS}
    for result in results:
        groups: dict[tuple[str, str | None], dict[str, float]] = {}
        for row in result.rows:
            metric = str(row["metric"])
            name = metric.removeprefix("cold_start_").removesuffix("_ms")
            if (
                row["level"] != "group"
                or not metric.endswith("_ms")
                or name not in names
                or row["stat"] not in {"mean", "count"}
                or row["value"] is None
            ):
                continue
            group = row_key(row)
            key = name if row["stat"] == "mean" else f"{name}_count"
            groups.setdefault((group_label(group), group[4]), {})[key] = _f(row["value"])
        found.extend(
            (result.tree.manifest.campaign, label, method, values)
            for (label, method), values in groups.items()
        )
    return [entry for entry in found if any(entry[3].get(f"{n}_count") for n in names)]


def cold_breakdown(results: Sequence[Aggregate]) -> Figure:
    title = "Cold-start cost by component"
    entries = _cold_components(results)
    if not entries:
        return _empty(
            "cold-breakdown",
            title,
            "no cold-start components recorded (no cold-start cell, or results written before "
            "the runner recorded them)",
        )
    colors = _colors(results)
    width = max(3.2, 0.9 * len(entries))
    figure, axes = _subplots(1, len(_PANELS), figsize=(width * len(_PANELS), 4), squeeze=False)
    stacked = False
    labels = [f"{campaign}\n{label}" for campaign, label, _, _ in entries]
    x = np.arange(len(entries))
    for ax, (name, heading) in zip(axes[0], _PANELS, strict=True):
        for index, (campaign, _, method, values) in enumerate(entries):
            total = values.get(name)
            if total is None:
                ax.text(index, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")
                continue
            color = colors[campaign]
            init = values.get("init")
            # The init the platform reported is part of the same first responses: stacked inside
            # them, and only when it was reported for every one of them.
            nested = (
                name == "first_latency"
                and init is not None
                and values.get("init_count") == values.get("first_latency_count")
                and init <= total
            )
            if nested:
                assert init is not None
                stacked = True
                ax.bar(index, init, color=color, hatch="//", edgecolor="white", alpha=0.9)
                ax.bar(index, total - init, bottom=init, color=color, alpha=0.5)
            elif name == "first_latency" and init is not None:
                # Init of only some of the first responses: beside them, not inside.
                ax.bar(index - 0.2, total, width=0.4, color=color, alpha=0.8)
                ax.bar(index + 0.2, init, width=0.4, color=color, hatch="//", edgecolor="white")
                stacked = True
            else:
                ax.bar(index, total, color=color, alpha=0.8)
            count = int(values.get(f"{name}_count", 0))
            boot = " · boot" if BOOT_IN.get(str(method)) == name else ""
            ax.annotate(f"n={count}{boot}", (index, total), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, labels, fontsize=7, rotation=30, ha="right")
        ax.set_title(heading, fontsize=9)
        ax.set_ylabel("mean ms per cold start")
        ax.grid(axis="y", alpha=0.3)
    if stacked:
        init_patch = Patch(facecolor="0.5", hatch="//", edgecolor="white", label="init (platform)")
        axes[0][-1].legend(handles=[init_patch], fontsize=7)
    return _finish(
        "cold-breakdown",
        title,
        "Mean of each cold-start component per group, one panel each, never added up: "
        "deploy/scale → ready is the control-plane work of a forced cold start (a redeploy's "
        "contains the boot of the new instance; scale-to-zero's is the scale-down only; an "
        "action update's is one PUT); ready → first request sent is the load generator's own "
        "start-up, in no request; the first response's latency contains the boot after "
        "scale-to-zero, an action update or an idle reap (natural), and holds the "
        "platform-reported init, hatched: inside the bar where it was reported for every first "
        "response, beside it otherwise. n: cold starts measured; boot: the part that holds the "
        "new instance's boot for the group's method; n/a: the method has no such part.",
        figure,
    )


def error_rates(results: Sequence[Aggregate]) -> Figure:
    title = "Error rates"
    colors = _colors(results)
    entries: list[tuple[str, str, float]] = []
    for result in results:
        for row in result.rows:
            if row["level"] == "group" and row["metric"] == "error_rate" and row["subset"] == "all":
                label = f"{row['function']} {row['mode']}"
                if row["sweep_name"] != "none":
                    label += f" {row['sweep_name']}={_f(row['sweep_value']):g}"
                entries.append((result.tree.manifest.campaign, label, _f(row["value"])))
    if not entries:
        return _empty("error-rates", title, "no aggregated groups")
    labels = sorted({label for _, label, _ in entries})
    campaigns = list(colors)
    width = 0.8 / len(campaigns)
    figure, ax = _subplots(figsize=(max(6, 0.6 * len(labels) * len(campaigns)), 3.6))
    for index, campaign in enumerate(campaigns):
        values = {label: v for c, label, v in entries if c == campaign}
        x = [i - 0.4 + width * (index + 0.5) for i, label in enumerate(labels) if label in values]
        ax.bar(
            x,
            [values[label] * 100 for label in labels if label in values],
            width,
            label=campaign,
            color=colors[campaign],
        )
    ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("errors (% of requests)")
    ax.legend(fontsize=8)
    return _finish(
        "error-rates",
        title,
        "Share of measured requests that failed (any error class), per group and platform; a "
        "missing bar is a group the platform did not run, a bar at zero had no errors.",
        figure,
    )


def resource_usage(results: Sequence[Aggregate]) -> Figure:
    title = "Resource usage over time"
    panels = []
    for result in results:
        representative = _representative(result)
        if representative is None:
            continue
        metrics = representative[0].metrics()
        if metrics is not None and metrics.series:
            panels.append((result.tree.manifest.campaign, representative[0], metrics))
    if not panels:
        return _empty("resources", title, "no metrics.json in the shown cells")
    figure, axes = _subplots(len(panels), 1, figsize=(9, 2.8 * len(panels)), squeeze=False)
    for ax, (campaign, cell, metrics) in zip(axes[:, 0], panels, strict=True):
        units = sorted({s.unit for s in metrics.series})
        twins = {units[0]: ax}
        for extra in units[1:2]:
            twins[extra] = ax.twinx()
        start = min(p[0] for s in metrics.series for p in s.points if s.points)
        palette = plt.get_cmap("tab10").colors
        for index, series in enumerate(metrics.series):
            target = twins.get(series.unit)
            if target is None or not series.points:
                continue
            points = np.asarray(series.points)
            labels = ",".join(f"{k}={v}" for k, v in sorted(series.labels.items()))
            target.plot(
                points[:, 0] - start,
                points[:, 1],
                label=f"{series.name} {labels} ({series.unit})".replace("  ", " "),
                linestyle="-" if target is ax else "--",
                color=palette[index % len(palette)],
            )
            target.set_ylabel(series.unit)
        ax.set_xlabel("seconds since the cell started")
        ax.set_title(f"{campaign}: {cell.info.id}", fontsize=9)
        handles = [h for a in twins.values() for h in a.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=7, loc="upper right")
    return _finish(
        "resources",
        title,
        "Resource series from metrics.json for the cell shown in the latency timeline; the "
        "first unit on the left axis, a second unit dashed on the right.",
        figure,
    )


FIGURES: tuple[Callable[[Sequence[Aggregate]], Figure], ...] = (
    latency_cdf,
    box_users,
    box_replicas,
    medians_ci,
    throughput_users,
    latency_over_time,
    cold_breakdown,
    error_rates,
    resource_usage,
)


def all_figures(
    results: Sequence[Aggregate], on_figure: Callable[[str], None] | None = None
) -> list[Figure]:
    """Every figure of `FIGURES`, in order; `on_figure` gets each one's function name as it
    starts (for progress)."""
    figures = []
    for make in FIGURES:
        if on_figure is not None:
            on_figure(make.__name__)
        figures.append(make(results))
    return figures
