"""`loadgen hit --loaders`: the JSON summary names every loader with its clock and start skew;
without --loaders the summary is exactly as before."""

import json
import subprocess
import sys

import pytest
from support.loadgen_servers import Target

from loadgen.loaders.models import DistributedSummary, LoaderStats
from loadgen.metrics.summary import Summary
from loadgen.results.models import CampaignManifest, ClockInfo, LoadersInfo, PlatformInfo


def _hit(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "hit", url, "--json", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow  # starts its own LocalCluster: 10 s idle, 30 s on a busy machine
def test_hit_json_names_each_loader_with_its_clock_and_start_skew(haproxy: Target) -> None:
    done = _hit(haproxy.url("/"), "--rate", "300", "-n", "600", "--loaders", "local:2",
                "--processes", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == set(DistributedSummary.model_fields)
    assert (summary["requests"], summary["processes"], summary["loaders_spec"]) == (
        600,
        2,
        "local:2",
    )
    assert summary["partial"] is False
    loaders = summary["loaders"]
    assert [loader["name"] for loader in loaders] == ["loader-0", "loader-1"]
    for loader in loaders:
        assert set(loader) == set(LoaderStats.model_fields)
        assert isinstance(loader["clock_offset_ms"], float)
        assert loader["clock_uncertainty_ms"] >= 0
        assert loader["start_skew_ms"] >= 0
        assert loader["requests"] == 300
    assert summary["start_skew_ms"] == max(loader["start_skew_ms"] for loader in loaders)


def test_without_loaders_the_summary_keys_are_unchanged(haproxy: Target) -> None:
    done = _hit(haproxy.url("/"), "-n", "20", "-c", "2", "--processes", "1")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == set(Summary.model_fields)
    assert "loaders" not in summary


def test_a_manifest_names_loaders_only_for_a_pool() -> None:
    manifest = CampaignManifest(
        campaign="c",
        config_hash="h",
        config={},
        tool_version="0",
        started="2026-01-01T00:00:00Z",
        host="h",
        clock=ClockInfo(source="s", synced=True),
        platform=PlatformInfo(cloud="local", orchestrator="k8s", framework="openfaas"),
    )
    assert "loaders" not in manifest.document()
    # Nor trace-file digests, but for a campaign with trace files: the manifest is as ever.
    assert manifest.document() == manifest.model_dump(mode="json", exclude={"loaders", "inputs"})
    traced = manifest.model_copy(update={"inputs": {"experiments.0.file": "sha256:00"}})
    assert traced.document()["inputs"] == {"experiments.0.file": "sha256:00"}
    pooled = manifest.model_copy(update={"loaders": LoadersInfo(spec="local:2")})
    assert pooled.document()["loaders"] == {"spec": "local:2", "runs": []}
