"""A rich progress bar over the cells of a results tree, on stderr."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loadgen.results.tree import Cell


@contextmanager
def cell_progress(description: str, total: int) -> Iterator[Callable[[Cell], None]]:
    """Yields a callback that advances the bar by one cell; the bar vanishes when done."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def advance(_cell: Cell) -> None:
            progress.advance(task)

        yield advance
