"""A failing cell is recorded as failed with its reason and the campaign goes on: priming that
times out, and a cell whose every request fails, are never "complete"; a results directory that
cannot be written is a clear refusal, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.loadgen_servers import ScriptedServer
from support.sample_outputs import outputs_for
from support.scripted_platform import ScriptedPlatform

from contract.outputs import StackOutputs
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.config import ExperimentConfig
from loadgen.platforms.base import FunctionSpec, InvokeTarget
from loadgen.results.tree import open_results

OUTPUTS = outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False)

#: Where each function's requests go on the scripted server.
PATHS = {"echo": "/stall", "sleep": "/status/400", "matrix": "/ok"}


class PathPlatform(ScriptedPlatform):
    """A platform whose functions are paths of a scripted HTTP server."""

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        return InvokeTarget(url=self.server.url(PATHS[function.function]), method="GET")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


def test_failing_cells_are_recorded_with_their_reason_and_the_campaign_goes_on(
    server: ScriptedServer, tmp_path: Path
) -> None:
    document = {
        "name": "failures",
        "processes": 1,
        "timeouts": {"request_s": 0.5},
        "functions": {"echo": {}, "sleep": {}, "matrix": {}},
        "experiments": [
            {"name": "u", "kind": "users", "functions": ["echo", "sleep", "matrix"],
             "users": [1], "requests": 3},
        ],
    }  # fmt: skip
    config = ExperimentConfig.model_validate(document)
    campaign = Campaign(
        config,
        StackOutputs.model_validate(OUTPUTS),
        tmp_path / "results",
        base=tmp_path,
        platform_factory=lambda outputs, image: PathPlatform(server),  # type: ignore[arg-type,return-value]
    )
    try:
        report = campaign.run()
    finally:
        campaign.close()
    assert not report.interrupted
    outcomes = {outcome.cell.function: outcome for outcome in report.outcomes}
    assert outcomes["echo"].status == "failed"
    assert outcomes["echo"].reason is not None
    assert outcomes["echo"].reason.startswith(f"priming {server.url('/stall')} failed")
    assert outcomes["sleep"].status == "failed"
    assert outcomes["sleep"].reason == "no request succeeded (3 sent, 3 errors)"
    assert outcomes["matrix"].status == "complete"
    tree = open_results(tmp_path / "results")
    statuses = {cell.info.function: (cell.info.status, cell.info.reason) for cell in tree.cells}
    assert statuses["sleep"] == ("failed", "no request succeeded (3 sent, 3 errors)")
    assert statuses["matrix"] == ("complete", None)
    assert tree.manifest.ended is not None


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "run", "campaign.yaml", "--stack-outputs", str(outputs),
         *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _campaign(tmp_path: Path, results_dir: str | None = None) -> None:
    document: dict[str, Any] = {
        "name": "dirs",
        "functions": {"echo": {}},
        "experiments": [
            {"name": "u", "kind": "users", "functions": ["echo"], "users": [1], "requests": 1}
        ],
    }
    if results_dir is not None:
        document["results_dir"] = results_dir
    (tmp_path / "campaign.yaml").write_text(yaml.safe_dump(document))


def test_an_unwritable_results_directory_is_a_clear_refusal(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    places = [tmp_path / "a-file" / "results"]
    if os.geteuid() != 0:  # root writes through directory permissions
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        places.append(locked / "results")
    _campaign(tmp_path)
    for place in places:
        result = _run(tmp_path, "--results", str(place))
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"loadgen run: --results: {place.parent}")
        assert "cannot write there" in line or "not a directory" in line.lower()


def test_a_results_path_that_is_a_file_is_a_clear_refusal(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a directory")
    _campaign(tmp_path)
    result = _run(tmp_path, "--results", str(tmp_path / "taken"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"loadgen run: --results: {tmp_path / 'taken'} exists and is not a directory"
    )


def test_a_results_dir_from_the_file_may_not_leave_the_working_directory(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "escape").symlink_to(outside)
    _campaign(work, "escape/results")
    result = _run(work)
    assert result.returncode == 2, result.stderr
    assert "results_dir: escape/results leads outside the working directory" in result.stderr
    assert not (outside / "results").exists()
