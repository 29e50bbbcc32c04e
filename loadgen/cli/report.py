"""`loadgen report`: one self-contained HTML file with figures, tables and warnings."""

from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.aggregate import LevelOption, settings_from_options
from loadgen.cli.campaigns import aggregate_all, open_trees
from loadgen.cli.params import make_output_dir, usage_error
from loadgen.cli.progress import step_progress


def register(app: typer.Typer) -> None:
    app.command("report", no_args_is_help=True)(report_command)


def report_command(
    results_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Campaign results directories; the first is the comparison baseline.",
            metavar="RESULTS_DIR...",
            show_default=False,
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML file to write.")] = Path(
        "report.html"
    ),
    alpha: Annotated[
        float, typer.Option("--alpha", help="Family-wise significance level (Holm).")
    ] = 0.05,
    level: LevelOption = 0.95,
) -> None:
    """Figures (PNG and SVG beside the file), tables, manifests and warnings in one HTML file."""
    if not 0 < alpha < 1:
        raise usage_error("--alpha", f"expected a level between 0 and 1, got {alpha}")
    if output.is_dir():
        raise usage_error("--output", f"is a directory: {output}")
    settings = settings_from_options(level, 0.1)
    from loadgen.heartbeat import heartbeat
    from loadgen.report.fonts import build_font_cache

    def say(line: str) -> None:
        typer.echo(line, err=True)

    # matplotlib's first import may scan every font for a minute: say so rather than hang.
    build_font_cache(say)
    with heartbeat(lambda s: f"report: loading numpy, scipy and pyarrow ({s:.0f} s)", say):
        from loadgen.report.build import build_report, figures_dir
        from loadgen.report.figures import FIGURES

    trees = open_trees(results_dirs)
    names = [tree.manifest.campaign for tree in trees]
    if len(set(names)) != len(names):
        raise usage_error("RESULTS_DIR", f"campaign names must differ, got {', '.join(names)}")
    results = aggregate_all("report", trees, settings, keep_requests=True)
    make_output_dir(output.parent)
    with step_progress("report: figure", len(FIGURES)) as step:
        path, figures, _ = build_report(results, output, alpha=alpha, on_figure=step)
    empty = [f.title for f in figures if f.empty]
    if empty:
        typer.echo(f"figures without data: {', '.join(empty)}", err=True)
    typer.echo(f"report written to {path} (figures in {figures_dir(path)})", err=True)
