"""How late this machine wakes a sleeping thread right now: the scale for timing slack.

Tests that wait on the clock (a run of a given length, a timeout, a schedule) cannot promise
tight wall-clock bounds on a busy machine: another process may hold the core when a sleeper is
due. Instead of guessing, such a test measures the scheduler first (or while it runs) and
widens its bounds by what it saw. On an idle machine the slack is the test's own floor, so the
assertion is as strict as ever; under load it grows with the measured lateness. How precise
the load generator's timing really is, is measured by bench/ (docs/performance.md), not here.

    with SleepProbe() as probe:
        summary = execute(...)
    assert summary.duration_s <= 1.0 + probe.slack(0.2)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

#: Lateness of a single wake-up says how long one process may wait for a core; several such
#: waits can add up in one measured interval (a worker, then the server, then the reader).
FACTOR = 4.0
#: A probe sleeps this long each time (about the lag an open-loop send tolerates).
INTERVAL_S = 0.001


@dataclass(frozen=True)
class Overshoot:
    """How late `samples` sleeps of INTERVAL_S woke, in seconds."""

    samples: int
    p50_s: float
    p99_s: float
    max_s: float

    def slack(self, floor_s: float, factor: float = FACTOR) -> float:
        """At least `floor_s`; more when this machine was seen waking a sleeper late.

        Scaled by the worst wake-up, not a percentile: with one core kept busy, the load
        generator's sched_lag p99 was seen at 3-4 times the probe's own p99 (its workers run
        an event loop and a record-writer thread each), but below the probe's worst wake-up."""
        return max(floor_s, factor * self.max_s)


def _summary(lateness: list[float]) -> Overshoot:
    if not lateness:
        return Overshoot(0, 0.0, 0.0, 0.0)
    ordered = sorted(lateness)
    return Overshoot(
        samples=len(ordered),
        p50_s=ordered[len(ordered) // 2],
        p99_s=ordered[min(len(ordered) - 1, (len(ordered) * 99) // 100)],
        max_s=ordered[-1],
    )


def _sample(interval_s: float) -> float:
    before = time.perf_counter()
    time.sleep(interval_s)
    return max(0.0, time.perf_counter() - before - interval_s)


def _measure(duration_s: float, interval_s: float) -> list[float]:
    lateness: list[float] = []
    deadline = time.perf_counter() + duration_s
    while time.perf_counter() < deadline:
        lateness.append(_sample(interval_s))
    return lateness


def sleep_overshoot(duration_s: float = 0.2, interval_s: float = INTERVAL_S) -> Overshoot:
    """Sleep `interval_s` again and again for `duration_s`; how late were the wake-ups?"""
    return _summary(_measure(duration_s, interval_s))


class SleepProbe:
    """Measures sleep overshoot first (`warmup_s`, before the block starts) and then, in a
    background thread, for as long as the block runs: the lateness the code under test met."""

    def __init__(self, warmup_s: float = 0.1, interval_s: float = INTERVAL_S) -> None:
        self._warmup_s = warmup_s
        self._interval_s = interval_s
        self._lateness: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sleep-probe", daemon=True)
        self._lock = threading.Lock()

    def _run(self) -> None:
        while not self._stop.is_set():
            late = _sample(self._interval_s)
            with self._lock:
                self._lateness.append(late)

    def __enter__(self) -> SleepProbe:
        self._lateness.extend(_measure(self._warmup_s, self._interval_s))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def overshoot(self) -> Overshoot:
        with self._lock:
            return _summary(list(self._lateness))

    def slack(self, floor_s: float, factor: float = FACTOR) -> float:
        """`Overshoot.slack` of what was seen before and during the block."""
        return self.overshoot.slack(floor_s, factor)
