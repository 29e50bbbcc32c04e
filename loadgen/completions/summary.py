"""What asynchronous calls did, from submission to completion: the submissions' records joined
with the completions the receiver kept, by call id.

For each submission the engine recorded (warm-up excluded) and the platform accepted, the
completion latency is the time from its start (intended instant in an open loop, send in a
closed one, as for latency) to its callback's arrival; both instants are
CLOCK_MONOTONIC on this machine (the records relative to their run's epoch, the receiver
absolute), so no clock offset enters. A call accepted but never completed by the deadline is
`lost`: counted, never dropped. A completion whose function answered other than 2xx is
`failed`; one whose call id no submission of the run carries is `unmatched`.

In a closed loop of jobs (`loadgen.workload.jobs`) each user gave up on its call
`job_deadline_s` after the 202 (the records' header says how long) and moved on: a completion
later than that is `lost` too, whenever it arrived.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from loadgen.engine.options import CORRELATION_HEADERS
from loadgen.metrics.histogram import nearest_rank
from loadgen.metrics.summary import LatencyStats
from loadgen.record.format import FLAG_WARMUP
from loadgen.record.reader import RecordFile
from loadgen.results.completions import Completion

#: The status a platform answers when it has queued an asynchronous call.
ACCEPTED = 202


class CompletionSummary(BaseModel):
    """A run of asynchronous calls, counted from submission to completion."""

    model_config = ConfigDict(frozen=True)

    submitted: int
    accepted: int
    #: Submissions not accepted, by status (`"429"`) or error class (`"connect"`).
    refused: dict[str, int] = Field(default_factory=dict)
    completed: int
    failed: int
    lost: int
    unmatched: int
    deadline_s: float
    #: Accepted submissions, start → 202, where a request starts at its intended instant in an
    #: open loop and at its send in a closed one (as `Summary.latency_ms`).
    submission: LatencyStats | None = None
    #: Completed calls, start → completion (callback received, or activation ended).
    completion: LatencyStats | None = None
    #: Completed calls: completion latency less the platform's own call duration and the
    #: submission: time in the queue and delivering the callback.
    waiting: LatencyStats | None = None
    #: Completed calls per second, from the first send to the last completion.
    completion_rate: float
    #: Completions in each second after the first send (index 0: the first second).
    per_second: list[int] = Field(default_factory=list)
    cold: int = 0
    #: Closed-loop jobs: how long each user waited for its call's completion after the 202
    #: before submitting its next; None: submissions did not wait for completions.
    job_deadline_s: float | None = None


class _Submission:
    __slots__ = ("accept_ns", "give_up_ns", "send_ns", "start_ns")

    def __init__(
        self, start_ns: int, send_ns: int, accept_ns: int, give_up_ns: int | None = None
    ) -> None:
        self.start_ns, self.send_ns, self.accept_ns = start_ns, send_ns, accept_ns
        #: Jobs: when its user gave up waiting for it (a later completion is lost).
        self.give_up_ns = give_up_ns


@dataclass
class Joined:
    """Submissions joined with their completions (instants absolute CLOCK_MONOTONIC ns)."""

    submitted: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    lost: int = 0
    unmatched: int = 0
    cold: int = 0
    #: Completed calls: start → completion, ms, and when each completed.
    completion_ms: list[float] = field(default_factory=list)
    arrivals_ns: list[int] = field(default_factory=list)
    waiting_ms: list[float] = field(default_factory=list)
    submission_ms: list[float] = field(default_factory=list)
    first_start_ns: int = 0
    #: Every accepted call's acceptance (its 202, or its completion if that came first) and
    #: every joined completion's arrival, failed ones included: the backlog's two sides.
    accepted_ns: list[int] = field(default_factory=list)
    ended_ns: list[int] = field(default_factory=list)
    job_deadline_s: float | None = None


@dataclass
class Submissions:
    """A run's submissions as its records hold them, read once: what was accepted (by call id,
    instants absolute), what was refused, and the warm-up's call ids."""

    submitted: int = 0
    accepted: dict[str, _Submission] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    warmup: set[str] = field(default_factory=set)
    #: Warm-up calls the platform accepted: their completions are waited for too, so none
    #: arrives during a later run.
    warmup_accepted: set[str] = field(default_factory=set)
    #: Closed-loop jobs: how long each user waited after its 202 (None: not jobs).
    job_deadline_s: float | None = None

    def expected(self) -> set[str]:
        """Every accepted call id, warm-up included: the completions to wait for."""
        return set(self.accepted) | self.warmup_accepted


def read_submissions(record_paths: Iterable[Path]) -> Submissions:
    """The submissions in `record_paths` (one engine run or several: each file's instants are
    made absolute with its own epoch)."""
    read = Submissions()
    for path in record_paths:
        with RecordFile(path) as records:
            header = records.header
            epoch = header.monotonic_epoch_ns
            slot = _slot(header.capture_headers)
            open_loop = header.workload.get("kind") == "open"
            deadline = header.job_deadline_s
            if deadline is not None:
                read.job_deadline_s = deadline
            for record in records.records():
                call_id = _captured(record.captured, slot)
                accepted = record.ok and record.status == ACCEPTED
                if record.flags & FLAG_WARMUP:
                    if call_id:
                        read.warmup.add(call_id)
                        if accepted:
                            read.warmup_accepted.add(call_id)
                    continue
                read.submitted += 1
                if accepted and call_id:
                    start = record.intended_ns if open_loop else record.send_ns
                    accept = epoch + record.end_ns
                    give_up = None if deadline is None else accept + round(deadline * 1e9)
                    read.accepted[call_id] = _Submission(
                        epoch + start, epoch + record.send_ns, accept, give_up
                    )
                elif accepted:
                    read.refused["no call id"] += 1
                else:
                    read.refused[record.error_class or str(record.status)] += 1
    return read


def join(submissions: Submissions, completions: Iterable[Completion]) -> Joined:
    """`submissions` joined with `completions` by call id."""
    accepted = submissions.accepted
    joined = Joined(
        submitted=submissions.submitted,
        refused=Counter(submissions.refused),
        job_deadline_s=submissions.job_deadline_s,
    )
    by_id: dict[str, Completion] = {}
    late: set[str] = set()
    for completion in completions:
        call_id = completion.call_id
        if call_id in submissions.warmup:
            continue
        if call_id in accepted and call_id not in by_id and call_id not in late:
            give_up = accepted[call_id].give_up_ns
            if give_up is not None and completion.received_ns > give_up:
                late.add(call_id)  # its user had moved on: lost, as one never completed
            else:
                by_id[call_id] = completion
        else:
            joined.unmatched += 1
    ends = {call_id: c.received_ns for call_id, c in by_id.items()}
    joined.accepted_ns = [min(s.accept_ns, ends.get(i, s.accept_ns)) for i, s in accepted.items()]
    joined.ended_ns = list(ends.values())
    for call_id, completion in by_id.items():
        submission = accepted[call_id]
        status = completion.function_status
        if status is not None and not 200 <= status < 300:
            joined.failed += 1
            continue
        received = completion.received_ns
        joined.completion_ms.append((received - submission.start_ns) / 1e6)
        joined.arrivals_ns.append(received)
        if completion.duration_s is not None:
            joined.waiting_ms.append(
                (received - submission.accept_ns) / 1e6 - completion.duration_s * 1e3
            )
        joined.cold += completion.cold is True
    joined.accepted = len(accepted)
    joined.lost = len(accepted) - len(by_id)
    joined.submission_ms = [(s.accept_ns - s.start_ns) / 1e6 for s in accepted.values()]
    joined.first_start_ns = min((s.start_ns for s in accepted.values()), default=0)
    return joined


def summarize(
    submissions: Submissions, completions: Iterable[Completion], deadline_s: float
) -> CompletionSummary:
    """A run's `submissions` joined with `completions` (absolute CLOCK_MONOTONIC ns)."""
    joined = join(submissions, completions)
    first = joined.first_start_ns
    return CompletionSummary(
        submitted=joined.submitted,
        accepted=joined.accepted,
        refused=dict(sorted(joined.refused.items())),
        completed=len(joined.completion_ms),
        failed=joined.failed,
        lost=joined.lost,
        unmatched=joined.unmatched,
        deadline_s=deadline_s,
        submission=_stats(joined.submission_ms),
        completion=_stats(joined.completion_ms),
        waiting=_stats(joined.waiting_ms),
        completion_rate=completion_rate(joined),
        per_second=_per_second(joined.arrivals_ns, first),
        cold=joined.cold,
        job_deadline_s=joined.job_deadline_s,
    )


def backlog(joined: Joined) -> tuple[list[float], list[int]]:
    """Calls accepted but not yet completed over time, as the client saw them: a step series
    of (seconds since the first start, backlog from that instant on). A lost call stays in it."""
    events = sorted([(t, 1) for t in joined.accepted_ns] + [(t, -1) for t in joined.ended_ns])
    times: list[float] = []
    values: list[int] = []
    level = 0
    for instant, step in events:
        level += step
        seconds = (instant - joined.first_start_ns) / 1e9
        if times and times[-1] == seconds:
            values[-1] = level
        else:
            times.append(seconds)
            values.append(level)
    return times, values


def completion_rate(joined: Joined) -> float:
    """Completed calls per second, from the first start to the last completion."""
    last = max(joined.arrivals_ns, default=0)
    return _rate(len(joined.completion_ms), joined.first_start_ns, last)


def _slot(names: list[str]) -> int | None:
    """The capture slot of the call's id: OpenFaaS's `X-Call-Id`, else OpenWhisk's activation
    id (`CORRELATION_HEADERS`, in that order)."""
    lowered = [n.lower() for n in names]
    for name in CORRELATION_HEADERS:
        if name in lowered:
            return lowered.index(name)
    return None


def _captured(captured: tuple[tuple[int, bytes], ...], slot: int | None) -> str | None:
    if slot is None:
        return None
    for index, value in captured:
        if index == slot:
            return value.decode("utf-8", "replace").strip() or None
    return None


def _stats(values_ms: list[float]) -> LatencyStats | None:
    """Exact nearest-rank percentiles (ms), as `Summary`'s are to the histogram's resolution."""
    if not values_ms:
        return None
    ordered = np.sort(np.asarray(values_ms, dtype=float))
    count = len(ordered)

    def at(percent: float) -> float:
        return round(float(ordered[nearest_rank(percent, count) - 1]), 3)

    return LatencyStats(
        p50=at(50),
        p90=at(90),
        p95=at(95),
        p99=at(99),
        p999=at(99.9),
        max=round(float(ordered[-1]), 3),
        mean=round(float(ordered.mean()), 3),
    )


def _rate(completed: int, first_send_ns: int, last_completion_ns: int) -> float:
    span_s = (last_completion_ns - first_send_ns) / 1e9
    return round(completed / span_s, 3) if completed and span_s > 0 else 0.0


def _per_second(arrivals_ns: list[int], first_send_ns: int) -> list[int]:
    if not arrivals_ns:
        return []
    seconds = [max(0, (a - first_send_ns) // 1_000_000_000) for a in arrivals_ns]
    counts = Counter(seconds)
    return [counts.get(i, 0) for i in range(max(seconds) + 1)]
