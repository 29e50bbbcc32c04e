"""A cell's records as numpy columns, joined with what the function and the platform reported.

Times follow the definitions in `loadgen.metrics.summary`: latency is end - intended in an open
loop and end - send in a closed loop, service is end - send, and only measured requests count
(warm-up and dropped arrivals are kept apart, exactly as `loadgen hit` does).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from loadgen.engine.errors import ErrorKind
from loadgen.engine.options import CORRELATION_HEADERS
from loadgen.record.format import FLAG_WARMUP
from loadgen.record.reader import RecordFile
from loadgen.results.models import PlatformRecord

UNKNOWN, WARM, COLD = -1, 0, 1
"""Values of the cold-start columns: not reported, warm, cold."""


@dataclass(frozen=True)
class EngineRun:
    """One engine run of a cell (its record files share a `run_id`): a segment's active span."""

    run_id: str
    first_intended_ns: int
    """Absolute CLOCK_MONOTONIC ns of its first measured intended send."""
    last_end_ns: int
    """...and of its last measured completion."""
    requests: int


@dataclass(frozen=True)
class Requests:
    """Measured requests of one run, ordered by intended send time."""

    open_loop: bool
    intended_ns: npt.NDArray[np.int64]
    """Absolute CLOCK_MONOTONIC ns of the loader host."""
    send_ns: npt.NDArray[np.int64]
    end_ns: npt.NDArray[np.int64]
    wall_offset_ns: int
    """Add to a monotonic instant to get Unix epoch ns."""
    ok: npt.NDArray[np.bool_]
    error: npt.NDArray[np.object_]
    """Error class per request (None when ok)."""
    meta_cold: npt.NDArray[np.int8]
    platform_cold: npt.NDArray[np.int8]
    instance: npt.NDArray[np.object_]
    platform_index: npt.NDArray[np.int64]
    """Index into `platform` of the platform record with the same correlation id, or -1."""
    ids: npt.NDArray[np.object_]
    """The correlation id each request captured (None when it captured none)."""
    platform: tuple[PlatformRecord, ...]
    dropped: int
    warmup: int
    torn_files: tuple[str, ...]
    engine_runs: tuple[EngineRun, ...] = ()
    """The engine runs with measured requests, by first intended send: the intervals during
    which the loader was sending (a cell of several segments has gaps between them)."""

    @property
    def count(self) -> int:
        return int(self.intended_ns.size)

    @property
    def latency_ns(self) -> npt.NDArray[np.int64]:
        start = self.intended_ns if self.open_loop else self.send_ns
        return self.end_ns - start

    @property
    def service_ns(self) -> npt.NDArray[np.int64]:
        return self.end_ns - self.send_ns

    @property
    def sched_lag_ns(self) -> npt.NDArray[np.int64]:
        if not self.open_loop:
            return np.zeros(self.count, dtype=np.int64)
        return self.send_ns - self.intended_ns

    @property
    def cold(self) -> npt.NDArray[np.int8]:
        """The function's own report where it gave one, else the platform's."""
        return np.where(self.meta_cold != UNKNOWN, self.meta_cold, self.platform_cold).astype(
            np.int8
        )


def _cold_value(value: object) -> int:
    if value is True:
        return COLD
    if value is False:
        return WARM
    return UNKNOWN


def load_requests(paths: Sequence[Path], platform: Sequence[PlatformRecord] = ()) -> Requests:
    """Read every record file of one run (one file per loader process) into columns."""
    by_id = {record.id: index for index, record in enumerate(platform)}
    intended: list[int] = []
    send: list[int] = []
    end: list[int] = []
    errors: list[str | None] = []
    meta_cold: list[int] = []
    platform_cold: list[int] = []
    instances: list[object] = []
    platform_index: list[int] = []
    ids: list[str | None] = []
    dropped = warmup = 0
    open_loop = False
    wall_offset: int | None = None
    torn: list[str] = []
    dropped_kind = int(ErrorKind.DROPPED)
    spans: dict[str, list[int]] = {}
    """run_id -> [first intended, last end, measured requests]."""
    for path in paths:
        with RecordFile(path) as record_file:
            header = record_file.header
            first_of_file = len(intended)
            open_loop = header.workload.get("kind") == "open"
            epoch = header.monotonic_epoch_ns
            if wall_offset is None:
                wall_offset = header.wall_anchor_ns - epoch
            slots = [
                slot
                for slot, name in enumerate(header.capture_headers)
                if name.lower() in CORRELATION_HEADERS
            ]
            for record in record_file.records():
                if record.flags & FLAG_WARMUP:
                    warmup += 1
                    continue
                if record.error == dropped_kind:
                    dropped += 1
                    continue
                intended.append(record.intended_ns + epoch)
                send.append(record.send_ns + epoch)
                end.append(record.end_ns + epoch)
                errors.append(record.error_class)
                meta: dict[str, object] = {}
                if record.meta:
                    try:
                        decoded = json.loads(record.meta)
                    except ValueError:
                        decoded = None
                    if isinstance(decoded, dict):
                        meta = decoded
                meta_cold.append(_cold_value(meta.get("cold")))
                instances.append(meta.get("instance"))
                match = -1
                call_id: str | None = None
                captured = dict(record.captured)
                for slot in slots:
                    value = captured.get(slot)
                    if value is not None:
                        call_id = value.decode("latin-1")
                        match = by_id.get(call_id, -1)
                        if match >= 0:
                            break
                platform_index.append(match)
                ids.append(call_id)
                platform_cold.append(_cold_value(platform[match].cold) if match >= 0 else UNKNOWN)
            if len(intended) > first_of_file:
                start = min(intended[first_of_file:])
                finish = max(end[first_of_file:])
                span = spans.setdefault(header.run_id, [start, finish, 0])
                span[0] = min(span[0], start)
                span[1] = max(span[1], finish)
                span[2] += len(intended) - first_of_file
            if not record_file.complete:
                torn.append(path.name)
    order = np.argsort(np.asarray(intended, dtype=np.int64), kind="stable")
    error_array = np.empty(len(errors), dtype=object)
    error_array[:] = errors
    instance_array = np.empty(len(instances), dtype=object)
    instance_array[:] = instances
    id_array = np.empty(len(ids), dtype=object)
    id_array[:] = ids
    return Requests(
        open_loop=open_loop,
        intended_ns=np.asarray(intended, dtype=np.int64)[order],
        send_ns=np.asarray(send, dtype=np.int64)[order],
        end_ns=np.asarray(end, dtype=np.int64)[order],
        wall_offset_ns=wall_offset or 0,
        ok=np.asarray([e is None for e in errors], dtype=bool)[order],
        error=error_array[order],
        meta_cold=np.asarray(meta_cold, dtype=np.int8)[order],
        platform_cold=np.asarray(platform_cold, dtype=np.int8)[order],
        instance=instance_array[order],
        platform_index=np.asarray(platform_index, dtype=np.int64)[order],
        ids=id_array[order],
        platform=tuple(platform),
        dropped=dropped,
        warmup=warmup,
        torn_files=tuple(torn),
        engine_runs=tuple(
            sorted(
                (
                    EngineRun(run_id, first, last, count)
                    for run_id, (first, last, count) in spans.items()
                ),
                key=lambda run: (run.first_intended_ns, run.run_id),
            )
        ),
    )
