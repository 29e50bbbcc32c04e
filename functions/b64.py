"""`b64`: Base64-encodes and decodes a pseudo-random ASCII string (`size` bytes, default 1 MiB)
`rounds` times, checking every round trip; a memory-bandwidth and C-extension workload. Returns
sizes and a digest, never the data, so the response stays small."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Mapping
from typing import Any

from ._params import FunctionError, IntParam

DEFAULT_SIZE = 1024 * 1024
MAX_SIZE = 16 * 1024 * 1024
MAX_ROUNDS = 1000
SIZE = IntParam("size", DEFAULT_SIZE, 1, MAX_SIZE)
ROUNDS = IntParam("rounds", 10, 1, MAX_ROUNDS)
SEED = IntParam("seed", 0, 0, 2**63 - 1)
PARAMS = (SIZE, ROUNDS, SEED)


def make_text(size: int, seed: int) -> str:
    """`size` hexadecimal characters, the same for the same (size, seed)."""
    return random.Random(seed).randbytes(size // 2 + 1).hex()[:size]


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    size = SIZE.read(params)
    rounds = ROUNDS.read(params)
    seed = SEED.read(params)
    text = make_text(size, seed)
    encoded = b""
    for round_index in range(rounds):
        encoded = base64.b64encode(text.encode("ascii"))
        if base64.b64decode(encoded, validate=True).decode("ascii") != text:
            raise FunctionError(f"b64: round trip {round_index} changed the data")
    return {
        "size": size,
        "rounds": rounds,
        "encoded_bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
    }
