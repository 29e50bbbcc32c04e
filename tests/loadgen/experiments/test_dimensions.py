"""The cell dimensions `languages`, `memory_mb` and `input_sizes`: validation naming the field,
expansion into cells (ids, counts, params), what each cell deploys, and cell.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.loadgen_servers import ScriptedServer
from support.sample_outputs import outputs_for
from support.scripted_platform import ScriptedPlatform
from typer.testing import CliRunner

from contract.outputs import StackOutputs
from functions._params import IntParam, Param
from loadgen.cli import app
from loadgen.experiments import config as config_module
from loadgen.experiments.campaign import Campaign
from loadgen.experiments.cells import expand
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility import feasibility_problems, feasibility_warnings
from loadgen.platforms.base import FunctionSpec, InvokeTarget
from loadgen.results.manifest import config_hash
from loadgen.results.tree import open_results

runner = CliRunner()


def _document(**experiment: Any) -> dict[str, Any]:
    return {
        "name": "dims",
        "functions": {"echo": {}, "matrix": {}},
        "experiments": [
            {"name": "u", "kind": "users", "functions": ["echo", "matrix"], "users": [1, 4],
             "requests": 8, **experiment},
        ],
    }  # fmt: skip


def _validate(tmp_path: Path, document: dict[str, Any], *args: str) -> Any:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(document))
    return runner.invoke(app, ["validate", str(path), *args])


def test_absent_or_default_keys_keep_the_cells_and_their_ids(tmp_path: Path) -> None:
    plain = expand(ExperimentConfig.model_validate(_document()), tmp_path)
    explicit = expand(
        ExperimentConfig.model_validate(_document(languages=["python"], memory_mb=[256])),
        tmp_path,
    )
    assert (
        [c.id for c in plain]
        == [c.id for c in explicit]
        == [
            "u--echo--users-1--run000",
            "u--echo--users-4--run000",
            "u--matrix--users-1--run000",
            "u--matrix--users-4--run000",
        ]
    )
    assert {(c.language, c.memory_mb, c.input_size) for c in plain} == {("python", 256, None)}
    assert [c.params for c in plain] == [c.params for c in explicit]


def test_the_settings_and_their_hash_keep_out_the_dimensions_at_their_defaults() -> None:
    """A resumed campaign is matched by its settings' hash: a file without the keys (or with
    their defaults) hashes as it did before they existed."""
    plain = ExperimentConfig.model_validate(_document()).model_dump(mode="json", by_alias=True)
    defaults = ExperimentConfig.model_validate(
        _document(languages=["python"], memory_mb=[256], input_sizes=None)
    ).model_dump(mode="json", by_alias=True)
    assert plain == defaults
    assert not {"languages", "memory_mb", "input_sizes"} & set(plain["experiments"][0])
    assert config_hash(plain) == config_hash(defaults)
    swept = ExperimentConfig.model_validate(_document(memory_mb=[128, 256]))
    dumped = swept.model_dump(mode="json", by_alias=True)
    assert dumped["experiments"][0]["memory_mb"] == [128, 256]
    assert config_hash(dumped) != config_hash(plain)
    assert ExperimentConfig.model_validate(dumped) == swept


def test_languages_and_memory_multiply_the_cells_with_their_own_ids(tmp_path: Path) -> None:
    document = _document(languages=["python", "go"], memory_mb=[128, 256, 1024])
    document["number_of_runs"] = 2
    cells = expand(ExperimentConfig.model_validate(document), tmp_path)
    # 2 functions × 2 languages × 3 memory limits × 2 users values × 2 runs
    assert len(cells) == 48
    assert len({c.id for c in cells}) == 48
    ids = {c.id for c in cells}
    assert "u--echo--users-1--m128--run000" in ids
    assert "u--echo--users-1--run001" in ids  # python at 256 MiB: the id it always had
    assert "u--matrix--users-4--go--m1024--run001" in ids
    assert "u--matrix--users-4--go--run000" in ids
    go_1024 = [c for c in cells if c.language == "go" and c.memory_mb == 1024]
    assert len(go_1024) == 8
    assert all(c.id.split("--")[3:5] == ["go", "m1024"] for c in go_1024)
    # Variants of one function share their arrivals and random draws (common random numbers).
    echo = [c for c in cells if c.function == "echo" and c.run == 0 and c.sweep.value == 4]
    assert len({c.body for c in echo}) == 1
    assert len({c.segments for c in echo}) == 1


def _declares_input_size(monkeypatch: pytest.MonkeyPatch, function: str) -> None:
    """`function` declares an `input_size` parameter of 1 B .. 8 MiB (as the image pipeline
    function does); the others keep their declarations."""
    real = config_module.parameters

    def parameters(name: str) -> tuple[Param, ...] | None:
        if name == function:
            return (IntParam("input_size", 4096, 1, 8 * 1024 * 1024),)
        return real(name)

    monkeypatch.setattr(config_module, "parameters", parameters)


def test_input_sizes_set_the_parameter_of_each_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _declares_input_size(monkeypatch, "matrix")
    document = _document(input_sizes=[4096, 262144, 4194304], memory_mb=[512])
    document["experiments"][0]["functions"] = ["matrix"]
    cells = expand(ExperimentConfig.model_validate(document), tmp_path)
    assert len(cells) == 6
    assert [c.id for c in cells[:3]] == [
        "u--matrix--users-1--m512--in4096--run000",
        "u--matrix--users-4--m512--in4096--run000",
        "u--matrix--users-1--m512--in262144--run000",
    ]
    for cell in cells:
        assert cell.params == {"input_size": cell.input_size}
        assert json.loads(cell.body) == {"input_size": cell.input_size}


@pytest.mark.parametrize(
    ("experiment", "functions", "configured", "message"),
    [
        ({"languages": ["go"]}, ["echo", "ftp"], {},
         "experiments.0.languages: go has no implementation of ftp (go has echo, sleep, matrix)"),
        ({"languages": ["rust"]}, ["echo"], {}, "experiments.0.languages.0"),
        ({"languages": ["python", "python"]}, ["echo"], {}, "experiments.0.languages: "),
        ({"memory_mb": [32]}, ["echo"], {}, "experiments.0.memory_mb.0"),
        ({"memory_mb": ["512"]}, ["echo"], {}, "experiments.0.memory_mb.0"),
        ({"memory_mb": []}, ["echo"], {}, "experiments.0.memory_mb"),
        ({"input_sizes": [4096]}, ["echo", "matrix"], {},
         "experiments.0.input_sizes: echo declares no input_size parameter"),
        ({"input_sizes": [0]}, ["matrix"], {}, "experiments.0.input_sizes.0"),
        ({"input_sizes": [4096]}, ["matrix"], {"matrix": {"params": {"input_size": 2}}},
         "experiments.0.input_sizes: functions.matrix.params sets input_size too"),
        ({"input_sizes": [4096]}, ["matrix"], {"matrix": {"body": "raw"}},
         "experiments.0.input_sizes: matrix sends a raw body"),
        ({"input_sizes": [16 * 1024 * 1024]}, ["matrix"], {},
         "experiments.0.input_sizes: matrix: input_size must be between 1 and 8388608"),
    ],
)  # fmt: skip
def test_bad_dimensions_are_refused_naming_the_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    experiment: dict[str, Any],
    functions: list[str],
    configured: dict[str, Any],
    message: str,
) -> None:
    _declares_input_size(monkeypatch, "matrix")
    document = _document(**experiment)
    document["functions"].update({"ftp": {}, **configured})
    document["experiments"][0]["functions"] = functions
    result = _validate(tmp_path, document)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_good_file_with_every_dimension_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _declares_input_size(monkeypatch, "matrix")
    document = _document(
        languages=["python", "node", "go", "java"], memory_mb=[128, 512], input_sizes=[1, 4096]
    )
    document["experiments"][0]["functions"] = ["matrix"]
    result = _validate(tmp_path, document)
    assert result.exit_code == 0, result.output
    # 4 languages × 2 memory limits × 2 sizes × 2 users values
    assert "valid: 32 cells in 1 run(s)" in result.output


def test_memory_limits_against_the_stacks() -> None:
    config = ExperimentConfig.model_validate(_document(memory_mb=[64, 256, 4096]))
    openwhisk = StackOutputs.model_validate(outputs_for("openwhisk", "k8s"))
    problems = feasibility_problems(config, openwhisk, Path("."))
    assert any(
        p.startswith("experiments.0.memory_mb.0: 64 MiB < OpenWhisk's minimum") for p in problems
    )
    assert not any(p.startswith("experiments.0.memory_mb.1") for p in problems)
    assert any("4096 MiB" in w and "openwhiskActionMemoryMaxMb" in w
               for w in feasibility_warnings(config, openwhisk))  # fmt: skip
    capacity = {"invokers": 2, "user_memory_mb": 2048, "containers_per_invoker": 8}
    sized = outputs_for("openwhisk", "k8s")
    sized["openwhisk"] = {**sized["openwhisk"], "capacity": capacity}
    problems = feasibility_problems(config, StackOutputs.model_validate(sized), Path("."))
    assert any(
        p.startswith("experiments.0.memory_mb.2: 4096 MiB > an invoker's container pool (2048")
        for p in problems
    )
    openfaas = StackOutputs.model_validate(outputs_for("openfaas", "k8s"))
    assert not any("memory_mb" in p for p in feasibility_problems(config, openfaas, Path(".")))
    assert not any("memory_mb" in w for w in feasibility_warnings(config, openfaas))
    local = StackOutputs.model_validate(
        {**outputs_for("openfaas", "k8s"), "cloud": "local", "orchestrator": "local"}
    )
    assert any("local target enforces no memory limit" in w
               for w in feasibility_warnings(config, local))  # fmt: skip
    plain = ExperimentConfig.model_validate(_document())
    assert feasibility_warnings(plain, local) == []


def test_validate_refuses_a_memory_limit_the_stack_cannot_run(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(outputs_for("openwhisk", "k8s")))
    result = _validate(tmp_path, _document(memory_mb=[100, 512]), "--stack-outputs", str(outputs))
    assert result.exit_code == 2, result.output
    assert "experiments.0.memory_mb.0: 100 MiB < OpenWhisk's minimum action memory" in result.output
    assert "memory_mb.1" not in result.output


class RecordingPlatform(ScriptedPlatform):
    """Keeps every spec deployed and invoked; functions answer on the scripted server."""

    def __init__(self, server: ScriptedServer) -> None:
        super().__init__(server)
        self.specs: list[FunctionSpec] = []

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        self.specs.append(function)

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        return InvokeTarget(url=self.server.url("/ok"), method="GET")


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer().start()
    yield running
    running.stop()


def test_each_cell_deploys_its_language_and_memory_and_records_them(
    server: ScriptedServer, tmp_path: Path
) -> None:
    document = {
        "name": "variants",
        "processes": 1,
        "functions": {"echo": {}, "chain": {}},
        "experiments": [
            {"name": "u", "kind": "users", "functions": ["echo"], "users": [1], "requests": 2,
             "languages": ["python", "go"], "memory_mb": [128, 512]},
            {"name": "c", "kind": "users", "functions": ["chain"], "users": [1], "requests": 2,
             "memory_mb": [1024]},
        ],
    }  # fmt: skip
    config = ExperimentConfig.model_validate(document)
    platform = RecordingPlatform(server)
    outputs = outputs_for("openfaas", "k8s", gateway_url="http://127.0.0.1:9", ftp=False)
    campaign = Campaign(
        config,
        StackOutputs.model_validate(outputs),
        tmp_path / "results",
        base=tmp_path,
        platform_factory=lambda outputs, image: platform,  # type: ignore[arg-type,return-value]
    )
    try:
        report = campaign.run()
    finally:
        campaign.close()
    assert [o.status for o in report.outcomes] == ["complete"] * 5
    deployed = [(s.function, s.language, s.memory_mb, s.deployed_name) for s in platform.specs]
    assert deployed == [
        ("echo", "python", 128, "echo"),
        ("echo", "python", 512, "echo"),
        ("echo", "go", 128, "echo"),
        ("echo", "go", 512, "echo"),
        # The cell's function gets the memory limit; its dependency keeps the default.
        ("chain", "python", 1024, "chain"),
        ("matrix", "python", 256, "matrix"),
    ]
    infos = {c.info.id: c.info for c in open_results(tmp_path / "results").cells}
    go = infos["u--echo--users-1--go--m512--run000"]
    assert (go.language, go.memory_mb, go.input_size) == ("go", 512, None)
    written = json.loads(
        (
            tmp_path / "results" / "cells" / "u--echo--users-1--m128--run000" / "cell.json"
        ).read_text()
    )
    assert (written["language"], written["memory_mb"], written["input_size"]) == (
        "python",
        128,
        None,
    )
