"""Live counters shared between workers and the coordinator without any messages.

Each worker owns one row of a shared int64 array and overwrites it about ten times a second;
the coordinator reads all rows for the progress line. No locks: a row is only ever written by
its worker, and a slightly stale read is fine for display.
"""

from dataclasses import dataclass
from multiprocessing.sharedctypes import RawArray
from typing import Any

FIELDS = ("sent", "completed", "ok", "errors", "dropped", "inflight", "p99_us")
_WIDTH = len(FIELDS)


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    sent: int
    completed: int
    ok: int
    errors: int
    dropped: int
    inflight: int
    p99_us: int
    """Highest per-process p99 (an upper bound on the run's p99); 0 when not computed."""


class ProgressBoard:
    def __init__(self, processes: int, array: Any | None = None) -> None:
        self.processes = processes
        self.array = array if array is not None else RawArray("q", processes * _WIDTH)

    def publish(
        self,
        index: int,
        sent: int,
        completed: int,
        ok: int,
        errors: int,
        dropped: int,
        inflight: int,
        p99_us: int,
    ) -> None:
        base = index * _WIDTH
        self.array[base : base + _WIDTH] = [
            sent,
            completed,
            ok,
            errors,
            dropped,
            inflight,
            p99_us,
        ]

    def snapshot(self) -> ProgressSnapshot:
        rows = [
            self.array[index * _WIDTH : (index + 1) * _WIDTH] for index in range(self.processes)
        ]
        totals = [sum(row[field] for row in rows) for field in range(_WIDTH - 1)]
        p99 = max((row[_WIDTH - 1] for row in rows), default=0)
        return ProgressSnapshot(*totals, p99)
