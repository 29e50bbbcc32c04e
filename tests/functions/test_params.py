"""Parameter parsing: numbers from JSON or query strings, strict types, bounds, env fallback."""

from __future__ import annotations

import contextlib
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


# --- declared parameters ------------------------------------------------------------------------


class _Reading(dict[str, Any]):
    """Parameters that remember every name a function looks up."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


#: Values that make each function read all its parameters and finish (or fail) quickly: chain
#: and ftp fail to connect to a closed port, after reading everything.
QUICK_CALLS: dict[str, dict[str, Any]] = {
    "sleep": {"ms": 0},
    "matrix": {"n": 1},
    "b64": {"size": 1, "rounds": 1},
    "jsonserde": {"items": 1, "rounds": 1},
    "floatops": {"n": 0},
    "synthetic": {
        **{f"p{q}_ms": 0 for q in (0, 1, 25, 50, 75, 99, 100)},
        "memory_mb": 1,
        "seed": 0,
        "call": 0,
        "mode": "sleep",
    },
    "chain": {"gateway": "http://127.0.0.1:9", "timeout_s": 0.5, "n": 1, "seed": 0},
    "ftp": {"host": "127.0.0.1", "port": 9, "file": "f", "expected_bytes": 1, "timeout_s": 0.5},
}


@pytest.mark.parametrize("name", sorted(QUICK_CALLS))
def test_each_function_declares_exactly_the_parameters_it_reads(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions._params import FunctionError
    from functions._registry import load, parameters

    for variable in (
        "GATEWAY_URL",
        "FTP_HOST",
        "FTP_TEST_FILE",
        "OPENWHISK_AUTH",
        "CHAIN_API",
        "KNATIVE_HOST_SUFFIX",
    ):
        monkeypatch.delenv(variable, raising=False)
    declared = parameters(name)
    assert declared is not None
    params = _Reading(QUICK_CALLS[name])
    with contextlib.suppress(FunctionError):  # the connection fails after every read
        load(name)(params)
    assert params.read <= {param.name for param in declared}, params.read
    # auth: OpenWhisk only; host_suffix: Knative only.
    assert {param.name for param in declared} <= params.read | {"auth", "host_suffix"}


def test_echo_takes_anything_and_chain_forwards_what_matrix_declares() -> None:
    from functions import chain, matrix
    from functions._registry import parameters

    assert parameters("echo") is None
    forwarded = {param.name: param.describe() for param in chain.FORWARDED_PARAMS}
    assert forwarded == {param.name: param.describe() for param in matrix.PARAMS}


def test_declarations_check_values_as_the_function_would() -> None:
    from functions._registry import parameters

    declared = {param.name: param for param in parameters("chain") or ()}
    declared["depth"].check(3)
    with pytest.raises(ParamError, match="depth must be between 1 and 10"):
        declared["depth"].check(11)
    with pytest.raises(ParamError, match="api must be one of openfaas, openwhisk, knative"):
        declared["api"].check("soap")
    with pytest.raises(ParamError, match="insecure_tls must be true or false"):
        declared["insecure_tls"].check(5)
    with pytest.raises(ParamError, match="control characters"):
        declared["gateway"].check("http://x\r\nHost: y")
