"""The live progress line `loadgen hit` shows while a run is in progress on a terminal."""

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.runner.progress import ProgressSnapshot


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
