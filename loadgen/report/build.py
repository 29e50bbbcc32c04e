"""Putting a report together: aggregate, compare, draw, and write the HTML and figure files."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.compare import Comparison, compare
from loadgen.report.figures import all_figures
from loadgen.report.figures.common import Figure
from loadgen.report.html import render_report


def figures_dir(output: Path) -> Path:
    """Where the PNG and SVG files of `output` go: beside it, `<stem>-figures/`."""
    return output.with_name(f"{output.stem}-figures")


def build_report(
    results: Sequence[Aggregate],
    output: str | os.PathLike[str],
    *,
    alpha: float = 0.05,
    on_figure: Callable[[str], None] | None = None,
) -> tuple[Path, list[Figure], Comparison | None]:
    """Write the HTML file and every figure with data as PNG and SVG (one without data is a line
    of the page, no file); `results` must keep requests.
    `on_figure` gets each figure's function name as it starts (for progress)."""
    path = Path(output)
    comparison = compare(results, alpha=alpha) if len(results) > 1 else None
    figures = all_figures(results, on_figure)
    directory = figures_dir(path)
    directory.mkdir(parents=True, exist_ok=True)
    for figure in figures:
        if figure.empty:  # and no file left from an earlier report that had its data
            for suffix in ("png", "svg"):
                (directory / f"{figure.id}.{suffix}").unlink(missing_ok=True)
            continue
        (directory / f"{figure.id}.png").write_bytes(figure.png)
        (directory / f"{figure.id}.svg").write_bytes(figure.svg)
    path.write_text(render_report(results, comparison, figures), encoding="utf-8")
    return path, figures, comparison
