"""`loadgen compare`: platforms against the first one, per function and sweep point."""

from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.aggregate import LevelOption, settings_from_options
from loadgen.cli.campaigns import aggregate_all, open_trees
from loadgen.cli.params import make_output_dir, usage_error


def register(app: typer.Typer) -> None:
    app.command("compare", no_args_is_help=True)(compare_command)


def compare_command(
    results_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Campaign results directories; the first is the baseline.",
            metavar="RESULTS_DIR...",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Directory for the comparison files.")
    ] = Path("comparison"),
    alpha: Annotated[
        float, typer.Option("--alpha", help="Family-wise significance level (Holm).")
    ] = 0.05,
    level: LevelOption = 0.95,
) -> None:
    """Mann–Whitney U on per-run p50, p99 and throughput, Holm-corrected, with Cliff's delta."""
    if len(results_dirs) < 2:
        raise usage_error("RESULTS_DIR", "compare needs at least two results directories")
    if not 0 < alpha < 1:
        raise usage_error("--alpha", f"expected a level between 0 and 1, got {alpha}")
    if output.exists() and not output.is_dir():
        raise usage_error("--output", f"not a directory: {output}")
    settings = settings_from_options(level, 0.1)
    from loadgen.analysis.compare import compare
    from loadgen.analysis.compare_files import verdict_table, write_comparison

    trees = open_trees(results_dirs)
    names = [tree.manifest.campaign for tree in trees]
    if len(set(names)) != len(names):
        raise usage_error("RESULTS_DIR", f"campaign names must differ, got {', '.join(names)}")
    results = aggregate_all("compare", trees, settings)
    comparison = compare(results, alpha=alpha)
    make_output_dir(output)
    paths = write_comparison(comparison, output)
    header, body = verdict_table(comparison)
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    for warning in comparison.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"{len(comparison.tests)} tests written to {paths[0].parent}", err=True)
