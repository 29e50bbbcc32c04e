"""`matrix`: multiplies two n×n matrices in pure Python (CPU-bound, single-threaded).

The inputs are pseudo-random floats from `seed`, so every platform multiplies the same matrices
and the checksum of the product can be compared across runs. Cost grows as n³: n=200 is about
8 million multiply-adds.

Every sum (each dot product, the checksum over all entries, the trace) is `math.fsum`, the
correctly rounded sum, so the result is one defined number, not an artefact of the summation
order: the same on every Python version (the builtin `sum` of floats is compensated from 3.12 on
and plain before) and in every language of the suite (functions/node, go, java port the same
generator and fsum, and return the same checksum and trace to the last bit).
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Mapping, Sequence
from itertools import chain
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
    """a × b, each row dotted with b's columns, each dot product correctly rounded."""
    columns = [[row[j] for row in b] for j in range(len(b[0]))]
    return [[math.fsum(map(operator.mul, row, column)) for column in columns] for row in a]


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    n = N.read(params)
    seed = SEED.read(params)
    a, b = generate(n, seed)
    product = multiply(a, b)
    return {
        "n": n,
        "seed": seed,
        "checksum": math.fsum(chain.from_iterable(product)),
        "trace": math.fsum(product[i][i] for i in range(n)),
    }
