"""Writes a small synthetic day in the Azure Functions 2019 trace layout to examples/traces/
(or the folder given): invocations, duration percentiles and application memory percentiles
of 24 made-up functions, so examples/multi-function-trace.yaml validates and runs without the
real dataset. The content is seeded: running it again writes the same bytes.

    uv run --frozen python scripts/sample_trace.py [FOLDER]
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

FUNCTIONS = 24
APPS = 8
MINUTES = 1440
#: Minutes with invocations: the first hour (the example replays a few of them).
ACTIVE = 60
SEED = 2019
INVOCATIONS = "invocations_per_function_md.anon.sample.csv"
DURATIONS = "function_durations_percentiles.anon.sample.csv"
MEMORY = "app_memory_percentiles.anon.sample.csv"
TRIGGERS = ("http", "timer", "queue", "event")


def _hash(kind: str, index: int) -> str:
    return hashlib.sha256(f"sample/{kind}/{index}".encode()).hexdigest()


def write(folder: Path) -> None:
    rng = random.Random(SEED)
    folder.mkdir(parents=True, exist_ok=True)
    owners = [_hash("owner", app // 2) for app in range(APPS)]
    apps = [_hash("app", app) for app in range(APPS)]
    invocations = ["HashOwner,HashApp,HashFunction,Trigger," + ",".join(map(str, range(1, 1441)))]
    durations = [
        "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,"
        + ",".join(f"percentile_Average_{p}" for p in (0, 1, 25, 50, 75, 99, 100))
    ]
    for index in range(FUNCTIONS):
        app = index % APPS
        function = _hash("function", index)
        # From one call every two minutes to ~40 a minute: the strata differ by orders.
        per_minute = 0.5 * 10 ** (index * 2 / FUNCTIONS)
        counts = [_poisson(rng, per_minute) if minute < ACTIVE else 0 for minute in range(MINUTES)]
        if sum(counts) == 0:
            counts[0] = 1
        trigger = TRIGGERS[index % len(TRIGGERS)]
        key = f"{owners[app]},{apps[app]},{function}"
        invocations.append(f"{key},{trigger}," + ",".join(map(str, counts)))
        median = rng.choice((2, 5, 10, 30))
        points = [median * f for f in (0.2, 0.4, 0.7, 1.0, 1.5, 4.0, 8.0)]
        total = sum(counts)
        durations.append(
            f"{key},{median * 1.2:.0f},{total},{points[0]:.0f},{points[-1]:.0f},"
            + ",".join(f"{p:.0f}" for p in points)
        )
    memory = [
        "HashOwner,HashApp,SampleCount,AverageAllocatedMb,"
        + ",".join(f"AverageAllocatedMb_pct{p}" for p in (1, 5, 25, 50, 75, 95, 99, 100))
    ]
    for app in range(APPS):
        median = rng.choice((16, 32, 64))
        points = [median * f for f in (0.6, 0.7, 0.9, 1.0, 1.1, 1.3, 1.5, 1.6)]
        memory.append(
            f"{owners[app]},{apps[app]},1440,{median:.0f}," + ",".join(f"{p:.0f}" for p in points)
        )
    for name, lines in ((INVOCATIONS, invocations), (DURATIONS, durations), (MEMORY, memory)):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count by counting exponential gaps within one unit of time."""
    count, elapsed = 0, rng.expovariate(mean)
    while elapsed < 1.0:
        count += 1
        elapsed += rng.expovariate(mean)
    return count


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "examples/traces"
    )
    write(target)
    print(f"wrote {FUNCTIONS} functions to {target}")
