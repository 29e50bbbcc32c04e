"""Experiment files: the model, cell expansion, traces, feasibility against a stack's limits,
and `loadgen validate` (every broken example refused with its field path, never a traceback)."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.sample_outputs import outputs_for
from typer.testing import CliRunner

from components.openfaas_nomad import NOMAD_LIMITS
from components.openfaas_swarm import SWARM_LIMITS
from contract.outputs import StackOutputs
from loadgen.cli import app
from loadgen.experiments.campaign_file import ExperimentFileError, load_experiment
from loadgen.experiments.cells import expand
from loadgen.experiments.config import ExperimentConfig
from loadgen.experiments.feasibility import feasibility_problems
from loadgen.experiments.trace import KEY_COLUMNS, MINUTES
from loadgen.outputs import OutputsError, load_outputs, public_outputs

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


CE = outputs_for("openfaas", "k8s", max_functions=15, max_replicas=5, scale_to_zero=False)
PRO = outputs_for("openfaas", "k8s")
#: The limits the Swarm and Nomad stacks really export (their Community Edition gateway's).
SWARM = outputs_for("openfaas", "swarm", **SWARM_LIMITS)
NOMAD = outputs_for("openfaas", "nomad", **NOMAD_LIMITS)
OPENWHISK = outputs_for("openwhisk", "k8s")
#: Each shipped example and the stack it is written for.
EXAMPLE_STACKS = {
    "aws-k8s.yaml": CE,
    "aws-k8s-pro.yaml": PRO,
    "aws-swarm.yaml": SWARM,
    "aws-nomad.yaml": NOMAD,
    "openwhisk.yaml": OPENWHISK,
    "openwhisk-sequence.yaml": OPENWHISK,
    "local.yaml": {**CE, "cloud": "local", "orchestrator": "local"},
    "local-async.yaml": {**CE, "cloud": "local", "orchestrator": "local"},
    "openwhisk-async.yaml": OPENWHISK,
    "openfaas-async.yaml": CE,
    "memory-sweep.yaml": OPENWHISK,
    "runtimes.yaml": {
        **CE,
        "registry": {
            "url": "registry.example:5000",
            "image": "registry.example:5000/faasbench-functions:1",
            "images": {
                language: f"registry.example:5000/faasbench-functions-{language}:1"
                for language in ("node", "go", "java")
            },
        },
    },
    "multi-function-trace.yaml": {**CE, "cloud": "local", "orchestrator": "local"},
    "pipeline.yaml": {
        **CE,
        "cloud": "local",
        "orchestrator": "local",
        "object_storage": {
            "endpoint": "http://127.0.0.1:7070",
            "bucket": "faasbench",
            "region": "us-east-1",
            "access_key": "faasbench",
            "secret_key": "s",
            "input_sizes": [4096, 262144, 4194304],
            "kind": "local",
        },
    },
}
#: Examples validated on their stacks by the tests of their platforms.
VALIDATED_ELSEWHERE = {
    "keda-http.yaml": "test_campaign_keda.py",
    "keda-queue.yaml": "test_campaign_keda.py",
    "knative.yaml": "test_knative_limits.py",
}


def test_every_example_is_validated_on_a_stack() -> None:
    shipped = {path.name for path in EXAMPLES.glob("*.yaml")}
    assert shipped == set(EXAMPLE_STACKS) | set(VALIDATED_ELSEWHERE)


def write(tmp_path: Path, document: object, name: str = "experiment.yaml") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return path


def write_outputs(tmp_path: Path, outputs: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


MINIMAL = {
    "name": "mini",
    "functions": {"echo": {}},
    "experiments": [
        {"name": "u", "kind": "users", "functions": ["echo"], "users": [1], "requests": 5}
    ],
}


@pytest.mark.parametrize("example", sorted(EXAMPLE_STACKS))
def test_every_shipped_example_is_valid_on_its_stack(example: str, tmp_path: Path) -> None:
    outputs = write_outputs(tmp_path, EXAMPLE_STACKS[example])
    result = runner.invoke(
        app, ["validate", str(EXAMPLES / example), "--stack-outputs", str(outputs)]
    )
    assert result.exit_code == 0, result.output
    assert "valid on" in result.output


def test_the_ce_example_is_refused_on_community_edition_when_it_asks_for_pro_replicas(
    tmp_path: Path,
) -> None:
    outputs = write_outputs(tmp_path, CE)
    result = runner.invoke(
        app, ["validate", str(EXAMPLES / "aws-k8s-pro.yaml"), "--stack-outputs", str(outputs)]
    )
    assert result.exit_code == 2
    assert (
        "experiments.1.replicas.1: 10 replicas > max_replicas 5 (OpenFaaS Community Edition)"
        in result.output
    )
    assert "experiments.1.replicas.2: 20 replicas" in result.output


def test_cells_are_stable_unique_and_shuffled_by_the_seed() -> None:
    config = load_experiment(EXAMPLES / "local.yaml")
    cells = expand(config, EXAMPLES)
    assert len({c.id for c in cells}) == len(cells) == 18
    assert [c.id for c in cells] == [c.id for c in expand(config, EXAMPLES)]
    assert [c.run for c in cells] == sorted(c.run for c in cells)  # runs stay in order
    in_file_order = expand(config.model_copy(update={"order": "sequential"}), EXAMPLES)
    assert [c.id for c in cells] != [c.id for c in in_file_order]
    assert {c.id for c in cells} == {c.id for c in in_file_order}
    cold = [c for c in cells if c.mode == "cold"]
    assert len(cold) == 6
    assert all(len(c.segments) == 1 for c in cold)
    assert all(s.before == "force_cold" for c in cold for s in c.segments)
    # A random range is drawn per cell, identically in every run.
    document = config.model_dump(mode="json", by_alias=True)
    document["functions"]["matrix"] = {"params": {"n": {"min": 20, "max": 60}}}
    document["experiments"].append(
        {"name": "m", "kind": "users", "functions": ["matrix"], "users": [1, 4], "requests": 9}
    )
    matrix = [
        c
        for c in expand(ExperimentConfig.model_validate(document), EXAMPLES)
        if c.function == "matrix"
    ]
    by_sweep: dict[object, set[object]] = {}
    for cell in matrix:
        by_sweep.setdefault(cell.sweep.value, set()).add(cell.params["n"])
    assert len(by_sweep) == 2
    assert all(len(values) == 1 for values in by_sweep.values())
    assert all(20 <= next(iter(v)) <= 60 for v in by_sweep.values())  # type: ignore[operator]


def trace_file(tmp_path: Path, rows: dict[str, list[int]]) -> Path:
    path = tmp_path / "invocations_per_function_md.anon.d01.csv"
    header = [*KEY_COLUMNS, *(str(m) for m in range(1, MINUTES + 1))]
    lines = [",".join(header)]
    for function, counts in rows.items():
        padded = counts + [0] * (MINUTES - len(counts))
        lines.append(",".join(["owner", "app", function, "http", *map(str, padded)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_trace_window_becomes_per_minute_open_loop_segments(tmp_path: Path) -> None:
    trace_file(tmp_path, {"f1": [0, 0, 120, 600, 0, 30], "f2": [5] * 10})
    document = {
        "name": "trace",
        "functions": {"echo": {}},
        "experiments": [
            {
                "name": "t",
                "kind": "trace",
                "functions": ["echo"],
                "file": "invocations_per_function_md.anon.d01.csv",
                "mapping": {"echo": "f1"},
                "scale": 0.5,
                "start_minute": 3,
                "minutes": 3,
                "minute_s": 10,
            }
        ],
    }
    config = load_experiment(write(tmp_path, document))
    [cell] = expand(config, tmp_path)
    assert cell.mode == "trace"
    rates = [s.workload.rate if s.workload else 0 for s in cell.segments]  # type: ignore[union-attr]
    # Minutes 3..5: 120, 600, 0 invocations, halved, each minute lasting 10 s.
    assert rates == [6.0, 30.0, 0]
    assert cell.segments[2].duration_s == 10
    missing = {
        **document,
        "experiments": [{**document["experiments"][0], "mapping": {"echo": "nope"}}],
    }
    problems = feasibility_problems(ExperimentConfig.model_validate(missing), None, tmp_path)
    assert problems == [
        f"experiments.0.file: {tmp_path / 'invocations_per_function_md.anon.d01.csv'}: "
        "no row for HashFunction nope"
    ]


BROKEN: list[tuple[object, str]] = [
    ("name: [unclosed", "not valid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ({**MINIMAL, "name": "Has Spaces"}, "name: String should match pattern"),
    ({**MINIMAL, "runs": 3}, "runs: Extra inputs are not permitted"),
    ({**MINIMAL, "number_of_runs": 0}, "number_of_runs: Input should be greater than or equal"),
    ({**MINIMAL, "functions": {"base64": {}}}, "unknown function(s) base64"),
    (
        {**MINIMAL, "experiments": [{**MINIMAL["experiments"][0], "users": []}]},  # type: ignore[index]
        "experiments.0.users: List should have at least 1 item",
    ),
    (
        {**MINIMAL, "experiments": [{**MINIMAL["experiments"][0], "kind": "soak"}]},  # type: ignore[index]
        "experiments.0: Input tag 'soak' found using 'kind' does not match",
    ),
    (
        {**MINIMAL, "experiments": [{**MINIMAL["experiments"][0], "functions": ["matrix"]}]},  # type: ignore[index]
        "experiment u uses matrix, not listed under functions",
    ),
    (
        {**MINIMAL, "functions": {"matrix": {"params": {"n": {"min": 9, "max": 3}}}},
         "experiments": [{**MINIMAL["experiments"][0], "functions": ["matrix"]}]},  # type: ignore[index]
        "functions.matrix.params.n",
    ),
    (
        {**MINIMAL, "experiments": [MINIMAL["experiments"][0], MINIMAL["experiments"][0]]},  # type: ignore[index]
        "experiment names must be unique: u",
    ),
    (
        {**MINIMAL, "experiments": [
            {"name": "c", "kind": "cold", "functions": ["echo"], "method": "warm"}
        ]},
        "experiments.0.method: Input should be 'forced' or 'natural'",
    ),
    (
        {**MINIMAL, "functions": {"echo": {"params": {"a": 1}, "body": "x"}}},
        "functions.echo: give params or body, not both",
    ),
    (
        {**MINIMAL, "functions": {"echo": {"sequence": True}}},
        "functions.echo.sequence: only chain can be a sequence",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("document", "expected"), BROKEN)
def test_every_broken_file_is_refused_with_its_path(
    document: object, expected: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["validate", str(write(tmp_path, document))])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    document = {**MINIMAL, "number_of_runs": 0, "seed": "x", "extra": 1}
    with pytest.raises(ExperimentFileError) as error:
        load_experiment(write(tmp_path, document))
    assert len(error.value.problems) == 3


def test_feasibility_names_the_field_and_the_limit(tmp_path: Path) -> None:
    document = {
        "name": "f",
        "functions": {"echo": {}, "matrix": {}},
        "experiments": [
            {"name": "r", "kind": "replicas", "functions": ["matrix"], "replicas": [1, 10],
             "users": 2, "requests": 10},
            {"name": "n", "kind": "cold", "functions": ["echo"], "method": "natural"},
            {"name": "u", "kind": "users", "functions": ["echo"], "users": [1], "requests": 5,
             "replicas": 6},
        ],
    }  # fmt: skip
    config = ExperimentConfig.model_validate(document)
    problems = feasibility_problems(config, StackOutputs.model_validate(CE), tmp_path)
    assert problems == [
        "experiments.0.replicas.1: 10 replicas > max_replicas 5 (OpenFaaS Community Edition)",
        "experiments.1.method: natural cold starts need something that reaps idle functions, "
        "and OpenFaaS Community Edition runs no idler (use method: forced)",
        "experiments.2.replicas: 6 replicas > max_replicas 5 (OpenFaaS Community Edition)",
    ]
    swarm = "OpenFaaS on swarm behind the Community Edition gateway"
    assert feasibility_problems(config, StackOutputs.model_validate(SWARM), tmp_path) == [
        f"experiments.0.replicas.1: 10 replicas > max_replicas 5 ({swarm})",
        "experiments.1.method: natural cold starts need something that reaps idle functions, "
        f"and {swarm} runs no idler (use method: forced)",
        f"experiments.2.replicas: 6 replicas > max_replicas 5 ({swarm})",
    ]
    sequence = ExperimentConfig.model_validate(
        {**MINIMAL, "functions": {"echo": {}, "chain": {"sequence": True}}}
    )
    assert feasibility_problems(sequence, StackOutputs.model_validate(SWARM), tmp_path) == [
        "functions.chain.sequence: native sequences exist on OpenWhisk only (OpenFaaS chains "
        "by nested calls)"
    ]
    assert feasibility_problems(sequence, StackOutputs.model_validate(OPENWHISK), tmp_path) == []
    ow = feasibility_problems(config, StackOutputs.model_validate(OPENWHISK), tmp_path)
    assert ow == [
        "experiments.0.kind: OpenWhisk has no replicas to sweep (it scales containers itself)",
        "experiments.2.replicas: OpenWhisk has no replicas; leave it at 1",
    ]


def test_ftp_users_beyond_the_ftp_servers_sessions_are_refused(tmp_path: Path) -> None:
    document = {
        "name": "f",
        "functions": {"ftp": {}, "echo": {}, "chain": {"depends_on": ["ftp"]}},
        "experiments": [
            {"name": "sweep", "kind": "users", "functions": ["ftp"], "users": [100, 500, 501],
             "requests": 1000},
            {"name": "echo", "kind": "users", "functions": ["echo"], "users": [5000],
             "requests": 5000},
            {"name": "via", "kind": "autoscaling", "functions": ["chain"], "users": 600,
             "duration_s": 10},
            {"name": "fixed", "kind": "replicas", "functions": ["ftp"], "replicas": [1],
             "users": 800, "requests": 800},
        ],
    }  # fmt: skip
    config = ExperimentConfig.model_validate(document)
    problems = feasibility_problems(config, StackOutputs.model_validate(SWARM), tmp_path)
    assert problems == [
        f"experiments.{where}: {users} users calling ftp > ftp.max_clients 500 (the stack's FTP "
        "server accepts 500 sessions at once; raise ftpMaxClients and pulumi up)"
        for where, users in (("0.users.2", 501), ("2.users", 600), ("3.users", 800))
    ]
    older = {**SWARM, "ftp": {k: v for k, v in SWARM["ftp"].items() if k != "max_clients"}}
    assert feasibility_problems(config, StackOutputs.model_validate(older), tmp_path) == []


# Random YAML never produces a traceback: only a valid config or an ExperimentFileError.
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["name", "functions", "experiments", "kind", "users", "requests", "echo", "x",
             "number_of_runs", "params", "min", "max", "rates", "method", "replicas"]
        ),
        children,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=yaml_values)
def test_random_documents_never_raise_anything_else(document: object, tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(document))
    problems: list[str] = []
    try:
        load_experiment(path)
    except ExperimentFileError as exc:
        problems = exc.problems
        assert problems, "a refusal always says why"


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_random_text_never_raises_anything_else(text: str, tmp_path: Path) -> None:
    path = write(tmp_path, text)
    problems: list[str] = []
    try:
        load_experiment(path)
    except ExperimentFileError as exc:
        problems = exc.problems
        assert problems, "a refusal always says why"


# --- where outputs come from ------------------------------------------------------------------


def fake_pulumi(tmp_path: Path, stdout: str, status: int = 0) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "pulumi"
    log = tmp_path / "pulumi-args.json"
    code = (
        "import json, sys\n"
        f"json.dump(sys.argv[1:], open({str(log)!r}, 'w'))\n"
        f"sys.stdout.write({stdout!r})\nsys.stderr.write('error: no stack named lab\\n')\n"
        f"sys.exit({status})\n"
    )
    # sh, not a `#!python` line: a shebang cannot name a path with spaces.
    script.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(code)} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def test_stack_outputs_come_from_the_pulumi_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fake_pulumi(tmp_path, json.dumps(CE))
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    outputs = load_outputs(None, "lab")
    assert outputs.openfaas is not None
    assert outputs.openfaas.limits.max_replicas == 5
    args = json.loads((tmp_path / "pulumi-args.json").read_text())
    assert args == ["stack", "output", "--json", "--show-secrets", "--stack", "lab"]
    public = json.dumps(public_outputs(outputs))
    assert "secret-value" not in public
    assert "10.0.2.9" in public


def test_a_failing_pulumi_is_reported_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fake_pulumi(tmp_path, "", status=255)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(OutputsError, match="error: no stack named lab"):
        load_outputs(None, "lab")


def test_without_pulumi_the_user_is_told_how_to_pass_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OutputsError, match=r"--stack-outputs outputs\.json"):
        load_outputs(None, "lab")
    bad = tmp_path / "bad.json"
    bad.write_text('{"cloud": "azure"}')
    with pytest.raises(OutputsError, match="cloud"):
        load_outputs(bad, None)


def test_thumbnail_needs_object_storage_and_a_seeded_input_size(tmp_path: Path) -> None:
    def problems(
        params: dict[str, object], outputs: dict[str, object], sizes: list[int] | None = None
    ) -> list[str]:
        experiment: dict[str, object] = {
            "name": "one", "kind": "users", "functions": ["thumbnail"], "users": [1],
            "requests": 10,
        }  # fmt: skip
        if sizes is not None:
            experiment["input_sizes"] = sizes
        document = {
            "name": "t",
            "functions": {"thumbnail": {"params": params}},
            "experiments": [experiment],
        }
        config = ExperimentConfig.model_validate(document)
        return feasibility_problems(config, StackOutputs.model_validate(outputs), tmp_path)

    assert problems({}, SWARM) == [
        "functions.thumbnail: the stack exports no object storage "
        "(objectStorage: true in the stack config)"
    ]
    storage = {
        "endpoint": "http://object-storage:7070",
        "bucket": "faasbench",
        "region": "us-east-1",
        "access_key": "faasbench",
        "secret_key": "s",
        "input_sizes": [4096, 262144, 4194304],
        "kind": "versitygw",
    }
    with_storage = {**SWARM, "object_storage": storage}
    assert problems({"input_size": 262144}, with_storage) == []
    assert problems({"input_size": 5000}, with_storage) == [
        "functions.thumbnail.params.input_size: 5000 is not seeded in the stack's object "
        "storage (seeded: 4096, 262144, 4194304)"
    ]
    assert problems({}, with_storage, [4096, 4194304]) == []
    assert problems({}, with_storage, [4096, 8192]) == [
        "experiments.0.input_sizes.1: 8192 is not seeded in the stack's object storage "
        "(seeded: 4096, 262144, 4194304)"
    ]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (
            CE,
            "experiments.0.languages.1: go: the stack exports no go image (registry.images.go): "
            "add go to the stack's functionLanguages and run pulumi up",
        ),
        (
            {**CE, "registry": {"url": "r", "image": "r/f:1", "images": {"node": "r/n:1"}}},
            "experiments.0.languages.1: go: the stack exports no go image",
        ),
        ({**CE, "cloud": "local", "orchestrator": "local"}, None),
        (
            {**CE, "registry": {"url": "r", "image": "r/f:1", "images": {"go": "r/g:1"}}},
            None,
        ),
    ],
)
def test_a_language_the_stack_cannot_deploy_is_refused(
    tmp_path: Path, outputs: dict[str, Any], message: str | None
) -> None:
    document = {
        **MINIMAL,
        "experiments": [{**MINIMAL["experiments"][0], "languages": ["python", "go"]}],
    }
    result = runner.invoke(
        app,
        [
            "validate",
            str(write(tmp_path, document)),
            "--stack-outputs",
            str(write_outputs(tmp_path, outputs)),
        ],
    )
    if message is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, result.output
        assert message in result.output
