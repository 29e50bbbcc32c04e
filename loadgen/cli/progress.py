"""Progress over named steps (the groups of `aggregate`, the figures of `report`), on stderr."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def step_progress(what: str, total: int) -> Iterator[Callable[[str], None]]:
    """Yields `step(name)`, to call as each of `total` steps starts.

    On a terminal a bar shows how many steps are done, the time so far and the step under way,
    and vanishes when done; elsewhere (a pipe, a log file) each step prints one line,
    `what i/total: name`, so a slow step never looks like a hang either way.
    """
    console = Console(stderr=True)
    if not console.is_terminal:
        started = 0

        def line(name: str) -> None:
            nonlocal started
            started += 1
            print(f"{what} {started}/{total}: {name}", file=sys.stderr, flush=True)

        yield line
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[step]}"),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task(what, total=total, step="")
        started = 0

        def advance(name: str) -> None:
            nonlocal started
            progress.update(task, completed=started, step=name)
            started += 1

        yield advance
