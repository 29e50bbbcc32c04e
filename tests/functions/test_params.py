"""Parameter parsing: numbers from JSON or query strings, strict types, bounds, env fallback."""

from __future__ import annotations

from typing import Any

import pytest

from functions._params import ParamError, float_param, int_param, required, str_param


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 7), (5, 5), ("12", 12), (" 3 ", 3), (4.0, 4), (0, 0)]
)
def test_int_param_accepts_json_numbers_and_query_strings(value: Any, expected: int) -> None:
    params = {} if value is None else {"n": value}
    assert int_param(params, "n", 7, 0, 100) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "boolean"),
        (2.5, "integer"),
        ("abc", "'abc'"),
        ([1], "list"),
        (101, "between 0 and 100"),
        (-1, "between 0 and 100"),
        ("1e3", "'1e3'"),
    ],
)
def test_int_param_rejects_with_a_message_naming_the_parameter(value: Any, message: str) -> None:
    with pytest.raises(ParamError, match=r"^n must") as caught:
        int_param({"n": value}, "n", 7, 0, 100)
    assert message in str(caught.value)


def test_float_param_bounds_and_non_finite_values() -> None:
    assert float_param({"ms": "2.5"}, "ms", 1.0, 0.0, 10.0) == 2.5
    assert float_param({}, "ms", 1.0, 0.0, 10.0) == 1.0
    for bad in ("nan", "inf", 11, -0.5, False, {"a": 1}):
        with pytest.raises(ParamError, match=r"^ms must"):
            float_param({"ms": bad}, "ms", 1.0, 0.0, 10.0)


def test_str_param_prefers_params_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASBENCH_TEST_HOST", "from-env")
    assert str_param({"host": "from-param"}, "host", "FAASBENCH_TEST_HOST") == "from-param"
    assert str_param({}, "host", "FAASBENCH_TEST_HOST") == "from-env"
    assert str_param({}, "host", "FAASBENCH_TEST_UNSET", "default") == "default"
    with pytest.raises(ParamError, match="host must be a string"):
        str_param({"host": 3}, "host")


def test_required_names_both_sources() -> None:
    assert required("x", "host", "FTP_HOST") == "x"
    with pytest.raises(ParamError, match="parameter 'host' or environment variable FTP_HOST"):
        required(None, "host", "FTP_HOST")
    with pytest.raises(ParamError, match=r"missing parameter 'file'$"):
        required("", "file")
