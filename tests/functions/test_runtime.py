"""The meta contract and the cold flag, shared by every adapter."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, cast

import pytest
from support.function_servers import ROOT

from functions import _runtime
from functions._openwhisk import run as openwhisk_run
from functions._params import FunctionError, ParamError, Timed
from functions._registry import FUNCTION_NAMES, UnknownFunction, load


def check_meta(meta: Mapping[str, Any], function: str, adapter: str) -> None:
    assert set(meta) >= {"function", "instance", "cold", "instance_started_ns", "handler_ms"}
    assert meta["function"] == function
    assert isinstance(meta["instance"], str)
    assert len(meta["instance"]) == 16
    int(meta["instance"], 16)
    assert isinstance(meta["cold"], bool)
    assert isinstance(meta["instance_started_ns"], int)
    assert 0 < meta["instance_started_ns"] <= time.time_ns()
    assert isinstance(meta["handler_ms"], float)
    assert meta["handler_ms"] >= 0
    assert meta["version"] == _runtime.VERSION
    assert meta["adapter"] == adapter


def test_invoke_wraps_the_result_with_typed_meta() -> None:
    outcome = _runtime.invoke("echo", load("echo"), {"a": [1, 2]}, "direct")
    assert outcome.status == 200
    assert outcome.ok
    assert outcome.document["result"] == {"a": [1, 2]}
    check_meta(outcome.document["meta"], "echo", "direct")
    assert outcome.document["meta"]["instance"] == _runtime.instance_id()


def test_handler_ms_measures_the_handler() -> None:
    outcome = _runtime.invoke("sleep", load("sleep"), {"ms": 30}, "direct")
    assert 30 <= outcome.document["meta"]["handler_ms"] < 2000


def _raise(exc: Exception) -> Any:
    def handler(params: Mapping[str, Any]) -> Any:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "status", "message"),
    [
        (ParamError("n must be an integer"), 400, "n must be an integer"),
        (FunctionError("ftp: checksum mismatch"), 500, "ftp: checksum mismatch"),
        (KeyError("boom"), 500, "internal error: KeyError: 'boom'"),
    ],
)
def test_errors_become_documents_with_meta_and_no_traceback(
    exc: Exception, status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = _runtime.invoke("echo", _raise(exc), {}, "direct")
    assert outcome.status == status
    assert outcome.document["error"] == message
    assert "result" not in outcome.document
    assert "Traceback" not in json.dumps(outcome.document)
    check_meta(outcome.document["meta"], "echo", "direct")
    assert ("Traceback" in capsys.readouterr().err) == (status == 500 and "internal" in message)


def test_timed_results_put_their_stages_in_meta_and_others_keep_meta_as_it_was() -> None:
    def timed(params: Mapping[str, Any]) -> Timed:
        return Timed({"ok": True}, {"fetch_ms": 1.5, "store_ms": 2})

    outcome = _runtime.invoke("echo", timed, {}, "direct")
    assert outcome.document["result"] == {"ok": True}
    assert outcome.document["meta"]["timings"] == {"fetch_ms": 1.5, "store_ms": 2.0}
    check_meta(outcome.document["meta"], "echo", "direct")
    plain = _runtime.invoke("echo", load("echo"), {"timings": 1, "_timings": {"x": 1}}, "direct")
    assert plain.document["result"] == {"timings": 1, "_timings": {"x": 1}}
    assert list(plain.document["meta"]) == [
        "function",
        "instance",
        "cold",
        "instance_started_ns",
        "handler_ms",
        "version",
        "adapter",
        "language",
    ]


@pytest.mark.parametrize("timings", [{"a": -1.0}, {"a": float("nan")}, {"a": True}, [1]])
def test_bad_timings_are_an_internal_error(timings: object) -> None:
    outcome = _runtime.invoke("echo", lambda params: Timed({}, cast(Any, timings)), {}, "direct")
    assert outcome.status == 500
    assert "timings must map stage names to milliseconds" in outcome.document["error"]
    assert "timings" not in outcome.document["meta"]


def test_parameters_must_be_an_object() -> None:
    outcome = _runtime.invoke("echo", load("echo"), [1, 2], "direct")
    assert outcome.status == 400
    assert outcome.document["error"] == "parameters must be a JSON object, got list"


def test_cold_is_taken_exactly_once_under_concurrent_first_calls() -> None:
    instance = _runtime._Instance()
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def call() -> None:
        barrier.wait()
        results.append(instance.take_cold())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert len(results) == 16
    assert instance.take_cold() is False


_FRESH_PROCESS = """
import json, os, sys
from functions import _runtime
from functions._registry import load
echo = load("echo")
metas = [_runtime.invoke("echo", echo, {}, "direct").document["meta"] for _ in range(3)]
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    child = _runtime.invoke("echo", echo, {}, "direct").document["meta"]
    os.write(write, json.dumps(child).encode())
    os._exit(0)
os.close(write)
os.waitpid(pid, 0)
with os.fdopen(read) as pipe:
    child = json.loads(pipe.read())
print(json.dumps({"parent": metas, "child": child}))
"""


def test_cold_flips_once_per_process_and_a_forked_child_is_a_new_instance() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    report = json.loads(output)
    parent, child = report["parent"], report["child"]
    assert [meta["cold"] for meta in parent] == [True, False, False]
    assert len({meta["instance"] for meta in parent}) == 1
    assert parent[0]["instance"] != _runtime.instance_id()
    assert child["cold"] is True
    assert child["instance"] != parent[0]["instance"]
    assert child["instance_started_ns"] > parent[0]["instance_started_ns"]


def test_openwhisk_adapter_drops_platform_parameters_and_reports_errors() -> None:
    document = openwhisk_run("echo", {"x": 1, "__ow_method": "post", "__ow_headers": {}})
    assert document["result"] == {"x": 1}
    check_meta(document["meta"], "echo", "openwhisk")
    failed = openwhisk_run("matrix", {"n": "big"})
    assert failed["error"] == "n must be an integer, got 'big'"
    check_meta(failed["meta"], "matrix", "openwhisk")


def test_registry_loads_every_function_and_refuses_others() -> None:
    for name in FUNCTION_NAMES:
        assert callable(load(name))
    with pytest.raises(UnknownFunction, match="unknown function 'serve'; known: echo, sleep"):
        load("serve")
