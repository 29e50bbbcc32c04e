"""`invocation` in a campaign: validate refuses an invocation the stack's platform lacks
(naming the field and what the platform has) and warns, for asynchronous calls, about the queue
they wait in; the cells carry the invocation and the completion deadline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from support.sample_outputs import outputs_for
from typer.testing import CliRunner

from loadgen.cli import app
from loadgen.experiments.campaign_file import load_experiment
from loadgen.experiments.cells import expand

runner = CliRunner()


def campaign(tmp_path: Path, invocation: str, **extra: object) -> Path:
    document = {
        "name": "inv",
        "functions": {"echo": {}},
        "experiments": [
            {
                "name": "open",
                "kind": "rates",
                "functions": ["echo"],
                "rates": [5],
                "duration_s": 2,
                "invocation": invocation,
                **extra,
            }
        ],
    }
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def outputs(tmp_path: Path, framework: str, **limits: object) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs_for(framework, "k8s", **limits)))
    return path


@pytest.mark.parametrize(
    ("framework", "invocation", "refused"),
    [
        ("openfaas", "sync", False),
        ("openfaas", "async", False),
        ("openfaas", "web", True),
        ("openwhisk", "sync", False),
        ("openwhisk", "async", False),
        ("openwhisk", "web", False),
    ],
)
def test_an_invocation_the_platform_lacks_is_refused(
    tmp_path: Path, framework: str, invocation: str, refused: bool
) -> None:
    path = campaign(tmp_path, invocation)
    result = runner.invoke(
        app, ["validate", str(path), "--stack-outputs", str(outputs(tmp_path, framework))]
    )
    if refused:
        assert result.exit_code == 2, result.output
        assert "experiments.0.invocation: web is not an invocation of openfaas" in result.output
        assert "(it has sync, async)" in result.output
    else:
        assert result.exit_code == 0, result.output


def test_asynchronous_calls_on_community_edition_warn_about_its_queue(tmp_path: Path) -> None:
    ce = outputs(tmp_path, "openfaas", max_functions=15, max_replicas=5, scale_to_zero=False)
    result = runner.invoke(
        app, ["validate", str(campaign(tmp_path, "async")), "--stack-outputs", str(ce)]
    )
    assert result.exit_code == 0, result.output
    assert "warning: experiments open (invocation: async)" in result.output
    assert "one call at a time" in result.output
    synchronous = runner.invoke(
        app, ["validate", str(campaign(tmp_path, "sync")), "--stack-outputs", str(ce)]
    )
    assert "warning" not in synchronous.output


def test_cells_carry_the_invocation_and_deadline(tmp_path: Path) -> None:
    path = campaign(tmp_path, "async", completion_deadline_s=12.5)
    cells = expand(load_experiment(path), tmp_path)
    assert {(c.invocation, c.completion_deadline_s) for c in cells} == {("async", 12.5)}
    default = expand(load_experiment(campaign(tmp_path, "sync")), tmp_path)
    assert {c.completion_deadline_s for c in default} == {60.0}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"invocation": "later"}, "experiments.0.invocation"),
        ({"completion_deadline_s": 0}, "experiments.0.completion_deadline_s"),
        ({"completion_deadline_s": True}, "experiments.0.completion_deadline_s"),
    ],
)
def test_bad_invocation_keys_name_their_field(
    tmp_path: Path, extra: dict[str, object], field: str
) -> None:
    path = campaign(tmp_path, "sync")
    document = yaml.safe_load(path.read_text())
    document["experiments"][0].update(extra)
    path.write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "Traceback" not in result.output


def test_closed_loop_jobs_run_on_this_machine_only(tmp_path: Path) -> None:
    """Their users wait on this machine's receiver: `--loaders` is refused before any pool."""
    document = yaml.safe_load(campaign(tmp_path, "async").read_text())
    document["experiments"].append(
        {"name": "jobs", "kind": "users", "functions": ["echo"], "users": [2], "requests": 4,
         "invocation": "async"}
    )  # fmt: skip
    path = tmp_path / "jobs.yaml"
    path.write_text(yaml.safe_dump(document))
    stack = str(outputs(tmp_path, "openwhisk"))
    assert runner.invoke(app, ["validate", str(path), "--stack-outputs", stack]).exit_code == 0
    result = runner.invoke(
        app, ["run", str(path), "--stack-outputs", stack, "--loaders", "local:2"]
    )
    assert result.exit_code == 2, result.output
    assert "experiments.1 runs closed-loop asynchronous jobs" in result.output
    assert "without --loaders" in result.output
