"""`synthetic`: a stand-in for a function of a production trace. Each call draws an execution
time from the trace's duration percentiles, holds `memory_mb` MiB allocated and touched, and
keeps a CPU busy (or sleeps) until the drawn time has passed since the call began.

The draw inverts the piecewise-linear CDF through the points (0, p0), (0.01, p1),
(0.25, p25), (0.5, p50), (0.75, p75), (0.99, p99), (1, p100): a uniform u in [0, 1) falls
between two quantiles and the time is interpolated between their values. u comes from
`random.Random` seeded with (`seed`, the call's index): `call` when given, else this
instance's own count of calls (0, 1, 2, ...), so a seed replays the same sequence of
durations in every instance, and a call with an explicit index always draws the same time.

`mode: spin` (the default) busy-loops: the Azure trace's execution time is time the function
ran, which on a real platform occupies its CPU share; `sleep` holds the memory but leaves the
CPU idle (an I/O-bound function). The memory is allocated before the clock's deadline is
checked, so a call never ends before the allocation is done.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Mapping
from typing import Any

from ._params import FloatParam, IntParam, ParamError, TextParam

#: Below the platforms' 5-minute function timeout, with room for queueing (as `sleep`).
MAX_MS = 240_000.0
#: The most memory one call holds: Azure's application memory percentiles stay below this for
#: all but a handful of applications, and a container sized for it is still schedulable.
MAX_MEMORY_MB = 4096
MAX_SEED = 2**63 - 1
#: Quantiles of the trace's duration percentiles, in the order the parameters list them.
QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.75, 0.99, 1.0)
PERCENTILE_NAMES = ("0", "1", "25", "50", "75", "99", "100")
PERCENTILES = tuple(FloatParam(f"p{name}_ms", 100.0, 0.0, MAX_MS) for name in PERCENTILE_NAMES)
MEMORY_MB = IntParam("memory_mb", 0, 0, MAX_MEMORY_MB)
SEED = IntParam("seed", 0, 0, MAX_SEED)
CALL = IntParam("call", -1, -1, MAX_SEED)
MODE = TextParam("mode", default="spin", choices=("spin", "sleep"))
PARAMS = (*PERCENTILES, MEMORY_MB, SEED, CALL, MODE)

PAGE = 4096
MIB = 1024 * 1024


class _Counter:
    """This instance's calls so far (thread-safe: the HTTP adapter serves calls in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def take(self) -> int:
        with self._lock:
            index = self._next
            self._next += 1
            return index


_CALLS = _Counter()


def percentiles(params: Mapping[str, Any]) -> tuple[float, ...]:
    """The seven percentile points in milliseconds, checked to never decrease."""
    values = tuple(param.read(params) for param in PERCENTILES)
    for index in range(1, len(values)):
        low, high = values[index - 1], values[index]
        if high < low:
            raise ParamError(
                f"{PERCENTILES[index].name} ({high:g}) must not be below "
                f"{PERCENTILES[index - 1].name} ({low:g}): percentiles never decrease"
            )
    return values


def draw_ms(values: tuple[float, ...], seed: int, call: int) -> float:
    """The duration of call `call` under `seed`: the inverse of the piecewise-linear CDF."""
    u = random.Random(f"synthetic/{seed}/{call}").random()
    upper = max(1, bisect.bisect_right(QUANTILES, u))
    upper = min(upper, len(QUANTILES) - 1)
    q0, q1 = QUANTILES[upper - 1], QUANTILES[upper]
    v0, v1 = values[upper - 1], values[upper]
    return v0 + (v1 - v0) * (u - q0) / (q1 - q0)


def hold_memory(mib: int) -> bytearray:
    """`mib` MiB allocated and every page written, so it is resident, not just reserved."""
    block = bytearray(mib * MIB)
    block[::PAGE] = b"\x01" * len(range(0, len(block), PAGE))
    return block


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    values = percentiles(params)
    memory_mb = MEMORY_MB.read(params)
    seed = SEED.read(params)
    call = CALL.read(params)
    mode = MODE.read(params)
    start = time.perf_counter_ns()
    index = call if call >= 0 else _CALLS.take()
    duration_ms = draw_ms(values, seed, index)
    deadline = start + round(duration_ms * 1e6)
    block = hold_memory(memory_mb)
    if mode == "sleep":
        remaining = deadline - time.perf_counter_ns()
        if remaining > 0:
            time.sleep(remaining / 1e9)
    else:
        spins = 0
        while time.perf_counter_ns() < deadline:
            spins += 1
    touched = len(block) // MIB
    del block
    return {
        "call": index,
        "seed": seed,
        "mode": mode,
        "duration_ms": round(duration_ms, 3),
        "ran_ms": round((time.perf_counter_ns() - start) / 1e6, 3),
        "memory_mb": touched,
    }
