"""A campaign over a loader pool: a loader lost mid-cell leaves that cell partial with the
surviving loader's data and the reason, the campaign goes on, the manifest keeps every loader's
clock, and `--resume` skips what is done as ever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.loader_pool import LoaderKiller, wait_for_loaders
from support.loadgen_servers import ScriptedServer, Target
from support.sample_outputs import outputs_for
from support.scripted_platform import ScriptedPlatform

from contract.outputs import StackOutputs
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.config import ExperimentConfig
from loadgen.loaders.pool import LoaderPool
from loadgen.platforms.base import FunctionSpec, InvokeTarget
from loadgen.results.models import CampaignManifest
from loadgen.results.tree import open_results

OUTPUTS = outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False)


class HaproxyPlatform(ScriptedPlatform):
    """Every function is HAProxy's fixed answer."""

    def __init__(self, server: ScriptedServer, target: Target) -> None:
        super().__init__(server)
        self.target = target

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        return InvokeTarget(url=self.target.url("/"), method="GET")


def _campaign(
    tmp_path: Path, pool: LoaderPool, platform: HaproxyPlatform, *, resume: bool = False
) -> Campaign:
    config = ExperimentConfig.model_validate(
        {
            "name": "pool",
            "processes": 1,
            "functions": {"echo": {}},
            "experiments": [
                {"name": "r", "kind": "rates", "functions": ["echo"], "rates": [300, 310],
                 "duration_s": 3, "arrival": "constant"},
            ],
        }
    )  # fmt: skip
    return Campaign(
        config,
        StackOutputs.model_validate(OUTPUTS),
        tmp_path / "results",
        base=tmp_path,
        resume=resume,
        platform_factory=lambda outputs, image: platform,  # type: ignore[arg-type,return-value]
        loaders=pool,
    )


@pytest.mark.slow  # two 3-second cells over a pool, then a resume: about 30 s
def test_a_lost_loader_makes_its_cell_partial_and_the_campaign_goes_on(
    pool: LoaderPool, haproxy: Target, scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    platform = HaproxyPlatform(scripted_server, haproxy)
    addresses = wait_for_loaders(pool, 2)
    killer = LoaderKiller(pool, addresses[1], "loader-1", after=100)
    campaign = _campaign(tmp_path, pool, platform)
    try:
        report = campaign.run()
    finally:
        campaign.close()
    assert killer.killed.is_set()
    first, second = report.outcomes
    assert first.status == "partial"
    assert first.reason is not None
    assert "loader-1 lost" in first.reason
    assert second.status == "complete"
    tree = open_results(tmp_path / "results")
    statuses = [(cell.info.status, cell.info.reason) for cell in tree.cells]
    assert statuses[0] == ("partial", first.reason)
    assert statuses[1] == ("complete", None)
    (partial_cell,) = [cell for cell in tree.cells if cell.info.status == "partial"]
    segments = json.loads((partial_cell.path / "summary.json").read_text())["segments"]
    summary = segments[0]["summary"]
    assert summary["partial"] is True
    assert summary["ok"] == summary["loaders"][0]["ok"] > 0
    assert [loader["status"] for loader in summary["loaders"]] == ["completed", "lost"]
    manifest = CampaignManifest.model_validate_json(
        (tmp_path / "results" / "manifest.json").read_text()
    )
    assert manifest.loaders is not None
    assert manifest.loaders.spec == "local:2"
    runs = manifest.loaders.runs
    assert {run.cell for run in runs} == {cell.info.id for cell in tree.cells}
    assert ("loader-1", "lost") in {(run.name, run.status) for run in runs}
    assert all(run.clock_uncertainty_ms >= 0 for run in runs)

    again = _campaign(tmp_path, pool, platform, resume=True)
    try:
        resumed = again.run()
    finally:
        again.close()
    assert (resumed.skipped, resumed.outcomes) == (2, [])
    kept = CampaignManifest.model_validate_json(
        (tmp_path / "results" / "manifest.json").read_text()
    )
    assert kept.loaders is not None
    assert kept.loaders.runs == runs
