"""The whole cycle with the local target playing the stack: the fake `pulumi` exports the
target's outputs, so `faasbench study` runs a real campaign from this machine, aggregates and
reports it, and destroys the stack; Ctrl-C in the middle of the run destroys the stack and says
so, and the same command then resumes the campaign (`loadgen run --resume`) and finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.faasbench_world import World, make_world
from support.local_target import LocalTarget, start_target, stop_target

#: Two cells: long enough (an open loop of 3 s) for Ctrl-C to land inside the run.
CAMPAIGN = {
    "name": "study-e2e",
    "number_of_runs": 1,
    "seed": 5,
    "processes": 1,
    "timeouts": {"deploy_s": 60, "ready_s": 60, "request_s": 30},
    "functions": {"echo": {"params": {"message": "hi"}}},
    "experiments": [
        {"name": "users", "kind": "users", "functions": ["echo"], "users": [1], "requests": 20},
        {"name": "open", "kind": "rates", "functions": ["echo"], "rates": [30], "duration_s": 3,
         "arrival": "constant"},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    running = start_target(tmp_path_factory.mktemp("target"))
    try:
        yield running
    finally:
        stop_target(running)


def wait_for(path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


@pytest.mark.slow
def test_study_interrupted_then_resumed_to_a_report(target: LocalTarget, tmp_path: Path) -> None:
    world: World = make_world(tmp_path)
    world.env["FAKE_PULUMI_OUTPUTS"] = str(target.directory / "outputs.json")
    world.campaign.write_text(yaml.safe_dump(CAMPAIGN))

    first = subprocess.Popen(
        [sys.executable, "-m", "faasbench", *world.study_args()],
        cwd=world.base,
        env=world.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Ctrl-C once the campaign has begun (its results directory holds a manifest).
    wait_for(world.study / "results" / "manifest.json")
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=300)
    assert first.returncode == 130, output
    assert "faasbench: interrupted: destroying stack dev (--keep keeps it)" in output
    assert "stack dev destroyed" in output
    assert "$ loadgen run" in output
    assert "--remote" not in output  # the local target has no loader: the run is from here
    assert world.commands()[-2:] == ["destroy", "stack history"]
    assert world.state()["started"] == ["up", "run"]
    assert world.state()["done"] == {}

    calls_before = len(world.calls())
    resumed = world.invoke(*world.study_args())
    assert resumed.exit_code == 0, resumed.output
    run_line = next(x for x in resumed.output.splitlines() if "$ loadgen run" in x)
    assert run_line.endswith("--resume")
    assert "+ 12 created" in resumed.output  # the stack destroyed on Ctrl-C is made again
    report = world.study / "report.html"
    assert report.is_file()
    assert "<html" in report.read_text()[:2000].lower()
    assert (world.study / "results" / "summary" / "stats.parquet").is_file()
    manifest = json.loads((world.study / "results" / "manifest.json").read_text())
    assert manifest["ended"] is not None
    assert set(world.state()["done"]) == {"run", "aggregate", "report", "destroy"}
    assert world.commands()[calls_before:][-2:] == ["destroy", "stack history"]
    assert f"done: report {report}; stack dev destroyed" in resumed.output

    calls_before = len(world.calls())
    again = world.invoke(*world.study_args())
    assert again.exit_code == 0
    assert "is complete and its stack destroyed" in again.output
    assert len(world.calls()) == calls_before  # nothing to do: not even the CLI is asked
    assert os.stat(world.study / "outputs.json").st_mode & 0o777 == 0o600
