"""Open-loop schedules: intended send instants as nanosecond offsets from the run start.

Schedules are pure functions of (rate, seed, process index, process count), so the same seed
gives the same instants, and the processes' schedules together form the requested process:
the constant schedule is dealt round-robin (process p takes arrivals p, p+P, p+2P, ...), and
each process of a Poisson schedule is an independent Poisson process of rate λ/P with its own
derived seed (the superposition of independent Poisson processes is Poisson with the summed
rate).
"""

import hashlib
import math
import random
from collections.abc import Iterator
from itertools import count, islice, takewhile

from loadgen.workload.spec import OpenLoop
from loadgen.workload.split import split_evenly

NS_PER_S = 1_000_000_000


def constant_offset(rate: float, k: int) -> int:
    """The k-th arrival of a constant-rate schedule (k = 0 at the start)."""
    return round(k * (NS_PER_S / rate))


def constant_offsets(rate: float, index: int = 0, processes: int = 1) -> Iterator[int]:
    """This process's share of `t0 + k/λ`: every `processes`-th arrival from `index`."""
    for k in count(index, processes):
        yield constant_offset(rate, k)


def derive_seed(seed: int, index: int) -> int:
    """A per-process seed: stable across runs and platforms, distinct per process."""
    digest = hashlib.sha256(f"faasbench-loadgen/{seed}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def poisson_offsets(rate: float, seed: int, index: int = 0, processes: int = 1) -> Iterator[int]:
    """Arrivals of a Poisson process of rate λ/P: exponential gaps from a derived seed."""
    rng = random.Random(derive_seed(seed, index))
    share = rate / processes
    elapsed_s = 0.0
    while True:
        elapsed_s += rng.expovariate(share)
        yield round(elapsed_s * NS_PER_S)


def _first_index_at_or_after(rate: float, offset_ns: int) -> int:
    """Smallest k whose constant-schedule offset is not before `offset_ns`."""
    k = max(0, math.ceil(offset_ns * rate / NS_PER_S) - 1)
    while k > 0 and constant_offset(rate, k - 1) >= offset_ns:
        k -= 1
    while constant_offset(rate, k) < offset_ns:
        k += 1
    return k


def process_schedule(workload: OpenLoop, index: int, processes: int) -> Iterator[int]:
    """This process's bounded schedule, warm-up arrivals (offset < warmup) first."""
    warmup_ns = round(workload.warmup_s * NS_PER_S)
    if workload.duration_s is not None:
        end_ns = warmup_ns + round(workload.duration_s * NS_PER_S)
        return takewhile(lambda offset: offset < end_ns, _unbounded(workload, index, processes))
    assert workload.total is not None
    if workload.arrival == "constant":
        last = _first_index_at_or_after(workload.rate, warmup_ns) + workload.total
        share = len(range(index, last, processes))
        return islice(constant_offsets(workload.rate, index, processes), share)
    measured = split_evenly(workload.total, processes)[index]
    offsets = poisson_offsets(workload.rate, workload.seed, index, processes)
    return _warmup_then(offsets, warmup_ns, measured)


def _unbounded(workload: OpenLoop, index: int, processes: int) -> Iterator[int]:
    if workload.arrival == "constant":
        return constant_offsets(workload.rate, index, processes)
    return poisson_offsets(workload.rate, workload.seed, index, processes)


def _warmup_then(offsets: Iterator[int], warmup_ns: int, measured: int) -> Iterator[int]:
    """Every warm-up arrival, then exactly `measured` more."""
    remaining = measured
    for offset in offsets:
        if offset >= warmup_ns:
            if remaining <= 0:
                return
            remaining -= 1
        yield offset
