"""`sleep`: waits `ms` milliseconds (default 100), a known service time to calibrate the load
generator and the platform's queueing against. Reports how long it actually slept."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ._params import FloatParam

#: Below the platforms' 5-minute function timeout, with room for queueing.
MAX_MS = 240_000.0
MS = FloatParam("ms", 100.0, 0.0, MAX_MS)
PARAMS = (MS,)


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    ms = MS.read(params)
    start = time.perf_counter_ns()
    time.sleep(ms / 1000.0)
    return {"ms": ms, "slept_ms": round((time.perf_counter_ns() - start) / 1e6, 3)}
