"""A segment of asynchronous calls (`invocation: async`): the engine submits, then each accepted
call is followed to its completion the way the platform tells it.

- `callback` platforms (OpenFaaS, the local target): a receiver listens for the segment's length
  and every submission names it in `X-Callback-Url`; after the last submission the segment waits
  up to the experiment's `completion_deadline_s` for the rest.
- `listing` platforms (OpenWhisk): after the last submission the platform's activation records
  are listed, at a bounded rate, until every accepted call's has appeared or the deadline passes.

Either way the segment's `completions.jsonl` sits beside its records and its summary gets a
`completions` entry (`CompletionSummary`); a listing's cost goes in `listing`.

A closed loop (users, replicas, autoscaling) keeps N outstanding jobs, not N submissions: each
user waits for its call's completion (the receiver's `wait_url`) before its next submission,
giving up on it `completion_deadline_s` after its 202 (`loadgen.workload.jobs`). On a listing
platform nothing calls back: the receiver, on loopback, looks each waited-for call up on the
platform (`CompletionLookup`, at a bounded rate) instead, and what that cost goes in `listing`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from loadgen.completions.run import async_run
from loadgen.completions.summary import CompletionSummary, read_submissions, summarize
from loadgen.engine import RequestSpec
from loadgen.platforms.base import FunctionSpec, Platform
from loadgen.processes.coordinator import RunResult
from loadgen.record.reader import record_files
from loadgen.results.completions import COMPLETIONS_FILE
from loadgen.workload.jobs import JobWait

T = TypeVar("T")


@dataclass(frozen=True)
class CallbackSettings:
    """Where the campaign's callback receiver listens, and the URL platforms are given."""

    listen: tuple[str, int] = ("127.0.0.1", 0)
    url: str | None = None


@dataclass(frozen=True)
class AsyncSegment:
    result: RunResult
    completions: CompletionSummary
    #: What listing the platform's records cost (listing platforms only).
    listing: dict[str, Any] | None = None


def run_async_segment(
    platform: Platform,
    function: FunctionSpec,
    request: RequestSpec,
    out: Path,
    deadline_s: float,
    closed_jobs: bool,
    run: Callable[[RequestSpec, Path, JobWait | None], RunResult],
    await_: Callable[[Coroutine[Any, Any, T]], T],
    callback: CallbackSettings,
    note: Callable[[str], None],
) -> AsyncSegment:
    """Submit with `run` (the engine, records into `out`; with `closed_jobs`, its closed loop
    as jobs), then collect the completions."""
    source = platform.limits().completions
    if source == "callback":
        out.mkdir(parents=True, exist_ok=True)
        with async_run(callback.listen, callback.url, out) as measured:
            jobs = None
            if closed_jobs:
                jobs = JobWait(
                    url=measured.receiver.wait_url,
                    call_id_header=platform.capture_header,
                    deadline_s=deadline_s,
                )
            result = run(measured.request(request), out, jobs)
            completions = measured.finish(deadline_s, note)
        return AsyncSegment(result, completions)
    if closed_jobs:
        lookup = platform.completion_lookup()
        if lookup is None:
            raise ValueError(f"{platform!r} lists completions but cannot look one up")
        out.mkdir(parents=True, exist_ok=True)
        with async_run(("127.0.0.1", 0), None, out, lookup) as measured:
            jobs = JobWait(
                url=measured.receiver.wait_url,
                call_id_header=platform.capture_header,
                deadline_s=deadline_s,
            )
            result = run(request, out, jobs)
            completions = measured.finish(deadline_s, note)
            stats = measured.receiver.lookup_stats()
        return AsyncSegment(result, completions, stats.model_dump() if stats else None)
    since_ns = time.time_ns()
    result = run(request, out, None)
    submissions = read_submissions(record_files(out))
    expected = submissions.expected()
    note(f"following {len(expected):,} asynchronous calls to their end (listing)")
    found, stats = await_(platform.poll_completions(function, expected, since_ns, deadline_s))
    with (out / COMPLETIONS_FILE).open("w", encoding="utf-8") as handle:
        for completion in found:
            handle.write(completion.model_dump_json() + "\n")
    completions = summarize(submissions, found, deadline_s)
    if completions.lost:
        note(f"{completions.lost:,} accepted calls did not complete by the deadline: lost")
    return AsyncSegment(result, completions, stats.model_dump())
