"""`loadgen aggregate`: per-cell and per-group statistics of a campaign into RESULTS_DIR/summary.

The analysis (numpy, scipy) is imported when a command runs, so `loadgen --help` and every
other command start fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loadgen.cli.params import usage_error
from loadgen.cli.progress import step_progress
from loadgen.results.tree import ResultsError, open_results

if TYPE_CHECKING:
    from loadgen.analysis.aggregate import Settings
    from loadgen.analysis.caveats import GroupedWarning


def register(app: typer.Typer) -> None:
    app.command("aggregate", no_args_is_help=True)(aggregate_command)


def _echo_warnings(warnings: Sequence[GroupedWarning]) -> None:
    """Each warning once on stderr, then the cells or groups it concerns, one per line."""
    for warning in warnings:
        typer.echo(f"warning: {warning.message}", err=True)
        for subject, detail in warning.subjects:
            typer.echo(f"  {subject}" + (f": {detail}" if detail else ""), err=True)


def settings_from_options(level: float, precision: float) -> Settings:
    """Validated interval settings; shared with compare and report. The options are checked
    before the analysis (numpy, scipy) is imported, so a bad one fails at once."""
    if not 0 < level < 1:
        raise usage_error("--level", f"expected a confidence level between 0 and 1, got {level}")
    if not 0 < precision <= 1:
        raise usage_error(
            "--precision", f"expected a share above 0 and at most 1 such as 0.1, got {precision}"
        )
    from loadgen.analysis.aggregate import Settings

    return Settings(level=level, precision=precision)


LevelOption = Annotated[
    float, typer.Option("--level", help="Confidence level of intervals over runs.")
]
PrecisionOption = Annotated[
    float,
    typer.Option(
        "--precision", help="Warn when an interval's half-width exceeds this share of it."
    ),
]


def aggregate_command(
    results_dir: Annotated[
        Path,
        typer.Argument(
            help="Campaign results directory.", metavar="RESULTS_DIR", show_default=False
        ),
    ],
    level: LevelOption = 0.95,
    precision: PrecisionOption = 0.10,
) -> None:
    """Summarise every cell and group of runs: counts, errors, throughput, latency, CIs."""
    from loadgen.heartbeat import heartbeat

    with heartbeat(
        lambda s: f"aggregate: loading numpy, scipy and pyarrow ({s:.0f} s)",
        lambda line: typer.echo(line, err=True),
    ):
        settings = settings_from_options(level, precision)
        from loadgen.analysis.aggregate import aggregate, complete_groups
        from loadgen.analysis.outputs import write_outputs

    try:
        tree = open_results(results_dir)
    except ResultsError as exc:
        raise usage_error("RESULTS_DIR", str(exc)) from None
    try:
        with step_progress("aggregate: group", len(complete_groups(tree))) as step:
            result = aggregate(tree, settings, on_group=step)
    except ResultsError as exc:
        typer.echo(f"loadgen aggregate: {exc}", err=True)
        raise typer.Exit(1) from None
    paths = write_outputs(result, tree.summary_dir)
    _echo_warnings(result.warnings)
    groups = len(
        {(r["function"], r["mode"], r["sweep_value"]) for r in result.rows if r["level"] == "group"}
    )
    typer.echo(
        f"{groups} groups from {len(tree.cells) - len(result.skipped)} cells "
        f"({len(result.skipped)} skipped) written to {paths[0].parent}",
        err=True,
    )
