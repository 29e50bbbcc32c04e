"""`loadgen run` against a local OpenWhisk controller that runs the suite's actions for real:
nested chain calls and a native sequence, forced cold starts by action update, and activation
records joined to requests by activation id."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.openwhisk_spec import SwaggerSpec

from loadgen.analysis.cold_starts import cold_start_parts
from loadgen.analysis.completion_rows import cell_completions
from loadgen.analysis.requests import load_requests
from loadgen.completions.summary import backlog
from loadgen.results.tree import open_results

AUTH = "9c1d3b2a-5f6e-4d7c-8b9a-0a1b2c3d4e5f:" + "w" * 64


@pytest.fixture
def controller() -> Iterator[Any]:
    from support.fake_openwhisk import running_openwhisk

    with running_openwhisk(SwaggerSpec.load(), AUTH) as fake:
        yield fake
    assert fake.violations == []


def test_a_campaign_on_openwhisk_records_activations(controller: Any, tmp_path: Path) -> None:
    outputs = {
        "cloud": "existing",
        "orchestrator": "k8s",
        "framework": "openwhisk",
        "gateway_url": controller.url,
        "openwhisk": {
            "api_host": controller.url,
            "auth": AUTH,
            "namespace": "guest",
            "insecure_tls": False,
            "idle_timeout_s": 600,
        },
    }
    experiment = {
        "name": "ow",
        "processes": 1,
        "functions": {
            "chain": {"params": {"n": 5}, "sequence": True},
            "matrix": {"params": {"n": 5}},
            "echo": {},
        },
        "experiments": [
            {"name": "users", "kind": "users", "functions": ["chain", "echo"], "users": [2],
             "requests": 6},
            {"name": "cold", "kind": "cold", "functions": ["echo"], "method": "forced",
             "count": 2},
        ],
    }  # fmt: skip
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "loadgen", "run", "experiment.yaml",
         "--stack-outputs", "outputs.json", "--results", str(results), "--plain"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    tree = open_results(results)
    cells = {cell.info.id: cell for cell in tree.cells}
    assert set(cells) == {
        "users--chain--users-2--run000",
        "users--echo--users-2--run000",
        "cold--echo--none--run000",
    }
    for cell in tree.cells:
        requests = load_requests(cell.record_paths(), cell.platform_records())
        assert requests.ok.all(), cell.info.id
        # Every request found its activation record by the captured activation id.
        assert (requests.platform_index >= 0).all(), cell.info.id
    cold = load_requests(
        cells["cold--echo--none--run000"].record_paths(),
        cells["cold--echo--none--run000"].platform_records(),
    )
    assert list(cold.meta_cold) == [1, 1]
    assert list(cold.platform_cold) == [1, 1]
    assert cells["cold--echo--none--run000"].info.cold_method == "action-update"
    # Each cold start's parts: the PUT, the gap, the first response and the init OpenWhisk
    # reported for that very activation, which lies inside it.
    parts = cold_start_parts(cells["cold--echo--none--run000"].segments(), cold)
    assert len(parts) == 2
    inits = {record.id: record.init_ms for record in cold.platform}
    for part, call_id in zip(parts, cold.ids, strict=True):
        assert part.to_ready is not None
        assert part.ready_to_send is not None
        assert part.first_latency is not None
        assert part.init == inits[call_id]
        assert part.init is not None
        assert 0 < part.init <= part.first_latency
    # The sequence's requests ran matrix, the nested chain was never deployed as code.
    chain = load_requests(
        cells["users--chain--users-2--run000"].record_paths(),
        cells["users--chain--users-2--run000"].platform_records(),
    )
    assert chain.count == 6
    assert controller.actions == {}  # the campaign removed what it deployed


def test_closed_loop_async_jobs_wait_on_each_activation(controller: Any, tmp_path: Path) -> None:
    """Nothing calls back on OpenWhisk: each user's call is looked up by id until its
    activation has ended, then the user submits the next (the fake runs one at a time)."""
    outputs = {
        "cloud": "existing",
        "orchestrator": "k8s",
        "framework": "openwhisk",
        "gateway_url": controller.url,
        "openwhisk": {"api_host": controller.url, "auth": AUTH, "namespace": "guest",
                      "insecure_tls": False, "idle_timeout_s": 600},
    }  # fmt: skip
    common = {"kind": "users", "functions": ["sleep"], "invocation": "async"}
    experiment = {
        "name": "ow-jobs",
        "processes": 1,
        "functions": {"sleep": {"params": {"ms": 150}}},
        "experiments": [
            {**common, "name": "jobs", "users": [2], "requests": 6, "completion_deadline_s": 60},
            {**common, "name": "lost", "users": [2], "requests": 4, "completion_deadline_s": 0.05},
            # An open loop submits on its schedule and lists the activations afterwards.
            {
                "name": "open",
                "kind": "rates",
                "functions": ["sleep"],
                "rates": [10],
                "duration_s": 0.5,
                "arrival": "constant",
                "invocation": "async",
                "completion_deadline_s": 60,
            },
        ],
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "loadgen", "run", "experiment.yaml",
         "--stack-outputs", "outputs.json", "--results", str(results), "--plain"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    cells = {c.info.id.split("--")[0]: c for c in open_results(results).cells}

    def segment(name: str) -> dict[str, Any]:
        [only] = json.loads((cells[name].path / "summary.json").read_text())["segments"]
        return dict(only)

    jobs = segment("jobs")
    assert jobs["completions"]["accepted"] == 6
    assert jobs["completions"]["completed"] == 6
    assert jobs["completions"]["lost"] == 0
    assert jobs["completions"]["job_deadline_s"] == 60
    assert jobs["listing"]["requests"] >= 6  # at least one look-up per job
    joined = cell_completions(cells["jobs"])
    assert joined is not None
    assert max(backlog(joined)[1]) <= 2
    lost = segment("lost")
    assert (lost["completions"]["accepted"], lost["completions"]["lost"]) == (4, 4)
    assert lost["completions"]["completed"] == 0
    # The activation ids join the submissions to their activations (X-Openwhisk-Activation-Id).
    open_loop = segment("open")
    assert open_loop["completions"]["accepted"] == 5
    assert open_loop["completions"]["completed"] == 5
    assert open_loop["completions"]["job_deadline_s"] is None
    assert open_loop["listing"]["polls"] >= 1
