"""Replacing a machine and destroying a stack, planned from the mocked program the way the
Pulumi engine orders them (`support.replacement_plan`), and the delete commands run under PATH
shims whose tools fail or hang.

A worker's name is reused by its replacement, so the old machine's node must be removed from
the cluster, by its ID, before the new machine joins; a destroy must not depend on reaching
machines that are going away.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi_command import remote
from support.pulumi_mocks import (
    ProgramRun,
    Recorded,
    param_of,
    run_program,
    run_under_mocks,
    stack_file_config,
    step_of,
)
from support.replacement_plan import Planner, Step
from support.sandbox import Sandbox
from support.stack_hosts import CONFIG_OVERRIDES

from components.remote_step import node_id_of

ORCHESTRATORS = ["k8s", "swarm", "nomad"]
INSTANCE = "aws:ec2/instance:Instance"
COMMAND = "command:remote:Command"
#: The step that makes a worker a member of its cluster, and the one that removes it.
JOIN = {"k8s": "k3s-agent", "swarm": "swarm-join", "nomad": "nomad-agent"}
REMOVE = {"k8s": "k3s-node-remove", "swarm": "swarm-node-remove", "nomad": "nomad-node-remove"}
#: The delete parameter naming the node's ID.
ID_PARAM = {"k8s": "NODE_UID", "swarm": "NODE_ID", "nomad": "NODE_ID"}


def config(orchestrator: str, workers: int = 2) -> dict[str, str]:
    return {
        **stack_file_config("aws"),
        **CONFIG_OVERRIDES,
        "orchestrator": orchestrator,
        "workerCount": str(workers),
    }


@pytest.fixture(scope="module", params=ORCHESTRATORS)
def stack(request: pytest.FixtureRequest) -> ProgramRun:
    return run_program(config(request.param), stack="aws")


def instance_of(run: ProgramRun, hostname_suffix: str) -> Recorded:
    [found] = [
        r
        for r in run.mocks.of_type(INSTANCE)
        if re.search(rf"^hostname: \S+-{hostname_suffix}$", r.inputs["userData"], re.MULTILINE)
    ]
    return found


def commands(run: ProgramRun) -> list[Recorded]:
    return run.mocks.of_type(COMMAND)


def on_host(run: ProgramRun, instance: Recorded) -> list[Recorded]:
    return [
        c for c in commands(run) if c.inputs["connection"]["host"] == instance.outputs["privateIp"]
    ]


def node_steps(run: ProgramRun, worker: str) -> tuple[Recorded, Recorded, Recorded]:
    """A worker's machine, its join step, and the step whose delete removes its node."""
    orchestrator = run.value("orchestrator")
    machine = instance_of(run, worker)
    node_name = f"faasbench-aws-{worker}"
    [join] = [c for c in on_host(run, machine) if step_of(c.inputs["stdin"]) == JOIN[orchestrator]]
    [removal] = [
        c
        for c in commands(run)
        if step_of(c.inputs.get("delete") or "") == REMOVE[orchestrator]
        and param_of(c.inputs["delete"], "NODE_NAME") == node_name
    ]
    return machine, join, removal


def test_the_planner_follows_the_engines_documented_order() -> None:
    """The model itself, on two commands: the second re-runs when the first is replaced."""

    def program(delete_before_replace: bool) -> None:
        first = remote.Command(
            "first",
            connection=remote.ConnectionArgs(host="192.0.2.1"),
            create="true",
            opts=pulumi.ResourceOptions(delete_before_replace=delete_before_replace),
        )
        remote.Command(
            "second",
            connection=remote.ConnectionArgs(host="192.0.2.2"),
            create="true",
            delete="true",
            triggers=[first.id],
            opts=pulumi.ResourceOptions(deleted_with=first),
        )
        remote.Command(
            "unrelated", connection=remote.ConnectionArgs(host="192.0.2.3"), create="true"
        )

    def plan(delete_before_replace: bool) -> list[Step]:
        mocks, _ = run_under_mocks(lambda: program(delete_before_replace))
        return list(Planner(mocks).replace("first"))

    assert plan(False) == [
        Step("create", "first"),
        Step("create", "second"),
        Step("delete", "second", skipped=True),
        Step("delete", "first"),
    ]
    assert plan(True) == [
        Step("delete", "second", skipped=True),
        Step("delete", "first"),
        Step("create", "first"),
        Step("create", "second"),
    ]


def test_replacing_a_worker_removes_its_node_by_id_before_the_new_machine_joins(
    stack: ProgramRun,
) -> None:
    orchestrator = stack.value("orchestrator")
    machine, join, removal = node_steps(stack, "worker-1")
    plan = Planner(stack.mocks).replace(machine.name)
    # The old machine is gone before its successor (same hostname) exists.
    assert plan.index_of("delete", machine.name) < plan.index_of("create", machine.name)
    # Its node is removed from the cluster (the delete command really runs) before the new
    # machine joins under the same name.
    assert not plan.deleted(removal.name).skipped, "the node's removal would be skipped"
    assert plan.index_of("delete", removal.name) < plan.index_of("create", join.name)
    # ... by the ID the old machine joined as, not by the name its successor reuses.
    node_id = node_id_of(join.outputs["stdout"])
    assert node_id
    assert param_of(removal.inputs["delete"], ID_PARAM[orchestrator]) == node_id
    # Nothing but that worker's own steps is replaced.
    replaced = {s.name for s in plan if s.op == "create"}
    others = {c.name for c in commands(stack) if "worker-1" not in c.name}
    assert not replaced & others, sorted(replaced & others)


def test_a_destroy_dials_no_machine(stack: ProgramRun) -> None:
    """Every delete command runs on a machine that the destroy deletes too: the engine skips
    them all, so an unreachable (or already gone) host cannot hold the destroy up."""
    plan = Planner(stack.mocks).destroy()
    with_delete = {c.name for c in commands(stack) if c.inputs.get("delete")}
    assert with_delete
    run_anyway = [s.name for s in plan if s.name in with_delete and not s.skipped]
    assert run_anyway == []


def test_scaling_in_removes_the_node_without_dialling_the_departing_machine(
    stack: ProgramRun,
) -> None:
    orchestrator = stack.value("orchestrator")
    smaller = run_program(config(orchestrator, workers=1), stack="aws")
    gone = set(stack.mocks.order) - set(smaller.mocks.order)
    machine, join, removal = node_steps(stack, "worker-1")
    assert {machine.name, join.name, removal.name} <= gone
    plan = Planner(stack.mocks).delete(gone)
    assert not plan.deleted(removal.name).skipped, "the node would stay in the cluster"
    assert plan.index_of("delete", removal.name) < plan.index_of("delete", machine.name)
    departing = {c.name for c in on_host(stack, machine) if c.inputs.get("delete")}
    assert all(plan.deleted(name).skipped for name in departing)


def test_machines_and_their_steps_carry_the_options(stack: ProgramRun) -> None:
    options = stack.mocks.options
    bastion = instance_of_bastion(stack)
    by_ip = {r.outputs["privateIp"]: r for r in stack.mocks.of_type(INSTANCE)}
    by_ip[stack.value("bastion.host")] = bastion
    for machine in stack.mocks.of_type(INSTANCE):
        if machine is not bastion:
            assert options[machine.name].delete_before_replace, machine.name
    for command in commands(stack):
        if not command.inputs.get("delete"):
            continue
        runs_on = by_ip[command.inputs["connection"]["host"]]
        assert options[command.name].deleted_with == runs_on.name, command.name
        assert options[command.name].delete_before_replace, command.name


def instance_of_bastion(run: ProgramRun) -> Recorded:
    [bastion] = [r for r in run.mocks.of_type(INSTANCE) if "hostname:" not in r.inputs["userData"]]
    return bastion


# --- delete commands against services that are gone ----------------------------------------


DELETE_STEPS = [
    "k3s-node-remove",
    "nomad-node-remove",
    "swarm-leave",
    "swarm-node-remove",
    "tcp-forward-remove",
]


@pytest.fixture(scope="module")
def deletes() -> dict[str, str]:
    """One delete command of each kind, as the mocked programs render them."""
    found: dict[str, str] = {}
    for orchestrator in ORCHESTRATORS:
        run = run_program(config(orchestrator), stack="aws")
        for command in commands(run):
            delete = command.inputs.get("delete")
            if delete:
                found.setdefault(step_of(delete) or "", delete)
    return found


def fast(script: str) -> str:
    """The same command with 1 s per call (the shipped bound is longer)."""
    return re.sub(r"^REQUEST_TIMEOUT_S=\d+$", "REQUEST_TIMEOUT_S=1", script, flags=re.MULTILINE)


def machine_with_the_service(sandbox: Sandbox) -> None:
    """What each delete finds installed before it talks to its service."""
    k3s = sandbox.path("/usr/local/bin/k3s")
    k3s.write_text("#!/bin/sh\n")
    k3s.chmod(0o755)
    token = sandbox.path("/etc/nomad.d/faasbench-management.token")
    token.parent.mkdir(parents=True, exist_ok=True)
    token.write_text("management-token")
    for unit in ("faasbench-kube-api.socket", "faasbench-kube-api.service"):
        sandbox.path(f"/etc/systemd/system/{unit}").write_text("[Unit]\n")


def test_every_delete_step_is_checked(deletes: dict[str, str]) -> None:
    assert sorted(deletes) == DELETE_STEPS


@pytest.mark.parametrize("mode", ["fail", "hang"])
@pytest.mark.parametrize("step", DELETE_STEPS)
def test_a_delete_whose_service_is_gone_ends_with_a_warning(
    tmp_path: Path, deletes: dict[str, str], step: str, mode: str
) -> None:
    delete = deletes[step]
    tools = ("kubectl", "docker", "curl", "systemctl")
    state: dict[str, Any] = {
        "swarm": {"local": "active"},
        "broken": dict.fromkeys(tools, mode),
    }
    sandbox = Sandbox.create(tmp_path / "host", state)
    machine_with_the_service(sandbox)
    # Sandbox.run gives up (and fails the test) after 120 s: a hanging call must be cut short.
    result = sandbox.run(fast(delete), check=False)
    assert result.returncode == 0, result.stderr
    assert f"faasbench[{step}]: WARNING" in result.stderr
    assert "Traceback" not in result.stderr
    called = [c[0] for c in sandbox.calls() if c[0] in tools]
    assert called, "the delete never asked its service"


def test_a_k3s_node_is_removed_only_while_it_is_the_recorded_one(
    tmp_path: Path, deletes: dict[str, str]
) -> None:
    delete = deletes["k3s-node-remove"]
    name = param_of(delete, "NODE_NAME")
    uid = param_of(delete, "NODE_UID")
    assert name
    assert uid
    # A newer machine has taken the name: its node and password stay.
    newer = Sandbox.create(tmp_path / "newer", {"k8s_uids": {name: "uid-of-the-new-machine"}})
    machine_with_the_service(newer)
    result = newer.run(delete)
    assert "a newer machine owns the name" in result.stderr
    assert newer.state().get("k8s_nodes", {}).get(name) != "absent"
    assert "k8s_deleted_secrets" not in newer.state()
    # Still the recorded node: it and its node password go, so the name can join again.
    same = Sandbox.create(tmp_path / "same", {})
    machine_with_the_service(same)
    same.run(delete)
    assert same.state()["k8s_nodes"][name] == "absent"
    assert same.state()["k8s_deleted_secrets"] == [f"kube-system/{name}.node-password.k3s"]


def test_a_swarm_node_is_removed_by_id_and_its_namesake_stays(
    tmp_path: Path, deletes: dict[str, str]
) -> None:
    delete = deletes["swarm-node-remove"]
    node_id = param_of(delete, "NODE_ID")
    assert node_id
    sandbox = Sandbox.create(
        tmp_path / "manager", {"swarm_nodes": {node_id: "down", "another-id": "ready"}}
    )
    for _ in range(2):
        sandbox.run(delete)
    assert sandbox.state()["swarm_nodes"] == {node_id: "absent", "another-id": "ready"}
    removals = [c for c in sandbox.calls() if c[:3] == ["docker", "node", "rm"]]
    assert removals == [["docker", "node", "rm", "--force", node_id]]
