"""`loadgen run` end to end on the local target: the results tree, forced cold starts, the
manifest without secrets, resume after a kill, and what the CLI refuses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from support.cli import run_loadgen
from support.local_target import LocalTarget

from loadgen.analysis.requests import load_requests
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import expand
from loadgen.results.tree import open_results
from loadgen.version import loadgen_version

SMALL = {
    "name": "ci-demo",
    "number_of_runs": 2,
    "seed": 3,
    "order": "shuffled",
    "processes": 1,
    "timeouts": {"deploy_s": 60, "ready_s": 60, "request_s": 30},
    "functions": {
        "echo": {"params": {"message": "hi"}},
        "matrix": {"params": {"n": {"min": 10, "max": 30}}},
        "ftp": {},
        "chain": {"params": {"depth": 1, "n": 10}},
    },
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo", "matrix"], "users": [1, 3],
         "requests": 30},
        {"name": "io", "kind": "users", "functions": ["ftp", "chain"], "users": [2],
         "requests": 6},
        {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [40], "duration_s": 1,
         "arrival": "constant"},
        {"name": "cold", "kind": "cold", "functions": ["echo"], "method": "forced", "count": 2},
    ],
}  # fmt: skip
#: The same study cut to one run of one cell per function and kind (5 cells): every function,
#: forced cold starts and the whole results tree, in the fast tier; SMALL runs in the slow one.
SMALLEST = {
    **SMALL,
    "number_of_runs": 1,
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo", "matrix"], "users": [2],
         "requests": 10},
        {"name": "io", "kind": "users", "functions": ["ftp", "chain"], "users": [1],
         "requests": 3},
        {"name": "cold", "kind": "cold", "functions": ["echo"], "method": "forced", "count": 2},
    ],
}  # fmt: skip


def requests_per_cell(document: dict[str, Any]) -> dict[str, int]:
    """What each experiment of `document` sends per cell."""
    counts = {}
    for experiment in document["experiments"]:
        kind = experiment["kind"]
        if kind == "users":
            counts[experiment["name"]] = experiment["requests"]
        elif kind == "rates":
            counts[experiment["name"]] = experiment["rates"][0] * experiment["duration_s"]
        else:
            counts[experiment["name"]] = experiment["count"]
    return counts


def loadgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_loadgen(*args, cwd=cwd, timeout=600)


def experiment_file(tmp_path: Path, document: dict[str, object] = SMALL) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(SMALLEST, id="5-cells"),
        pytest.param(SMALL, id="16-cells", marks=pytest.mark.slow),
    ],
)
def test_a_campaign_writes_a_results_tree_the_analysis_reads(
    target: LocalTarget, tmp_path: Path, document: dict[str, Any]
) -> None:
    experiment = experiment_file(tmp_path, document)
    outputs = target.directory / "outputs.json"
    results = tmp_path / "results"
    run = loadgen("run", str(experiment), "--stack-outputs", str(outputs),
                  "--results", str(results), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    planned = [c.id for c in expand(load_experiment(experiment), tmp_path)]
    assert f"{len(planned)} cells done, 0 failed" in run.stdout
    tree = open_results(results)
    assert sorted(c.info.id for c in tree.cells) == sorted(planned)
    assert {c.info.status for c in tree.cells} == {"complete"}
    # Nothing left deployed, and no incomplete cell left behind.
    assert target.system("GET", "functions").json() == []
    assert not (results / ".incomplete").exists() or not any((results / ".incomplete").iterdir())

    for cell in tree.cells:
        requests = load_requests(cell.record_paths(), cell.platform_records())
        expected = requests_per_cell(document)[cell.info.id.split("--")[0]]
        assert requests.count == expected, cell.info.id
        assert requests.ok.all(), cell.info.id
        if cell.info.mode == "cold":
            # Every forced cold start is one: cold flag set, each on a new instance.
            assert cell.info.cold_method == "redeploy"
            assert list(requests.meta_cold) == [1, 1]
            assert len(set(requests.instance)) == 2
            # Each is recorded part by part: the redeploy, then the request it led to.
            segments = cell.segments()
            assert segments is not None
            for event in segments.segments:
                assert event.cold_start is not None
                assert event.first_request is not None
                assert event.cold_start.method == "redeploy"
                assert event.first_request.ok
                assert event.first_request.id in set(requests.ids)
                assert event.cold_start.effective_ns <= event.first_request.send_ns
        else:
            # Replicas are primed: a warm cell never opens with a cold start.
            assert not (requests.meta_cold == 1).any(), cell.info.id
    manifest_text = (results / "manifest.json").read_text()
    manifest = json.loads(manifest_text)
    secrets = [
        target.outputs["openfaas"]["password"],
        target.outputs["ftp"]["password"],
    ]
    assert not [s for s in secrets if s in manifest_text]
    assert manifest["platform"] == {
        "cloud": "local",
        "orchestrator": "local",
        "framework": "openfaas",
        "versions": manifest["platform"]["versions"],
    }
    assert manifest["ended"] is not None
    assert manifest["cold_start_methods"] == ["redeploy"]
    assert {"python", "uvloop", "httptools", "numpy"} <= set(manifest["packages"])
    assert manifest["tool_version"] == loadgen_version() != "0+unknown"
    assert "absent" not in manifest["packages"].values()
    assert any(path.name == "metrics.json" for path in results.rglob("metrics.json"))

    aggregate = loadgen("aggregate", str(results), cwd=tmp_path)
    assert aggregate.returncode == 0, aggregate.stderr
    # Each engine run's summary holds the loader host's load, and a forced cold-start cell's
    # throughput divides by its engine runs' time, not by the cold starts forced between them.
    for cell in tree.cells:
        loads = cell.segment_loads()
        assert len(loads) == len(load_requests(cell.record_paths()).engine_runs), cell.info.id
        assert all(load.host is not None and load.host.cpus for load in loads), cell.info.id
    rows = pq.read_table(results / "summary" / "stats.parquet").to_pylist()
    cold = {
        r["metric"]: r["value"]
        for r in rows
        if r["level"] == "cell" and r["mode"] == "cold" and r["subset"] == "all"
    }
    assert cold["active_s"] < cold["duration_s"]
    assert cold["throughput_rps"] == pytest.approx(2 / cold["active_s"])
    # Each forced cold start part by part, never summed.
    cold_group = {
        (row["metric"], row["stat"]): row["value"]
        for row in rows
        if row["level"] == "group" and row["mode"] == "cold"
    }
    runs = document["number_of_runs"]
    for component in ("to_ready", "ready_to_send", "first_latency"):
        assert cold_group[(f"cold_start_{component}_ms", "count")] == 2 * runs
        assert cold_group[(f"cold_start_{component}_ms", "mean")] > 0
    summary = json.loads((results / "summary" / "summary.json").read_text())
    (cold_entry,) = [g for g in summary["groups"] if g["mode"] == "cold"]
    assert cold_entry["cold_start_cost"]["boot_in"] == "to_ready"
    assert cold_entry["cold"]["ok"] == 2 * runs
    again = loadgen("run", str(experiment), "--stack-outputs", str(outputs),
                    "--results", str(results), cwd=tmp_path)  # fmt: skip
    assert again.returncode == 1
    assert "pass --resume to continue it" in again.stderr


def cell_ids(results: Path) -> list[str]:
    return sorted(p.name for p in (results / "cells").iterdir() if (p / "cell.json").is_file())


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
def test_a_stopped_campaign_resumes_to_the_same_cells(
    target: LocalTarget, tmp_path: Path, stop: signal.Signals
) -> None:
    document = {
        **SMALL,
        "number_of_runs": 1,
        "experiments": [
            {"name": "users", "kind": "users", "functions": ["echo"], "users": [1, 2, 3],
             "requests": 400},
            {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [20],
             "duration_s": 2},
        ],
    }  # fmt: skip
    experiment = experiment_file(tmp_path, document)
    outputs = target.directory / "outputs.json"
    results = tmp_path / "results"
    command = [sys.executable, "-m", "loadgen", "run", str(experiment), "--stack-outputs",
               str(outputs), "--results", str(results)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    # Stop it once one cell is done and the next is being measured.
    while time.monotonic() < deadline:
        incomplete = results / ".incomplete"
        if (
            (results / "cells").is_dir()
            and cell_ids(results)
            and incomplete.is_dir()
            and any((d / "records").is_dir() for d in incomplete.iterdir())
        ):
            break
        time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the campaign never reached its second cell")
    os.killpg(process.pid, stop)
    _, stderr = process.communicate(timeout=60)
    done_before = cell_ids(results)
    assert 1 <= len(done_before) < 4
    if stop == signal.SIGINT:
        assert process.returncode == 130, stderr
        assert "--resume" in stderr
    resumed = loadgen("run", str(experiment), "--stack-outputs", str(outputs),
                      "--results", str(results), "--resume", cwd=tmp_path)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(done_before)} already done" in resumed.stdout
    planned = sorted(c.id for c in expand(load_experiment(experiment), tmp_path))
    assert cell_ids(results) == planned
    tree = open_results(results)
    assert {c.info.status for c in tree.cells} == {"complete"}
    # Leftovers of the stopped run are gone from the platform.
    assert target.system("GET", "functions").json() == []


def test_resume_refuses_another_experiment_file(target: LocalTarget, tmp_path: Path) -> None:
    outputs = target.directory / "outputs.json"
    results = tmp_path / "results"
    small = {**SMALL, "number_of_runs": 1, "experiments": [SMALL["experiments"][2]]}  # type: ignore[index]
    first = loadgen("run", str(experiment_file(tmp_path, small)), "--stack-outputs", str(outputs),
                    "--results", str(results), cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    changed = {**small, "seed": 4}
    other = loadgen("run", str(experiment_file(tmp_path, changed)), "--stack-outputs", str(outputs),
                    "--results", str(results), "--resume", cwd=tmp_path)  # fmt: skip
    assert other.returncode == 1
    assert "of a different experiment file" in other.stderr
    assert "Traceback" not in other.stderr
