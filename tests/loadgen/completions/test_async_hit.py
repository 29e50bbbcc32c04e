"""`loadgen hit --callback`: asynchronous calls measured from submission to completion against
the local target's `/async-function/` (real HAProxy, gateway queue and replicas), with every
accepted call either completed or counted as lost."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from support.cli import run_loadgen
from support.local_target import LocalTarget, start_target, stop_target

from loadgen.completions.receiver import parse_completion
from loadgen.completions.summary import _per_second, _stats
from loadgen.results.completions import COMPLETIONS_FILE, read_completions

TIMEOUT_S = 180


def hit(tmp_path: Path, url: str, *args: str) -> dict[str, object]:
    result = run_loadgen("hit", url, "--json", *args, cwd=tmp_path, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_every_accepted_call_is_measured_to_its_completion(
    target: LocalTarget, tmp_path: Path
) -> None:
    assert target.deploy("sleep", "sleep").status_code == 202
    assert target.invoke("sleep", ms=1).status_code == 200
    records = tmp_path / "records"
    document = hit(
        tmp_path,
        f"{target.url}/async-function/sleep",
        "-d", '{"ms": 25}', "--rate", "20", "-n", "40",
        "--callback", "127.0.0.1:0", "--records", str(records),
    )  # fmt: skip
    assert document["ok"] == 40  # 202s: the submissions themselves
    completions = document["completions"]
    assert completions["submitted"] == 40
    assert completions["accepted"] == 40
    assert completions["completed"] == 40
    assert (completions["lost"], completions["failed"], completions["unmatched"]) == (0, 0, 0)
    completion, submission = completions["completion"], completions["submission"]
    # A completion comes after the function's 25 ms sleep, and after its own submission.
    assert completion["p50"] >= 25
    assert completion["p50"] > submission["p50"]
    assert sum(completions["per_second"]) == 40
    assert completions["completion_rate"] > 0
    kept = read_completions(records / COMPLETIONS_FILE)
    assert len(kept) == 40
    assert all(c.function == "sleep" and c.function_status == 200 for c in kept)


def test_calls_whose_results_never_arrive_are_counted_lost(
    target: LocalTarget, tmp_path: Path
) -> None:
    target.deploy("echo", "echo")
    with socket.socket() as closed:  # a port nothing listens on once closed
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/callback"
    document = hit(
        tmp_path,
        f"{target.url}/async-function/echo",
        "-n", "5", "-c", "1",
        "--callback", "127.0.0.1:0", "--callback-url", dead, "--completion-deadline", "2s",
    )  # fmt: skip
    assert document["records_dir"] is None  # records of their own were never asked for
    completions = document["completions"]
    assert completions["accepted"] == 5
    assert completions["completed"] == 0
    assert completions["lost"] == 5
    assert completions["completion"] is None


def test_a_full_queue_is_refused_and_counted(tmp_path: Path) -> None:
    bounded = start_target(tmp_path, "--async-queue", "1")
    try:
        bounded.deploy("sleep", "sleep")
        assert bounded.invoke("sleep", ms=1).status_code == 200
        document = hit(
            tmp_path,
            f"{bounded.url}/async-function/sleep",
            "-d", '{"ms": 400}', "-n", "8", "-c", "8",
            "--callback", "127.0.0.1:0", "--completion-deadline", "30s",
        )  # fmt: skip
    finally:
        stop_target(bounded)
    completions = document["completions"]
    refused = completions["refused"]
    assert completions["submitted"] == 8
    assert refused.get("http_429", 0) >= 1
    assert completions["accepted"] + sum(refused.values()) == 8
    assert completions["completed"] == completions["accepted"]
    assert completions["lost"] == 0


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--callback", "nowhere"], "--callback"),
        (["--callback", "127.0.0.1:0", "--completion-deadline", "0"], "--completion-deadline"),
        (["--callback", "127.0.0.1:0", "--callback-url", "ftp://x/y"], "--callback-url"),
    ],
)
def test_bad_async_options_name_the_option(tmp_path: Path, args: list[str], option: str) -> None:
    result = run_loadgen(
        "hit", "http://127.0.0.1:9/async-function/x", "-n", "1", *args, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 2
    assert option in result.stderr
    assert "Traceback" not in result.stderr


def test_a_callback_address_in_use_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_loadgen(
            "hit", "http://127.0.0.1:9/async-function/x", "-n", "1",
            "--callback", f"127.0.0.1:{port}", cwd=tmp_path, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert "--callback" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_callback_is_parsed_from_the_platform_headers_and_the_meta_envelope() -> None:
    body = json.dumps({"result": {}, "meta": {"cold": True, "instance": "i-1"}}).encode()
    headers = {
        "X-Call-Id": "c-1",
        "X-Function-Status": "500",
        "X-Duration-Seconds": "0.250000",
        "X-Function-Name": "echo",
    }
    completion = parse_completion(headers, body, 10, 20)
    assert completion is not None
    assert (completion.call_id, completion.function_status) == ("c-1", 500)
    assert (completion.duration_s, completion.function) == (0.25, "echo")
    assert (completion.cold, completion.instance) == (True, "i-1")
    assert parse_completion({"X-Function-Status": "200"}, b"", 1, 2) is None
    garbled = parse_completion({"X-Call-Id": "c", "X-Function-Status": "x"}, b"{", 1, 2)
    assert garbled is not None
    assert garbled.function_status is None
    assert garbled.cold is None


def test_percentiles_are_exact_nearest_rank() -> None:
    values = list(np.random.default_rng(7).lognormal(3, 1, 997))
    stats = _stats(values)
    assert stats is not None
    for key, percent in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
        expected = float(np.percentile(values, percent, method="inverted_cdf"))
        assert getattr(stats, key) == round(expected, 3)
    assert stats.max == round(max(values), 3)


def test_completions_are_counted_in_the_second_they_arrive() -> None:
    second = 1_000_000_000
    assert _per_second([5, second - 1, second, 3 * second + 7], 0) == [2, 1, 0, 1]
    assert _per_second([], 0) == []
