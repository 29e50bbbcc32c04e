"""The self-contained functions, called directly: correct results, bounds, unknown parameters."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from typing import Any

import pytest

from functions import b64, echo, floatops, jsonserde, matrix, sleep
from functions._params import ParamError

#: Extra keys a platform or a caller may add; every function must ignore what it does not use.
FOREIGN = {"__ow_method": "post", "__ow_headers": {"x": "y"}, "unrelated": [1, 2]}


def test_echo_returns_its_input() -> None:
    params = {"a": 1, "nested": {"b": [True, None, 2.5]}, "text": "é"}
    assert echo.main(params) == params
    assert echo.main({}) == {}


def test_sleep_sleeps_the_requested_time() -> None:
    result = sleep.main({"ms": 40})
    assert result["ms"] == 40.0
    assert 40.0 <= result["slept_ms"] < 1000.0
    assert sleep.main({"ms": "0"})["ms"] == 0.0


@pytest.mark.parametrize("ms", [-1, "soon", True, sleep.MAX_MS + 1])
def test_sleep_rejects_bad_durations(ms: Any) -> None:
    with pytest.raises(ParamError, match="ms must"):
        sleep.main({"ms": ms})


def test_multiply_known_product() -> None:
    assert matrix.multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]) == [[19, 22], [43, 50]]
    assert matrix.multiply([[1, 0, 2]], [[1], [2], [3]]) == [[7]]


def test_matrix_checksum_matches_an_independent_triple_loop() -> None:
    n, seed = 6, 42
    a, b = matrix.generate(n, seed)
    product = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                product[i][j] += a[i][k] * b[k][j]
    result = matrix.main({"n": n, "seed": seed})
    assert result["n"] == n
    assert result["seed"] == seed
    assert result["checksum"] == pytest.approx(sum(map(sum, product)), rel=1e-12)
    assert result["trace"] == pytest.approx(sum(product[i][i] for i in range(n)), rel=1e-12)


def test_matrix_content_is_deterministic_per_seed() -> None:
    assert matrix.main({"n": 20, "seed": 1}) == matrix.main({"n": "20", "seed": "1"})
    assert matrix.main({"n": 20, "seed": 1}) != matrix.main({"n": 20, "seed": 2})
    a, b = matrix.generate(3, 0)
    assert all(-1.0 <= x < 1.0 for row in a + b for x in row)


@pytest.mark.parametrize("n", [0, matrix.MAX_N + 1, "ten", 2.5, True])
def test_matrix_rejects_bad_sizes(n: Any) -> None:
    with pytest.raises(ParamError, match="n must"):
        matrix.main({"n": n})


def test_b64_round_trips_a_megabyte_by_default() -> None:
    result = b64.main({"rounds": 2})
    text = b64.make_text(1024 * 1024, 0)
    encoded = base64.b64encode(text.encode())
    assert len(text) == 1024 * 1024
    assert result == {
        "size": 1024 * 1024,
        "rounds": 2,
        "encoded_bytes": len(encoded),
        "sha256": hashlib.sha256(encoded).hexdigest(),
    }
    assert result["encoded_bytes"] == 4 * math.ceil(1024 * 1024 / 3)


def test_b64_sizes_and_seeds() -> None:
    small = b64.main({"size": 5, "rounds": 3, "seed": 9})
    assert small["encoded_bytes"] == 8
    assert b64.make_text(5, 9) != b64.make_text(5, 10)
    with pytest.raises(ParamError, match="rounds must be between 1 and 1000"):
        b64.main({"rounds": 0})


def test_jsonserde_round_trips_a_generated_document() -> None:
    result = jsonserde.main({"items": 50, "rounds": 3, "seed": 4})
    expected = json.dumps(jsonserde.make_document(50, 4), ensure_ascii=False).encode()
    assert result == {
        "items": 50,
        "rounds": 3,
        "bytes": len(expected),
        "sha256": hashlib.sha256(expected).hexdigest(),
    }
    document = json.loads(expected)
    assert len(document["items"]) == 50
    assert document["items"][0]["text"] == "naïve café 東京 ✓"
    with pytest.raises(ParamError, match="items must be between"):
        jsonserde.main({"items": jsonserde.MAX_ITEMS + 1})


def test_floatops_sums_sin_cos_sqrt() -> None:
    expected = 1.0 + (math.sin(1) + math.cos(1) + 1.0) + (math.sin(2) + math.cos(2) + math.sqrt(2))
    assert floatops.main({"n": 3}) == {"n": 3, "sum": pytest.approx(expected, rel=1e-15)}
    assert floatops.main({"n": 0})["sum"] == 0.0
    assert floatops.main({})["n"] == 1_000_000
    with pytest.raises(ParamError, match="n must be between 0 and"):
        floatops.main({"n": floatops.MAX_N + 1})


@pytest.mark.parametrize(
    ("module", "params"),
    [
        (sleep, {"ms": 1}),
        (matrix, {"n": 3}),
        (b64, {"size": 10, "rounds": 1}),
        (jsonserde, {"items": 2, "rounds": 1}),
        (floatops, {"n": 10}),
    ],
)
def test_unknown_parameters_are_ignored(module: Any, params: dict[str, Any]) -> None:
    without = module.main(params)
    with_foreign = module.main({**FOREIGN, **params})
    if module is sleep:
        assert with_foreign["ms"] == without["ms"]
    else:
        assert with_foreign == without
