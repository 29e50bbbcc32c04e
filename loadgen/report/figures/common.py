"""What every figure shares: the `Figure` it returns, rendering to PNG and SVG, the "no data"
figure, plain-number axes, the campaigns' colours and the cells with their requests."""

import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
    ScalarFormatter,
)

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.requests import Requests
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


def subplots(*args: int, **kwargs: object) -> tuple[MplFigure, Any]:
    """pyplot.subplots with constrained layout, so titles and labels never overlap."""
    return plt.subplots(*args, layout="constrained", **kwargs)


def as_float(value: object) -> float:
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


def log_axis(ax: Axes, which: str) -> None:
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


def sweep_ticks(ax: Axes, values: Sequence[float]) -> None:
    """The x ticks at exactly the swept values, as plain numbers."""
    ax.xaxis.set_major_locator(FixedLocator(sorted(set(values))))
    ax.xaxis.set_major_formatter(FuncFormatter(plain_number))
    ax.xaxis.set_minor_locator(NullLocator())


def render(figure: MplFigure) -> tuple[bytes, bytes]:
    png, svg = io.BytesIO(), io.BytesIO()
    with warnings.catch_warnings():
        # An empty "no data" panel has nothing for constrained layout to arrange; harmless.
        warnings.filterwarnings("ignore", message="constrained_layout not applied")
        figure.savefig(png, format="png", dpi=DPI, bbox_inches="tight")
        figure.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(figure)
    return png.getvalue(), svg.getvalue()


def finish(fig_id: str, title: str, caption: str, figure: MplFigure) -> Figure:
    _plain_linear(figure)
    figure.suptitle(title)
    png, svg = render(figure)
    return Figure(fig_id, title, caption, png, svg, empty=False)


def empty_figure(fig_id: str, title: str, why: str) -> Figure:
    figure, axes = subplots(figsize=(6, 1.6))
    axes.axis("off")
    axes.text(0.5, 0.5, f"No data: {why}", ha="center", va="center", fontsize=12)
    figure.suptitle(title)
    png, svg = render(figure)
    return Figure(fig_id, title, f"No data: {why}.", png, svg, empty=True)


def campaign_colors(results: Sequence[Aggregate]) -> dict[str, str]:
    palette = plt.get_cmap("tab10").colors
    return {
        r.tree.manifest.campaign: matplotlib.colors.to_hex(palette[i % len(palette)])
        for i, r in enumerate(results)
    }


def aggregated_cells(result: Aggregate) -> list[tuple[Cell, Requests]]:
    """Aggregated cells with their requests, in tree order."""
    return [
        (c, result.requests[c.info.id]) for c in result.tree.cells if c.info.id in result.requests
    ]
