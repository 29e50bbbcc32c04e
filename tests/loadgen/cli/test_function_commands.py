"""`loadgen deploy`, `loadgen invoke` and the local-target default of the commands that need a
stack, against one real local target started in its default state directory."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import run_loadgen
from support.local_target import LocalTarget, start_target, stop_target

from functions._runtime import VERSION

NOTE = "no --stack-outputs/--stack given: using the local target at"


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    """A target in `.faasbench-local`, where the commands look when given no outputs."""
    running = start_target(tmp_path_factory.mktemp("here"), state=".faasbench-local")
    try:
        yield running
    finally:
        stop_target(running)


def loadgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_loadgen(*args, cwd=cwd, timeout=180, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})


def test_without_outputs_doctor_checks_the_running_local_target(here: LocalTarget) -> None:
    result = loadgen("doctor", cwd=here.directory.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{NOTE} {here.directory.resolve() / 'outputs.json'}" in result.stderr
    assert "FAIL" not in result.stdout


def test_invoke_before_deploy_says_to_deploy(here: LocalTarget) -> None:
    result = loadgen("invoke", "sleep", cwd=here.directory.parent)
    assert result.returncode == 2
    assert "sleep is not deployed on this stack: run `loadgen deploy sleep` first" in result.stderr


def test_deploy_then_invoke_shows_result_and_meta(here: LocalTarget) -> None:
    deployed = loadgen("deploy", "echo", cwd=here.directory.parent)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "echo: deployed on openfaas on local (local), 1 replica" in deployed.stdout
    assert here.status("echo")["availableReplicas"] == 1

    first = loadgen("invoke", "echo", "-p", "n=5", "-p", "word=hi", cwd=here.directory.parent)
    assert first.returncode == 0, first.stdout + first.stderr
    assert NOTE in first.stderr
    assert "HTTP 200" in first.stdout
    assert '"n": 5' in first.stdout
    assert '"word": "hi"' in first.stdout
    assert "cold:     yes" in first.stdout  # the readiness probe never takes the cold flag
    meta_line = f"meta:     function echo, version {VERSION}, adapter http, language python"
    assert meta_line in first.stdout
    instance = next(line for line in first.stdout.splitlines() if line.startswith("instance:"))

    again = loadgen("invoke", "echo", "--json", "-p", "n=5", cwd=here.directory.parent)
    assert again.returncode == 0, again.stdout + again.stderr
    document = json.loads(again.stdout)
    assert document["result"] == {"n": 5}
    assert document["meta"]["cold"] is False
    assert document["meta"]["instance"] == instance.split()[-1]


def test_deploy_chain_brings_its_callee_and_invoke_passes_typed_params(
    here: LocalTarget, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(here.outputs))
    deployed = loadgen("deploy", "chain", "--stack-outputs", str(outputs), cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert NOTE not in deployed.stderr
    assert deployed.stdout.index("matrix: deployed") < deployed.stdout.index("chain: deployed")
    result = loadgen(
        "invoke",
        "chain",
        "--stack-outputs",
        str(outputs),
        "-p",
        "depth=1",
        "-p",
        "n=7",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"callee": "matrix"' in result.stdout
    assert '"n": 7' in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invoke", "chain", "-p", "depth=99"), "'--param depth': depth must be between 1 and 10"),
        (("invoke", "chain", "-p", "colour=red"), "'--param colour': chain takes no such"),
        (("invoke", "echo", "-p", "novalue"), "'--param': expected NAME=VALUE"),
        (("deploy", "nope"), "'FUNCTION': unknown function 'nope'"),
        (("deploy", "echo", "--replicas", "9"), "replicas 9 > max_replicas 5"),
    ],
)
def test_mistakes_exit_2_naming_what_is_wrong(
    here: LocalTarget, args: tuple[str, ...], message: str
) -> None:
    result = loadgen(*args, cwd=here.directory.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["doctor", "deploy echo", "invoke echo", "run x.yaml"])
def test_with_no_outputs_and_no_local_target_the_error_says_what_to_do(
    tmp_path: Path, command: str
) -> None:
    if command.startswith("run"):
        (tmp_path / "x.yaml").write_text(
            "name: x\nfunctions: {echo: {}}\n"
            "experiments: [{name: a, kind: users, functions: [echo], users: [1], requests: 1}]\n"
        )
    result = loadgen(*command.split(), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert "no local target is running in" in line
    for advice in ("`loadgen local up`", "--stack-outputs FILE", "--stack NAME"):
        assert advice in line
