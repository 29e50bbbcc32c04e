"""Opening and aggregating several results trees for `compare` and `report`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loadgen.cli.params import usage_error
from loadgen.cli.progress import step_progress
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
    """Aggregate each tree in memory, with progress over the groups of all of them."""
    from loadgen.analysis.aggregate import aggregate, complete_groups

    total = sum(len(complete_groups(tree)) for tree in trees)
    results = []
    try:
        with step_progress(f"{command}: group", total) as step:
            for tree in trees:
                campaign = tree.manifest.campaign
                results.append(
                    aggregate(
                        tree,
                        settings,
                        keep_requests=keep_requests,
                        on_group=lambda label, c=campaign: step(f"{c}: {label}"),
                    )
                )
    except ResultsError as exc:
        typer.echo(f"loadgen {command}: {exc}", err=True)
        raise typer.Exit(1) from None
    return results
