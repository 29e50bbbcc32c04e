"""A run of asynchronous calls around the engine: the receiver listens before the first
submission, every submission names it in `X-Callback-Url`, and after the last one the run waits
(up to a deadline) for the completions of every accepted call before summarizing."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from loadgen.completions.receiver import CallbackReceiver
from loadgen.completions.summary import CompletionSummary, read_submissions, summarize
from loadgen.engine import RequestSpec
from loadgen.record.reader import record_files

if TYPE_CHECKING:
    from loadgen.platforms.base import CompletionLookup

CALLBACK_HEADER = "X-Callback-Url"


class AsyncRun:
    """What the engine's run needs (the request with its callback, a records directory) and
    what finishes the measurement."""

    def __init__(self, receiver: CallbackReceiver, records_dir: Path) -> None:
        self.receiver = receiver
        self.records_dir = records_dir

    def request(self, request: RequestSpec) -> RequestSpec:
        """`request` with `X-Callback-Url` naming the receiver (replacing any given)."""
        headers = tuple(h for h in request.headers if h[0].lower() != CALLBACK_HEADER.lower())
        return request.model_copy(
            update={"headers": (*headers, (CALLBACK_HEADER, self.receiver.url))}
        )

    def finish(self, deadline_s: float, note: Callable[[str], None]) -> CompletionSummary:
        """Wait for the accepted calls' completions (at most `deadline_s`), then summarize.

        Closed-loop jobs are not waited for again: each user waited for its own call, up to the
        deadline, before the engine's run ended."""
        submissions = read_submissions(record_files(self.records_dir))
        expected = submissions.expected()
        missing = expected - {c.call_id for c in self.receiver.completions()}
        if missing and submissions.job_deadline_s is not None:
            note(f"{len(missing):,} accepted calls did not complete by the deadline: lost")
        elif missing:
            note(
                f"waiting up to {deadline_s:g} s for {len(missing):,} of {len(expected):,} "
                "completions"
            )
            missing = self.receiver.wait_for(expected, deadline_s)
            if missing:
                note(f"{len(missing):,} accepted calls did not complete by the deadline: lost")
        return summarize(submissions, self.receiver.completions(), deadline_s)


@contextmanager
def async_run(
    listen: tuple[str, int],
    advertise: str | None,
    records_dir: Path | None,
    lookup: CompletionLookup | None = None,
) -> Iterator[AsyncRun]:
    """The receiver up on `listen` for the run's length; records (and `completions.jsonl`) in
    `records_dir`, or in a temporary directory removed after; with `lookup`, waited-for calls
    are looked up on the platform (nothing calls back)."""
    with ExitStack() as stack:
        if records_dir is None:
            records_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="async-")))
        records_dir.mkdir(parents=True, exist_ok=True)
        receiver = stack.enter_context(
            CallbackReceiver(
                listen[0], listen[1], advertise=advertise, out_dir=records_dir, lookup=lookup
            )
        )
        yield AsyncRun(receiver, records_dir)
