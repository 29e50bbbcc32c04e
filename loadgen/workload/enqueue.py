"""The enqueue workload: an open loop of jobs pushed to a queue, and what became of each.

KEDA's queue mode scales consumers on a queue's length, not on requests: the loader offers
jobs at scheduled instants (constant or Poisson, as the open loop's requests), whatever the
consumers do, and reads the completion records consumers write (`contract.keda.Completion`).
Per job it keeps when it was meant to go, when it was pushed and how long the push took, and,
from its completion record, when a consumer took it and finished it. A job with no record
once the loop has drained (`drain_s` after the last push, or sooner when every job is done)
is lost, and counted so.

While the loop runs, a sampler records the backlog (the list's length), the function's replicas
(`replicas`, the platform's word) and the completions so far, every `sample_interval_s`: the
backlog / replicas / completion-latency-over-time view that shows "scale on events".

Times are wall-clock nanoseconds (`time.time_ns()`): the consumers' records are, too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError

from contract.keda import Completion, Job, completions_key, jobs_key
from loadgen.bounds import Rate, Seconds, Seed
from loadgen.workload.schedule import NS_PER_S, constant_offsets, poisson_offsets

#: How long the end of a run waits for its reader and sampler to stop and its client to close.
TEARDOWN_S = 5.0

Replicas = Callable[[], Awaitable[int | None]]


class EnqueueLoop(BaseModel):
    """Jobs at `rate` per second for `duration_s`, then up to `drain_s` for their completion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["enqueue"] = "enqueue"
    rate: Rate
    duration_s: Seconds
    arrival: Literal["constant", "poisson"] = "poisson"
    seed: Seed = 0
    drain_s: float = Field(120.0, ge=0, le=3600)
    sample_interval_s: float = Field(1.0, gt=0, le=60)


class JobOutcome(BaseModel):
    """One job: its schedule, its push and, when a consumer recorded it, its completion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    intended_ns: int
    enqueued_ns: int
    enqueue_ms: float = Field(description="the push's round trip")
    start_ns: int | None = None
    end_ns: int | None = None
    instance: str | None = None
    cold: bool | None = None
    status: int | None = None
    error: str | None = None
    lost: bool = False

    @property
    def completion_ms(self) -> float | None:
        """Enqueue → completion: from the push to the consumer's end."""
        return None if self.end_ns is None else (self.end_ns - self.enqueued_ns) / 1e6

    @property
    def wait_ms(self) -> float | None:
        """Time in the queue: from the push to a consumer taking it."""
        return None if self.start_ns is None else (self.start_ns - self.enqueued_ns) / 1e6


class Sample(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    t_ns: int
    backlog: int
    replicas: int | None
    completed: int


class EnqueueResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jobs: list[JobOutcome]
    samples: list[Sample]
    #: Completion records of no job of this run (a previous run's, or foreign): ignored.
    unexpected: int = 0

    def summary(self) -> dict[str, object]:
        """The counts and percentiles a cell's summary holds (`requests`, `ok`, `errors`,
        `latency_ms` read as for the other workloads: here enqueue → completion)."""
        done = [j for j in self.jobs if not j.lost]
        ok = [j for j in done if j.status == 200]
        return {
            "requests": len(self.jobs),
            "ok": len(ok),
            "errors": {
                "lost": sum(j.lost for j in self.jobs),
                "failed": len(done) - len(ok),
            },
            "latency_ms": percentiles([j.completion_ms for j in ok]),
            "wait_ms": percentiles([j.wait_ms for j in ok]),
            "enqueue_ms": percentiles([j.enqueue_ms for j in self.jobs]),
            "cold": sum(bool(j.cold) for j in done),
            "max_backlog": max((s.backlog for s in self.samples), default=0),
            "max_replicas": max((s.replicas or 0 for s in self.samples), default=0),
            "unexpected": self.unexpected,
        }


def percentiles(values: list[float | None]) -> dict[str, float | None]:
    """p50, p90, p99 and max (nearest rank); None for no values."""
    ordered = sorted(v for v in values if v is not None)

    def rank(q: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 3)

    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": rank(1.0)}


def offsets(workload: EnqueueLoop) -> Iterator[int]:
    """The push instants, ns from the start (one process: the loop is one sender)."""
    schedule = (
        constant_offsets(workload.rate)
        if workload.arrival == "constant"
        else poisson_offsets(workload.rate, workload.seed)
    )
    end_ns = round(workload.duration_s * NS_PER_S)
    return itertools.takewhile(lambda offset: offset < end_ns, schedule)


class _Run:
    def __init__(self, client: aioredis.Redis, key: str, workload: EnqueueLoop) -> None:
        self.client, self.workload = client, workload
        self.jobs_key, self.done_key = jobs_key(key), completions_key(key)
        self.pushed: dict[str, dict[str, object]] = {}
        self.completed: dict[str, Completion] = {}
        self.unexpected = 0
        self.samples: list[Sample] = []
        self.sending = True

    async def send(self, params: dict[str, object], run_id: str) -> None:
        start = time.monotonic_ns()
        for index, offset in enumerate(offsets(self.workload)):
            delay = (start + offset - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            intended = time.time_ns() - (time.monotonic_ns() - start - offset)
            job = Job(id=f"{run_id}-{index}", params=params, enqueued_ns=time.time_ns())
            sent = time.perf_counter_ns()
            await self.client.lpush(self.jobs_key, job.model_dump_json())
            self.pushed[job.id] = {
                "intended_ns": intended,
                "enqueued_ns": job.enqueued_ns,
                "enqueue_ms": round((time.perf_counter_ns() - sent) / 1e6, 3),
            }
        self.sending = False

    async def read(self) -> None:
        while True:
            reply = await self.client.blpop([self.done_key], timeout=0.5)
            if reply is None:
                continue
            try:
                record = Completion.model_validate(json.loads(reply[1]))
            except (ValueError, ValidationError):
                self.unexpected += 1
                continue
            if record.id in self.pushed and record.id not in self.completed:
                self.completed[record.id] = record
            else:
                self.unexpected += 1

    async def sample_once(self, replicas: Replicas | None) -> None:
        backlog = int(await self.client.llen(self.jobs_key))
        count = None if replicas is None else await replicas()
        self.samples.append(
            Sample(
                t_ns=time.time_ns(), backlog=backlog, replicas=count, completed=len(self.completed)
            )
        )

    async def sample(self, replicas: Replicas | None) -> None:
        while True:
            await self.sample_once(replicas)
            await asyncio.sleep(self.workload.sample_interval_s)

    def outcome(self) -> EnqueueResult:
        jobs = []
        for job_id, pushed in self.pushed.items():
            record = self.completed.get(job_id)
            fields = dict(pushed)
            if record is None:
                fields["lost"] = True
            else:
                fields.update(
                    start_ns=record.start_ns,
                    end_ns=record.end_ns,
                    instance=record.instance,
                    cold=record.cold,
                    status=record.status,
                    error=record.error,
                )
            jobs.append(JobOutcome(id=job_id, **fields))  # type: ignore[arg-type]
        return EnqueueResult(jobs=jobs, samples=self.samples, unexpected=self.unexpected)


async def run_enqueue(
    url: str,
    password: str | None,
    key: str,
    workload: EnqueueLoop,
    *,
    params: dict[str, object],
    run_id: str,
    replicas: Replicas | None = None,
) -> EnqueueResult:
    """Offer `workload`'s jobs to function `key`'s queue at `url` and wait for them.

    Both lists are emptied first: jobs left by an earlier run would be taken before this run's,
    and their records would not be this run's."""
    client = aioredis.Redis.from_url(url, password=password, socket_timeout=30)
    run = _Run(client, key, workload)
    try:
        await client.delete(run.jobs_key, run.done_key)
        tasks = [
            asyncio.create_task(run.read()),
            asyncio.create_task(run.sample(replicas)),
        ]
        try:
            await run.send(params, run_id)
            deadline = time.monotonic() + workload.drain_s
            while len(run.completed) < len(run.pushed) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            # A Redis call interrupted mid-reply must not hold the run: what it was doing no
            # longer matters, so the wait for the tasks to end is bounded.
            await asyncio.wait(tasks, timeout=TEARDOWN_S)
            for task in tasks:
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved: a failure after cancel is not this run's
        # The samples end with the run's final state, not the sampler's last tick before it.
        with contextlib.suppress(TimeoutError, RedisError, OSError):
            await asyncio.wait_for(run.sample_once(replicas), TEARDOWN_S)
        return run.outcome()
    finally:
        with contextlib.suppress(TimeoutError, RedisError, OSError):
            await asyncio.wait_for(client.aclose(), TEARDOWN_S)
