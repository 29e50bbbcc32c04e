"""`jsonserde`: serialises and parses a generated JSON document (`items` records, default 1000)
`rounds` times and checks the last round trip; the (de)serialisation cost every JSON API pays.
Returns the document's size and digest, not the document."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from typing import Any

from ._params import FunctionError, IntParam

MAX_ITEMS = 100_000
MAX_ROUNDS = 1000
ITEMS = IntParam("items", 1000, 1, MAX_ITEMS)
ROUNDS = IntParam("rounds", 10, 1, MAX_ROUNDS)
SEED = IntParam("seed", 0, 0, 2**63 - 1)
PARAMS = (ITEMS, ROUNDS, SEED)


def make_document(items: int, seed: int) -> dict[str, Any]:
    """A document of `items` mixed-type records, the same for the same (items, seed)."""
    rng = random.Random(seed)
    records = [
        {
            "id": i,
            "name": f"item-{i:06d}-{rng.getrandbits(32):08x}",
            "value": rng.uniform(-1e6, 1e6),
            "active": rng.random() < 0.5,
            "tags": [f"t{rng.randrange(100)}" for _ in range(rng.randrange(1, 5))],
            "position": {"x": rng.random(), "y": rng.random(), "label": None},
            "text": "naïve café 東京 ✓" if i % 10 == 0 else "plain ascii",
        }
        for i in range(items)
    ]
    return {"version": 1, "seed": seed, "items": records}


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    items = ITEMS.read(params)
    rounds = ROUNDS.read(params)
    seed = SEED.read(params)
    document = make_document(items, seed)
    text = ""
    parsed: object = None
    for _ in range(rounds):
        text = json.dumps(document, ensure_ascii=False)
        parsed = json.loads(text)
    if parsed != document:
        raise FunctionError("jsonserde: the parsed document differs from the original")
    encoded = text.encode("utf-8")
    return {
        "items": items,
        "rounds": rounds,
        "bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
    }
