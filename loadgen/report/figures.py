"""The report's figures, drawn with matplotlib's Agg backend into PNG and SVG bytes.

Every figure function returns a `Figure` even without data: an empty figure says so in the
image and in its caption, so a reader never mistakes a missing plot for a blank one.
"""

import io
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
    ScalarFormatter,
)

from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.cold_starts import BOOT_IN, COLD_START_COMPONENTS
from loadgen.analysis.compare import row_key
from loadgen.analysis.requests import COLD, Requests
from loadgen.analysis.table import Row
from loadgen.metrics.summary import NS_PER_MS
from loadgen.results.tree import Cell

DPI = 100
SWEEP_AXIS = {
    "users": "users (closed-loop)",
    "rate": "rate (requests/s)",
    "replicas": "replicas",
    "stage": "stage",
    "none": "",
}
"""Each sweep's axis label, with its unit."""


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


def plain_number(value: float, _position: object = None) -> str:
    """A tick label in plain decimals, never a power of ten: 0.5, 2, 30, 1,500."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.3g}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


def _log_axis(ax: Axes, which: str) -> None:
    """A log scale on `which` ("x" or "y") whose ticks are plain numbers at 1, 2, 5 × 10^k
    (1, 2, 3, 5 over a decade or so, every multiple over half a decade or less, powers of ten
    only over 4 decades)."""
    if which == "x":
        ax.set_xscale("log")
        low, high = ax.get_xlim()
        axis: Axis = ax.xaxis
    else:
        ax.set_yscale("log")
        low, high = ax.get_ylim()
        axis = ax.yaxis
    span = np.log10(high / low) if low > 0 and high > low else 1.0
    if span > 4:
        subs: tuple[float, ...] = (1.0,)
    elif span > 1.5:
        subs = (1.0, 2.0, 5.0)
    elif span > 0.5:
        subs = (1.0, 2.0, 3.0, 5.0)
    else:
        subs = tuple(float(i) for i in range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(float(i) for i in range(1, 10))))
    axis.set_minor_formatter(NullFormatter())


class PlainScalar(ScalarFormatter):
    """A linear axis's tick labels: the same decimals on every tick (ScalarFormatter's choice),
    thousands separators, no offset ("+2.3e7") and no scientific notation."""

    def __init__(self) -> None:
        super().__init__(useOffset=False)
        self.set_scientific(False)

    def __call__(self, x: float, pos: int | None = None) -> str:
        text = super().__call__(x, pos)
        return re.sub(r"^([−-]?)(\d{4,})", lambda m: f"{m[1]}{int(m[2]):,}", text)


def _plain_linear(figure: MplFigure) -> None:
    """`PlainScalar` on every axis still on matplotlib's default linear formatter."""
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if type(formatter) is ScalarFormatter:
                axis.set_major_formatter(PlainScalar())


def _sweep_ticks(ax: Axes, values: Sequence[float]) -> None:
    """The x ticks at exactly the swept values, as plain numbers."""
    ax.xaxis.set_major_locator(FixedLocator(sorted(set(values))))
    ax.xaxis.set_major_formatter(FuncFormatter(plain_number))
    ax.xaxis.set_minor_locator(NullLocator())


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
    _plain_linear(figure)
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
        if ax.has_data():
            _log_axis(ax, "x")
        ax.set_xlabel("latency (ms, log scale)")
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
        _log_axis(ax, "y")
        ax.set_xlabel(SWEEP_AXIS.get(sweep, sweep))
        ax.set_ylabel("latency (ms, log scale)")
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
        swept = [_f(r["sweep_value"]) for e in panels[key] for r in e[2]]
        if all(v > 0 for v in swept):
            ax.set_xscale("log")
        _sweep_ticks(ax, swept)
        ax.set_xlabel(SWEEP_AXIS.get(key[2], key[2]))
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
        "throughput (ok responses/s)",
        "Median over runs of each run's throughput (ok responses ÷ active time, each engine "
        "run from its first intended send to its last completion) against closed-loop users, "
        "with distribution-free intervals over runs.",
        sweep="users",
    )


def _timeline_cell(result: Aggregate) -> tuple[Cell, Requests] | None:
    """The cell with the most measured requests (then the most cold starts and errors): the one
    whose timeline has enough requests per time bin to draw percentiles."""
    cells = _cells(result)
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
    chosen = [(r, cell) for r in results if (cell := _timeline_cell(r)) is not None]
    if not chosen:
        return _empty("latency-time", title, "no aggregated cells")
    figure, axes = _subplots(len(chosen), 1, figsize=(9, 3.0 * len(chosen)), squeeze=False)
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
            _log_axis(ax, "y")
        ax.set_xlabel("seconds since the first intended send")
        ax.set_ylabel("latency (ms, log scale)")
        ax.set_title(
            f"{result.tree.manifest.campaign}: {cell.info.id} "
            f"({requests.count:,} requests, {plain_number(width)} s bins)",
            fontsize=9,
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    return _finish(
        "latency-time",
        title,
        "Each platform's cell with the most requests, by intended send time in bins of "
        + ", ".join(f"{plain_number(w)} s" for w in widths)
        + ": the median latency of the ok requests of each bin as a line, the 5th to 95th "
        "percentile as a band (where a bin holds enough of them); cold starts as triangles, "
        "errors as crosses at the time they failed.",
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


def _text_figure(fig_id: str, title: str, lines: Sequence[str], caption: str) -> Figure:
    """A figure that is a statement, not a plot: a plot of nothing would mislead."""
    figure, axes = _subplots(figsize=(6, 0.5 + 0.35 * len(lines)))
    axes.axis("off")
    axes.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", fontsize=12)
    figure.suptitle(title)
    png, svg = _render(figure)
    return Figure(fig_id, title, caption, png, svg, empty=False)


def _group_text(cell: Cell) -> str:
    info = cell.info
    label = f"{info.function} {info.mode}"
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
            sum(q.count for _, q in _cells(r)),
            sum(int((~q.ok).sum()) for _, q in _cells(r)),
        )
        for r in results
    }
    if not any(count for count, _ in totals.values()):
        return _empty(fig_id, title, "no aggregated cells")
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
        {str(n) for r in results for _, q in _cells(r) for n in _error_names(q) if n is not None}
    )
    palette = plt.get_cmap("Set1").colors
    class_colors = {c: palette[i % len(palette)] for i, c in enumerate(classes)}
    failing = [r for r in results if totals[r.tree.manifest.campaign][1]]
    figure, axes = _subplots(
        len(failing), 2, figsize=(11, 3.2 * len(failing)), squeeze=False, width_ratios=(1, 1.4)
    )
    for row, result in zip(axes, failing, strict=True):
        campaign = result.tree.manifest.campaign
        count, errors = totals[campaign]
        per_group: dict[str, tuple[int, dict[str, int]]] = {}
        times: list[np.ndarray] = []
        kinds: list[np.ndarray] = []
        for cell, requests in _cells(result):
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
    return _finish(
        fig_id,
        title,
        "Share of measured requests that failed, by error class: per group (left; a group with "
        "no bar had no errors) and over time (right), every cell's requests binned by the time "
        "since that cell's first intended send.",
        figure,
    )


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
    cells = sorted(_cells(result), key=lambda item: -item[1].count)
    timeline = _timeline_cell(result)
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
        return _empty("resources", title, "no metrics.json in any cell")
    names = sorted(
        {s.name for _, _, metrics in rows for s in metrics.series if s.points},
        key=lambda n: (list(METRIC_NAMES).index(n) if n in METRIC_NAMES else len(METRIC_NAMES), n),
    )
    figure, axes = _subplots(
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
    return _finish(
        "resources",
        title,
        "Resource series of metrics.json for the cell in the latency timeline (or, without "
        f"metrics there, the busiest cell that has them), one panel per metric: CPU in cores, "
        f"memory in MiB (working set), replicas; each series named by its pod, container or "
        f"node, at most {SHOWN_SERIES} per panel (the highest peaks), the others summed as "
        f'"other".',
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
