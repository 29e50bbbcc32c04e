"""The campaign loop's part for KEDA: the campaign file's `keda:` scaling handed to the
adapter, and the segments of `enqueue` experiments, which push jobs to the stack's queue
instead of sending requests (`loadgen.workload.enqueue`).

An enqueue segment leaves what a request segment leaves, so the analysis and the report read
it alike: one record file (`s<segment>-records-000.lgrec`), a record per job with its intended
push, its push (`send`) and its completion (`end`, from the consumer's record; status 200, 400
or 500 as the consumer reported; a lost job is error class `lost`), meta `{cold, instance}`;
and `s<segment>-queue.json`, the backlog / replicas / completions sampled over time. Its
summary holds the counts the campaign loop reads (`requests`, `ok`, `errors`, `latency_ms`:
enqueue → completion) and the loader's CPU share (`run_id`, `client_cpu`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from contract.outputs import StackOutputs
from loadgen.engine.errors import ERROR_NAMES, ErrorKind
from loadgen.experiments.cells import CellPlan, Segment
from loadgen.experiments.config import ExperimentConfig
from loadgen.platforms import FunctionSpec, KedaPlatform, Platform, PlatformError
from loadgen.record.format import RecordHeader, record_file_name
from loadgen.record.writer import RecordWriter
from loadgen.version import loadgen_version
from loadgen.workload.enqueue import EnqueueLoop, EnqueueResult, JobOutcome, run_enqueue

QUEUE_TIMELINE = "queue.json"


def configure(platform: Platform, config: ExperimentConfig) -> None:
    """Hand the file's `keda:` scaling to a KEDA adapter (others have none)."""
    if isinstance(platform, KedaPlatform) and config.keda is not None:
        platform.configure(config.keda)


def is_enqueue(cell: CellPlan) -> bool:
    return any(isinstance(segment.workload, EnqueueLoop) for segment in cell.segments)


def _record(writer: RecordWriter, job: JobOutcome) -> None:
    if job.lost:
        status, error, end = 0, int(ErrorKind.LOST), job.enqueued_ns
    else:
        assert job.end_ns is not None
        assert job.status is not None
        status, end = job.status, job.end_ns
        error = int(ErrorKind.NONE if status == 200 else ErrorKind.HTTP)
    meta = None
    if job.instance is not None:
        meta = json.dumps({"cold": job.cold, "instance": job.instance}).encode()
    writer.append(job.intended_ns, job.enqueued_ns, end, status, 0, error, 0, None, meta)


def write_records(
    path: Path, result: EnqueueResult, workload: EnqueueLoop, *, run_id: str, queue_url: str
) -> None:
    """The jobs as one record file; times are wall clock (epoch 0, anchor 0)."""
    start = min((j.intended_ns for j in result.jobs), default=time.time_ns())
    header = RecordHeader(
        run_id=run_id,
        process_index=0,
        processes=1,
        monotonic_epoch_ns=0,
        wall_anchor_ns=0,
        start_ns=start,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        loadgen_version=loadgen_version(),
        engine="enqueue",
        method="LPUSH",
        url=queue_url,
        # An open loop of jobs: analysed as open-loop requests (latency from the intended push).
        workload={**workload.model_dump(mode="json"), "kind": "open", "jobs": True},
        capture_headers=[],
        error_classes={int(code): name for code, name in ERROR_NAMES.items()},
    )
    writer = RecordWriter(path, header)
    for job in sorted(result.jobs, key=lambda j: j.intended_ns):
        _record(writer, job)
    end = max((j.end_ns or j.enqueued_ns for j in result.jobs), default=start)
    writer.close(warmup_records=0, dropped=0, end_ns=end, reason="completed")


def run_segment(
    platform: Platform,
    outputs: StackOutputs,
    cell: CellPlan,
    segment: Segment,
    index: int,
    records: Path,
    wait: Callable[[Coroutine[Any, Any, Any]], Any],
) -> dict[str, Any]:
    """Run one enqueue segment with the campaign loop's event loop (`wait`)."""
    workload = segment.workload
    assert isinstance(workload, EnqueueLoop)
    queue = outputs.keda.queue if outputs.keda is not None else None
    if queue is None:
        raise PlatformError("an enqueue experiment needs the stack's keda.queue output")
    spec = FunctionSpec(function=cell.function)
    replicas = None
    if isinstance(platform, KedaPlatform):
        keda = platform

        async def replicas() -> int | None:
            try:
                return await keda.replicas(spec)
            except PlatformError:
                return None  # one missed sample, not a failed cell

    run_id = f"{cell.id}-s{index:03d}"
    cpu, wall = time.process_time(), time.monotonic()
    try:
        result: EnqueueResult = wait(
            run_enqueue(
                queue.url,
                queue.password.get_secret_value(),
                spec.deployed_name,
                workload,
                params=dict(cell.params),
                run_id=run_id,
                replicas=replicas,
            )
        )
    except RedisError as exc:
        # The cell fails with the reason; redis-py's messages carry no password.
        raise PlatformError(f"the queue at {queue.url}: {type(exc).__name__}: {exc}") from None
    busy = (time.process_time() - cpu) / max(time.monotonic() - wall, 1e-9)
    write_records(
        records / f"s{index:03d}-{record_file_name(0)}", result, workload,
        run_id=run_id, queue_url=queue.url,
    )  # fmt: skip
    timeline = [sample.model_dump() for sample in result.samples]
    (records / f"s{index:03d}-{QUEUE_TIMELINE}").write_text(json.dumps({"samples": timeline}))
    summary = {**result.summary(), "run_id": run_id, "client_cpu": [round(busy, 4)]}
    return {"segment": index, "summary": summary}
