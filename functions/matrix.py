"""`matrix`: multiplies two n×n matrices in pure Python (CPU-bound, single-threaded).

The inputs are pseudo-random floats from `seed`, so every platform multiplies the same matrices
and the checksum of the product can be compared across runs. Cost grows as n³: n=200 is about
8 million multiply-adds.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Mapping, Sequence
from typing import Any

from ._params import IntParam

MAX_N = 400
MAX_SEED = 2**63 - 1
N = IntParam("n", 100, 1, MAX_N)
SEED = IntParam("seed", 0, 0, MAX_SEED)
PARAMS = (N, SEED)

Matrix = list[list[float]]


def generate(n: int, seed: int) -> tuple[Matrix, Matrix]:
    """Two n×n matrices with entries in [-1, 1), the same for the same (n, seed)."""
    rng = random.Random(seed)
    a = [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(n)]
    b = [[rng.uniform(-1.0, 1.0) for _ in range(n)] for _ in range(n)]
    return a, b


def multiply(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> Matrix:
    """a × b, each row dotted with b's columns (the fastest plain-Python formulation)."""
    columns = [[row[j] for row in b] for j in range(len(b[0]))]
    return [[sum(map(operator.mul, row, column)) for column in columns] for row in a]


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    n = N.read(params)
    seed = SEED.read(params)
    a, b = generate(n, seed)
    product = multiply(a, b)
    return {
        "n": n,
        "seed": seed,
        "checksum": sum(sum(row) for row in product),
        "trace": sum(product[i][i] for i in range(n)),
    }
