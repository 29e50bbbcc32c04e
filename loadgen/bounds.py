"""The numbers a run takes, each with the bounds a real run can honour: one set of types for
campaign files (`loadgen.experiments.config`), the workload models (`loadgen.workload.spec`),
the engine's options and `loadgen hit`.

Every type is strict: a boolean is never a number (`requests: true` is refused, not 1), a
string is never a number, a float is never an integer, and infinities and NaN are refused.
The bounds keep every derived quantity finite (nanosecond offsets, schedules, connection and
process counts) and every run finite in time; docs/experiments.md ("Limits and bad inputs")
lists them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: One day: the longest measured duration, inactivity or delay anything may ask for.
MAX_DURATION_S = 86_400.0
#: Shorter than this a run measures nothing but its own start.
MIN_DURATION_S = 0.1
MAX_WARMUP_S = 3_600.0
MIN_TIMEOUT_S = 0.01
MAX_TIMEOUT_S = 3_600.0
MIN_RATE = 0.001
"""Arrivals per second: one every 1,000 s at the least."""
MAX_RATE = 1_000_000.0
MAX_USERS = 100_000
MAX_REQUESTS = 1_000_000_000
MAX_INFLIGHT = 100_000
MAX_SEED = 2**64 - 1
"""Seeds are 64-bit (the schedule derives its own from a hash)."""
#: Worker processes per core at most (each is an event loop that wants a core to itself).
PROCESSES_PER_CORE = 4
MAX_PROCESSES = 256

Seconds = Annotated[
    float,
    Field(strict=True, allow_inf_nan=False, ge=MIN_DURATION_S, le=MAX_DURATION_S),
]
"""A measured duration."""
WarmupSeconds = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_WARMUP_S)]
IdleSeconds = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=MAX_DURATION_S)]
"""A pause (delay between runs)."""
InactivitySeconds = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=1, le=MAX_DURATION_S)
]
TimeoutSeconds = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=MIN_TIMEOUT_S, le=MAX_TIMEOUT_S)
]
Rate = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=MIN_RATE, le=MAX_RATE)]
Users = Annotated[int, Field(strict=True, ge=1, le=MAX_USERS)]
Requests = Annotated[int, Field(strict=True, ge=1, le=MAX_REQUESTS)]
Inflight = Annotated[int, Field(strict=True, ge=1, le=MAX_INFLIGHT)]
Seed = Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)]
Processes = Annotated[int, Field(strict=True, ge=1, le=MAX_PROCESSES)]
Flag = Annotated[bool, Field(strict=True)]


def max_processes(cores: int) -> int:
    """The most worker processes this machine takes: PROCESSES_PER_CORE per core."""
    return min(MAX_PROCESSES, PROCESSES_PER_CORE * max(cores, 1))
