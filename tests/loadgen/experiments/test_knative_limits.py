"""Campaigns on a Knative stack: examples/knative.yaml passes `loadgen validate` against a
Knative stack's outputs, and what Knative cannot do is refused up front, each problem naming
its field and the limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.sample_outputs import outputs_for
from typer.testing import CliRunner

from contract.outputs import StackOutputs
from loadgen.cli import app
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility import feasibility_problems

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


def knative_outputs(max_scale_limit: int = 0) -> dict[str, Any]:
    base = outputs_for("openfaas", "k8s")
    base.pop("openfaas")
    return {
        **base,
        "framework": "knative",
        "kubeconfig": "apiVersion: v1\nkind: Config\n",
        "knative": {
            "url": base["gateway_url"],
            "domain": "knative.faasbench.test",
            "namespace": "knative-fn",
            "ingress": "kourier",
            "scale_to_zero_grace_period_s": 30,
            "stable_window_s": 60,
            "max_scale_limit": max_scale_limit,
            "versions": {"serving": "v1.23.0", "kourier": "v1.23.0"},
            "manifests": {"serving-core": "0" * 64},
        },
    }


def test_the_knative_example_is_valid_on_a_knative_stack(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(knative_outputs()))
    result = runner.invoke(
        app, ["validate", str(ROOT / "examples/knative.yaml"), "--stack-outputs", str(outputs)]
    )
    assert result.exit_code == 0, result.output
    assert "valid on" in result.output


def test_the_knative_example_is_refused_where_knobs_do_not_apply(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(outputs_for("openfaas", "k8s")))
    result = runner.invoke(
        app, ["validate", str(ROOT / "examples/knative.yaml"), "--stack-outputs", str(outputs)]
    )
    assert result.exit_code == 2
    assert "functions.echo.knative: Knative knobs apply to framework knative only" in result.output


def _config(**changes: Any) -> ExperimentConfig:
    document = yaml.safe_load((ROOT / "examples/knative.yaml").read_text())
    for path, value in changes.items():
        node = document
        *parents, last = path.split("/")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    return ExperimentConfig.model_validate(document)


def test_limits_of_the_stack_and_of_each_function_are_checked() -> None:
    outputs = StackOutputs.model_validate(knative_outputs(max_scale_limit=8))
    found = feasibility_problems(_config(), outputs, ROOT)
    assert "experiments.1.replicas.2: 10 replicas > the cluster's max-scale-limit 8" in (
        " ".join(found)
    )
    assert any(
        p.startswith("functions.matrix.knative.max_scale: 20 > the cluster's max-scale-limit 8")
        for p in found
    )
    unbounded = _config(**{"functions/echo/knative": {"max_scale": 0}})
    found = feasibility_problems(unbounded, outputs, ROOT)
    assert (
        "functions.echo.knative.max_scale: 0 (unbounded) is refused under the cluster's "
        "max-scale-limit 8 (knativeMaxScaleLimit)"
    ) in found
    capped = _config(**{"functions/matrix/knative": {"max_scale": 4}})
    found = feasibility_problems(capped, StackOutputs.model_validate(knative_outputs()), ROOT)
    assert found == [
        "experiments.1.replicas.1: 5 replicas > functions.matrix.knative.max_scale 4",
        "experiments.1.replicas.2: 10 replicas > functions.matrix.knative.max_scale 4",
    ]


def test_request_timeouts_beyond_knatives_maximum_are_refused() -> None:
    config = _config(timeouts={"request_s": 900})
    found = feasibility_problems(config, StackOutputs.model_validate(knative_outputs()), ROOT)
    assert found == [
        "timeouts.request_s: 900 s > Knative's max-revision-timeout-seconds 600 (each "
        "Service's request timeout)"
    ]


def test_natural_cold_starts_need_a_function_that_may_scale_to_zero() -> None:
    config = _config(**{"functions/echo/knative": {"min_scale": 1}})
    found = feasibility_problems(config, StackOutputs.model_validate(knative_outputs()), ROOT)
    assert found == [
        "experiments.5.method: natural cold starts need echo to scale to zero, and "
        "functions.echo.knative.min_scale is 1"
    ]


@pytest.mark.parametrize(
    ("knobs", "message"),
    [
        ({"min_scale": 3, "max_scale": 2}, "min_scale 3 is above max_scale 2"),
        ({"stable_window_s": 3601}, "stable_window_s"),
        ({"class": "hpa"}, "class"),
        ({"targt": 5}, "targt"),
    ],
)
def test_bad_knobs_are_refused_with_their_path(
    knobs: dict[str, Any], message: str, tmp_path: Path
) -> None:
    document = yaml.safe_load((ROOT / "examples/knative.yaml").read_text())
    document["functions"]["echo"]["knative"] = knobs
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "functions.echo.knative" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_campaign_manifest_records_knatives_versions_and_settings() -> None:
    from loadgen.results.manifest import build_manifest

    manifest = build_manifest(
        campaign="knative",
        config={"name": "knative"},
        seed=1,
        outputs=StackOutputs.model_validate(knative_outputs()),
        cold_start_method="delete-pods",
        started="2026-12-03T00:00:00Z",
    )
    assert manifest.platform.framework == "knative"
    assert manifest.platform.versions.provider == "knative-serving v1.23.0"
    assert manifest.platform.versions.gateway == "kourier v1.23.0"
    assert manifest.cold_start_methods == ["delete-pods"]
    recorded = manifest.outputs["knative"]
    assert recorded["scale_to_zero_grace_period_s"] == 30
    assert recorded["manifests"] == {"serving-core": "0" * 64}
