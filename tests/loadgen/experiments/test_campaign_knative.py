"""`loadgen run` against the fake Kubernetes API with Knative's behaviour and its Kourier-like
front: Services applied and removed, requests routed by Host header, forced cold starts by pod
deletion recorded with the activator flag, and the functions' meta envelope confirming them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.knative import DOMAIN, FUNCTION_NAMESPACE
from loadgen.analysis.cold_starts import BOOT_IN, cold_start_parts
from loadgen.analysis.requests import load_requests
from loadgen.results.tree import open_results

TOKEN = "campaign-token-" + "k" * 16


@pytest.fixture
def knative() -> Iterator[Any]:
    from support.fake_knative import knative_crds, running_knative

    with running_knative(
        knative_crds(), TOKEN, namespace=FUNCTION_NAMESPACE, domain=DOMAIN
    ) as fake:
        yield fake
    assert fake.violations == []


def test_a_campaign_on_knative_forces_cold_starts_by_deleting_pods(
    knative: Any, tmp_path: Path
) -> None:
    kubeconfig = yaml.safe_dump(
        {
            "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": knative.api_url}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
        }
    )
    outputs = {
        "cloud": "existing",
        "orchestrator": "k8s",
        "framework": "knative",
        "gateway_url": knative.front_url,
        "kubeconfig": kubeconfig,
        "knative": {
            "url": knative.front_url,
            "domain": DOMAIN,
            "namespace": FUNCTION_NAMESPACE,
            "scale_to_zero_grace_period_s": 30,
            "stable_window_s": 60,
            "max_scale_limit": 0,
            "versions": {"serving": "v1.23.0", "kourier": "v1.23.0"},
            "manifests": {"serving-core": "0" * 64},
        },
    }
    experiment = {
        "name": "kn",
        "processes": 1,
        "functions": {"echo": {"knative": {"min_scale": 1, "target": 5}}},
        "experiments": [
            {"name": "users", "kind": "users", "functions": ["echo"], "users": [2],
             "requests": 6},
            {"name": "cold", "kind": "cold", "functions": ["echo"], "method": "forced",
             "count": 2},
        ],
    }  # fmt: skip
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "loadgen", "run", "experiment.yaml", "--stack-outputs",
         "outputs.json", "--results", str(results), "--plain", "--image", "example/fn:1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    tree = open_results(results)
    cells = {cell.info.id: cell for cell in tree.cells}
    assert set(cells) == {"users--echo--users-2--run000", "cold--echo--none--run000"}
    for cell in tree.cells:
        requests = load_requests(cell.record_paths(), cell.platform_records())
        assert requests.ok.all(), cell.info.id
    cold_cell = cells["cold--echo--none--run000"]
    assert cold_cell.info.cold_method == "delete-pods"
    cold = load_requests(cold_cell.record_paths(), cold_cell.platform_records())
    # Each first request after a pod deletion met a fresh pod.
    assert list(cold.meta_cold) == [1, 1]
    summary = json.loads((cold_cell.path / "summary.json").read_text())
    events = [s["cold_start"] for s in summary["segments"] if s.get("cold_start")]
    assert len(events) == 2
    assert {e["method"] for e in events} == {"delete-pods"}
    assert all("activator_in_path" in e for e in events)
    parts = cold_start_parts(cold_cell.segments(), cold)
    assert len(parts) == 2
    assert all(p.to_ready is not None and p.first_latency is not None for p in parts)
    assert BOOT_IN["delete-pods"] == "to_ready"
    assert len(knative.deleted_pods) >= 2
    assert knative.services == {}  # the campaign removed what it deployed
    # Requests reached the Service by its Host header through the front.
    assert ("echo", "/") in knative.invocations
