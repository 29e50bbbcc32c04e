"""Progress on the terminal: over named steps (the groups of `aggregate`, the figures of `report`),
on stderr, and the live line `loadgen hit` shows while a run is in progress."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from loadgen.processes.counters import ProgressSnapshot

T = TypeVar("T")


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


class LiveProgress:
    """One transient line: elapsed time, current rate, p99 so far, errors, requests in flight."""

    def __init__(self, console: Console) -> None:
        self._live = Live(Text("starting…"), console=console, transient=True, auto_refresh=False)
        self._last_completed = 0
        self._last_elapsed = 0.0
        self._rate = 0.0

    def __enter__(self) -> "LiveProgress":
        self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._live.__exit__(exc_type, exc, traceback)

    def update(self, snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        interval = elapsed_s - self._last_elapsed
        if interval >= 0.2:
            self._rate = (snapshot.completed - self._last_completed) / interval
            self._last_completed = snapshot.completed
            self._last_elapsed = elapsed_s
        p99 = f"{snapshot.p99_us / 1000:.3f} ms" if snapshot.p99_us else "–"
        line = (
            f"{elapsed_s:7.1f} s  {snapshot.completed:>10,} done  {self._rate:>10,.0f}/s  "
            f"p99 {p99}  errors {snapshot.errors:,}  in flight {snapshot.inflight:,}"
        )
        if snapshot.dropped:
            line += f"  dropped {snapshot.dropped:,}"
        self._live.update(Text(line), refresh=True)


def run_with_live_progress(live: bool, run: Callable[..., T]) -> T:
    """`run()`; on a terminal (`live`) with the live line: `run(on_progress=...,
    live_percentiles=True)` inside `LiveProgress`."""
    if not live:
        return run()
    with LiveProgress(Console()) as progress:
        return run(on_progress=progress.update, live_percentiles=True)
