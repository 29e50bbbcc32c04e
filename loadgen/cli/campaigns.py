"""Opening and aggregating several results trees for `compare` and `report`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loadgen.cli.params import usage_error
from loadgen.cli.progress import cell_progress
from loadgen.results.tree import ResultsError, ResultsTree, open_results

if TYPE_CHECKING:
    from loadgen.analysis.aggregate import Aggregate, Settings


def open_trees(directories: Sequence[Path]) -> list[ResultsTree]:
    """Every tree, or a usage error naming the first directory that is not one."""
    trees = []
    for directory in directories:
        try:
            trees.append(open_results(directory))
        except ResultsError as exc:
            raise usage_error("RESULTS_DIR", str(exc)) from None
    return trees


def aggregate_all(
    command: str, trees: Sequence[ResultsTree], settings: Settings, *, keep_requests: bool = False
) -> list[Aggregate]:
    """Aggregate each tree in memory, with one progress bar over all their cells."""
    from loadgen.analysis.aggregate import aggregate

    total = sum(len(tree.cells) for tree in trees)
    results = []
    try:
        with cell_progress("reading cells", total) as advance:
            for tree in trees:
                results.append(
                    aggregate(tree, settings, keep_requests=keep_requests, on_cell=advance)
                )
    except ResultsError as exc:
        typer.echo(f"loadgen {command}: {exc}", err=True)
        raise typer.Exit(1) from None
    return results
