"""`floatops`: a floating-point loop of math.sin, math.cos and math.sqrt over `n` iterations,
in the style of FunctionBench's float_operation. The values are summed so the work cannot be
skipped and the result is checkable."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._params import IntParam

MAX_N = 50_000_000
N = IntParam("n", 1_000_000, 0, MAX_N)
PARAMS = (N,)


def compute(n: int) -> float:
    """Σ sin(i) + cos(i) + sqrt(i) for i in [0, n)."""
    total = 0.0
    sin, cos, sqrt = math.sin, math.cos, math.sqrt
    for i in range(n):
        total += sin(i) + cos(i) + sqrt(i)
    return total


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    n = N.read(params)
    return {"n": n, "sum": compute(n)}
