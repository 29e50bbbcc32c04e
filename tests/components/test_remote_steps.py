"""Every remote step of every orchestrator, run for real (twice) in a sandbox with fake tools.

The scripts are the exact `stdin` the components hand to `sudo bash -s` (taken from a mocked
`pulumi up`), run per machine in the order Pulumi registers them. The second pass must change
nothing (no install, restart, download, init or bootstrap) and exit 0; readiness loops must
fail with a message naming the node; no generated secret may appear in any command line.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.pulumi_mocks import (
    ProgramRun,
    run_program,
    stack_file_config,
    step_of,
    swarm_node_id,
)
from support.sandbox import Sandbox
from support.stack_hosts import (
    CONFIG_OVERRIDES,
    K3S_BINARY,
    run_host,
    secrets_of,
    steps_by_host,
    world,
)

from components import faas_swarm_image
from components.remote_step import SCRIPTS, node_id_of, render_step, step_sources

ROOT = Path(__file__).resolve().parents[2]


#: Nomad's hosts run the most steps (Consul, Vault, Nomad: about 20 s): the slow tier.
@pytest.fixture(
    scope="module", params=["k8s", "swarm", pytest.param("nomad", marks=pytest.mark.slow)]
)
def stack(request: pytest.FixtureRequest) -> ProgramRun:
    config = {
        **stack_file_config("aws"),
        "orchestrator": request.param,
        **CONFIG_OVERRIDES,
        "objectStorage": "true",
    }
    return run_program(config, stack="aws")


@pytest.fixture(scope="module")
def ran(
    stack: ProgramRun, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ProgramRun, dict[str, Sandbox]]]:
    tmp = tmp_path_factory.mktemp("hosts")
    state = world(stack)
    sandboxes = {
        host: run_host(tmp, host, steps, state) for host, steps in steps_by_host(stack).items()
    }
    yield stack, sandboxes
    for sandbox in sandboxes.values():
        sandbox.remove()


def test_every_step_runs_twice_and_the_second_run_changes_nothing(
    ran: tuple[ProgramRun, dict[str, Sandbox]],
) -> None:
    run, sandboxes = ran
    hosts = steps_by_host(run)
    # k8s also forwards the API on the bastion and has the OpenFaaS front (HAProxy) and FTP.
    expected_hosts = {"k8s": 6, "swarm": 5, "nomad": 5}[run.value("orchestrator")]
    assert len(sandboxes) == expected_hosts
    assert sum(len(steps) for steps in hosts.values()) == len(
        run.mocks.of_type("command:remote:Command")
    )


def test_no_secret_on_any_command_line(ran: tuple[ProgramRun, dict[str, Sandbox]]) -> None:
    run, sandboxes = ran
    secrets = secrets_of(run)
    for host, sandbox in sandboxes.items():
        for call in sandbox.calls():
            line = " ".join(call)
            for secret in secrets:
                assert secret not in line, f"a generated secret is in `{call[0]} ...` on {host}"


def test_what_the_steps_left_on_the_machines(ran: tuple[ProgramRun, dict[str, Sandbox]]) -> None:
    run, sandboxes = ran
    orchestrator = run.value("orchestrator")
    manager = run.value("nodes.managers")[0]
    worker = run.value("nodes.workers")[0]
    if orchestrator == "k8s":
        config = yaml.safe_load(sandboxes[manager].path("/etc/rancher/k3s/config.yaml").read_text())
        assert config["node-taint"] == ["faasbench.io/control-plane=true:NoSchedule"]
        assert config["disable"] == ["traefik", "servicelb"]
        assert config["flannel-iface"] == "ens5"
        token = sandboxes[manager].path("/etc/rancher/k3s/token")
        assert token.stat().st_mode & 0o777 == 0o600
        assert token.read_text() in secrets_of(run)
        agent = yaml.safe_load(sandboxes[worker].path("/etc/rancher/k3s/config.yaml").read_text())
        assert agent["server"] == f"https://{manager}:6443"
        assert "faasbench.io/role=worker" in agent["node-label"]
        assert sandboxes[worker].path("/usr/local/bin/k3s").read_text() == K3S_BINARY
        bastion = str(run.value("bastion.host"))
        socket = sandboxes[bastion].path("/etc/systemd/system/faasbench-kube-api.socket")
        assert "ListenStream=6443" in socket.read_text()
    elif orchestrator == "swarm":
        manager_state = sandboxes[manager].state()["swarm"]
        assert manager_state["ingress_mtu"] == "1500"
        # Labelled by the swarm ID the worker's join reported, never by its reusable name.
        assert manager_state["labels"][swarm_node_id(worker)] == "faasbench.role=worker"
        assert sandboxes[worker].state()["swarm"]["joined_via"] == [f"{manager}:2377"]
        daemon = sandboxes[worker].path("/etc/docker/daemon.json").read_text()
        assert '"mtu": 1500' in daemon
        openfaas = sandboxes[manager].state()["swarm"]
        assert openfaas["stacks"] == ["faasbench-storage", "func"]
        # objectStorage: the server's stack, its Docker secret, one seeding run with the key.
        storage_key = openfaas["secrets"]["object-storage-secret-key"]
        assert storage_key in secrets_of(run)
        [seeding] = openfaas["runs"]
        assert seeding["env"]["S3_SECRET_KEY"] == storage_key
        assert seeding["env"]["S3_ENDPOINT"] == "http://faasbench-storage_object-storage:7070"
        seeded = sandboxes[manager].path("/opt/faasbench/object-storage/functions/thumbnail.py")
        assert seeded.read_text() == (ROOT / "functions" / "thumbnail.py").read_text() + "\n"
        assert openfaas["secrets"]["basic-auth-user"] == "admin"
        assert openfaas["secrets"]["basic-auth-password"] in secrets_of(run)
        compose = yaml.safe_load(
            sandboxes[manager].path("/opt/faasbench/openfaas/docker-compose.yml").read_text()
        )
        assert compose["networks"]["functions"]["driver_opts"] == {
            "com.docker.network.driver.mtu": "1500"
        }
        # The provider the stack runs is the image built on the manager from the pinned commit.
        images = sandboxes[manager].state()["docker"]["images"]
        provider = compose["services"]["faas-swarm"]["image"]
        assert list(images) == [provider]
        assert images[provider]["dockerfile"].strip() == faas_swarm_image.dockerfile().strip()
        assert ".git" not in images[provider]["context"]
        assert "main.go" in images[provider]["context"]
        assert sandboxes[manager].state()["docker"]["builds"] == 1
        assert "images" not in sandboxes[worker].state().get("docker", {}), "workers build none"
    else:
        nomad_hcl = sandboxes[worker].path("/etc/nomad.d/nomad.hcl")
        assert nomad_hcl.stat().st_mode & 0o777 == 0o600
        assert 'node_class = "faasbench-worker"' in nomad_hcl.read_text()
        assert sandboxes[worker].path("/opt/cni/bin/bridge").exists()
        server_state = sandboxes[manager].state()
        assert "faasbench-agents" in server_state["consul"]["policies"]
        assert server_state["nomad"]["bootstrap"] in secrets_of(run)
        assert server_state["vault"]["sealed"] is False
        assert "openfaas-fn/" in server_state["vault"]["mounts"]
        assert "jwt-nomad/" in server_state["vault"]["auth"]
        assert "nomad-workloads" in server_state["consul"]["auth_methods"]
        assert "openfaas-fn" in server_state["nomad"]["namespaces"]
        job = server_state["nomad"]["jobs"]["openfaas"]
        assert job["TaskGroups"][0]["Networks"][0]["Mode"] == "bridge"
        items = server_state["nomad"]["variables"]["nomad/jobs/openfaas"]
        assert set(items) == {
            "basic_auth_user", "basic_auth_password", "nomad_token", "consul_token", "vault_token",
        }  # fmt: skip
        assert items["nomad_token"] == server_state["nomad"]["bootstrap"]
        # objectStorage: its job, pinned to the first worker, and its variable with the key.
        storage_job = server_state["nomad"]["jobs"]["object-storage"]
        assert storage_job["Constraints"][0]["RTarget"] == worker
        storage_items = server_state["nomad"]["variables"]["nomad/jobs/object-storage"]
        assert storage_items["secret_key"] in secrets_of(run)
        assert run.value("object_storage.endpoint") == f"http://{worker}:7070"
    for sandbox in sandboxes.values():
        held = [c for c in sandbox.calls() if c[:2] == ["apt-mark", "hold"]]
        installed = sandbox.state().get("packages", {})
        assert {c[2] for c in held} == set(installed), "every installed package is held"


def test_delete_commands_run_twice_cleanly(ran: tuple[ProgramRun, dict[str, Sandbox]]) -> None:
    """Last of this module's tests on `ran`: deletes undo what the others inspect."""
    run, sandboxes = ran
    deletes = [s for s in run.mocks.of_type("command:remote:Command") if s.inputs.get("delete")]
    assert deletes
    for step in deletes:
        host = step.inputs["connection"]["host"]
        for _ in range(2):
            sandboxes[host].run(step.inputs["delete"], ip=host)


# --- readiness loops fail clearly ---------------------------------------------------------


WORKER = "faasbench-aws-worker-0"


def short_timeout(script: str) -> str:
    return re.sub(r"^READY_TIMEOUT_S=\d+$", "READY_TIMEOUT_S=2", script, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("orchestrator", "step", "state", "expected"),
    [
        (
            "k8s",
            "k3s-node-ready",
            {"k8s_nodes": {WORKER: "False"}},
            f"waiting for node {WORKER} (uid-{WORKER}) to join and be Ready: node {WORKER} "
            "Ready=False",
        ),
        (
            "k8s",
            "k3s-node-ready",
            {"k8s_uids": {WORKER: "uid-of-an-earlier-machine"}},
            f"waiting for node {WORKER} (uid-{WORKER}) to join and be Ready: node {WORKER} is "
            f"uid-of-an-earlier-machine, not uid-{WORKER}",
        ),
        (
            "swarm",
            "swarm-node-ready",
            # The worker's own ID is down; another node of the same name does not count.
            {"swarm_nodes": {"swarm-WORKER_IP": "down", "an-earlier-machine": "ready"}},
            f"waiting for swarm node {WORKER} (swarm-WORKER_IP) to be Ready: node {WORKER} "
            "(swarm-WORKER_IP) is down",
        ),
        (
            "nomad",
            "nomad-node-ready",
            {"nomad_nodes": {"faasbench-aws-worker-1": "ready"}},
            f"waiting for Nomad client {WORKER} (id-{WORKER}) to be ready: Nomad client {WORKER} "
            f"(id-{WORKER}) is not registered",
        ),
    ],
)
def test_readiness_fails_with_a_clear_message(
    tmp_path: Path, orchestrator: str, step: str, state: dict[str, Any], expected: str
) -> None:
    config = {**stack_file_config("aws"), "orchestrator": orchestrator, **CONFIG_OVERRIDES}
    run = run_program(config, stack="aws")
    [ready] = [
        s
        for s in run.mocks.of_type("command:remote:Command")
        if step_of(s.inputs["stdin"]) == step and "worker-0" in s.name
    ]
    base = world(run)
    if orchestrator == "nomad":
        base["nomad"] = {
            "bootstrap": next(iter(s for s in secrets_of(run) if s in ready.inputs["stdin"]))
        }
    # WORKER_IP: the worker's address, which its swarm ID is made of.
    worker_ip = run.value("nodes.workers")[0]
    state = json.loads(json.dumps(state).replace("WORKER_IP", worker_ip))
    sandbox = Sandbox.create(tmp_path / "host", {**base, **state})
    result = sandbox.run(short_timeout(ready.inputs["stdin"]), check=False)
    assert result.returncode == 1
    assert expected.replace("WORKER_IP", worker_ip) in result.stderr
    assert "Traceback" not in result.stderr


# --- the scripts themselves ---------------------------------------------------------------


def all_steps() -> list[str]:
    return sorted(
        p.stem for p in SCRIPTS.glob("*.sh") if p.read_text().startswith("#!/usr/bin/env bash")
    )


def test_every_script_file_passes_shellcheck() -> None:
    files = sorted(str(p) for p in SCRIPTS.glob("*.sh"))
    result = subprocess.run(
        ["shellcheck", "--shell=bash", "--external-sources", *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=SCRIPTS,
    )
    assert result.returncode == 0, result.stdout


def early_greps(text: str) -> list[str]:
    """The lines of a script where a pipeline ends in `grep -q` (on the line, or on the line
    after one ending in `|`)."""
    quiet = re.compile(r"\bgrep\s+-\w*q")
    found = []
    before = ""
    for line in text.splitlines():
        match = quiet.search(line)
        if match and ("|" in line[: match.start()] or before.rstrip().endswith("|")):
            found.append(line.strip())
        before = line
    return found


def test_no_pipeline_ends_in_a_grep_that_stops_reading() -> None:
    """Steps run with `set -o pipefail`: `… | grep -q` exits at its first match, the writer
    before it may die of SIGPIPE, and the pipeline then fails although the line was there
    (seen under load: a stack found missing and deployed again). `grep … >/dev/null` reads
    to the end."""
    assert early_greps("a | grep -qx b\nc |\n  grep -q d\ngrep -qx e <<<f\n") == [
        "a | grep -qx b",
        "grep -q d",
    ]
    offenders = {path.name: early_greps(path.read_text()) for path in sorted(SCRIPTS.glob("*.sh"))}
    assert {name: lines for name, lines in offenders.items() if lines} == {}


@pytest.mark.parametrize("step", all_steps())
def test_every_rendered_step_passes_shellcheck(step: str, tmp_path: Path) -> None:
    rendered = render_step(step, {"EXAMPLE": "value with 'quotes' and spaces"}, {"SECRET": "x"})
    path = tmp_path / f"{step}.sh"
    path.write_text(rendered)
    result = subprocess.run(
        # Parameters come from the components, not this sample: ignore unassigned names.
        ["shellcheck", "--shell=bash", "--exclude=SC2034,SC2153,SC2154", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert rendered.count("\nwait_until() {") == 1
    assert step_sources(step)[0] == "lib"


def test_render_step_quotes_parameters_and_refuses_bad_names() -> None:
    script = render_step("k3s-kubeconfig", {"A": "x'; rm -rf /; '", "LIST": ["a b", "c"]})
    assert "A='x'\"'\"'; rm -rf /; '\"'\"''" in script
    assert "LIST='a b c'" in script
    with pytest.raises(ValueError, match="not an upper-case identifier"):
        render_step("k3s-kubeconfig", {"lower": "x"})


# --- a swarm join decides on a settled state ----------------------------------------------


@pytest.fixture(scope="module")
def swarm_join() -> tuple[str, dict[str, Any]]:
    """worker-0's join step (its script) and the world its machine sees."""
    config = {**stack_file_config("aws"), "orchestrator": "swarm", **CONFIG_OVERRIDES}
    run = run_program(config, stack="aws")
    [join] = [
        s
        for s in run.mocks.of_type("command:remote:Command")
        if step_of(s.inputs["stdin"]) == "swarm-join" and "worker-0" in s.name
    ]
    return short_timeout(join.inputs["stdin"]), world(run)


def joins(sandbox: Sandbox) -> list[list[str]]:
    return [c for c in sandbox.calls() if c[0] == "curl" and "/swarm/join" in c[-1]]


@pytest.mark.parametrize(
    ("settles_to", "joined"),
    [("active", False), ("inactive", True)],
    ids=["join-already-done", "join-failed-before"],
)
def test_swarm_join_waits_out_a_pending_state(
    tmp_path: Path, swarm_join: tuple[str, dict[str, Any]], settles_to: str, joined: bool
) -> None:
    script, base = swarm_join
    pending = {"local": "pending", "pending_reads": 2, "settles_to": settles_to}
    if settles_to == "active":
        pending["node_id"] = "swarm-id-of-the-earlier-join"
    sandbox = Sandbox.create(tmp_path / "worker", {**base, "swarm": pending})
    result = sandbox.run(script)
    assert bool(joins(sandbox)) is joined
    assert sandbox.state()["swarm"]["local"] == "active"
    expected = sandbox.state()["swarm"]["node_id"]
    assert f"FAASBENCH_NODE_ID={expected}\n" in result.stdout


@pytest.mark.parametrize(
    ("swarm", "message"),
    [
        (
            {"local": "pending", "pending_reads": 10**6},
            "timed out after 2s waiting for this node's swarm state to settle: "
            "this node's swarm state is pending",
        ),
        ({"local": "error"}, "swarm state is error: expected inactive or active"),
    ],
    ids=["pending-forever", "error"],
)
def test_swarm_join_refuses_a_state_it_cannot_join_from(
    tmp_path: Path, swarm_join: tuple[str, dict[str, Any]], swarm: dict[str, Any], message: str
) -> None:
    script, base = swarm_join
    sandbox = Sandbox.create(tmp_path / "worker", {**base, "swarm": swarm})
    result = sandbox.run(script, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert joins(sandbox) == []


JOIN_STEPS = {"k8s": "k3s-agent", "swarm": "swarm-join", "nomad": "nomad-agent"}


@pytest.mark.parametrize("orchestrator", ["k8s", "swarm", "nomad"])
def test_a_join_reports_the_node_id_the_cluster_steps_are_given(
    tmp_path: Path, orchestrator: str
) -> None:
    """What a worker's join step prints is what its readiness and removal steps address."""
    config = {**stack_file_config("aws"), "orchestrator": orchestrator, **CONFIG_OVERRIDES}
    run = run_program(config, stack="aws")
    commands = run.mocks.of_type("command:remote:Command")
    worker = run.value("nodes.workers")[0]
    [join] = [
        c
        for c in commands
        if step_of(c.inputs["stdin"]) == JOIN_STEPS[orchestrator]
        and c.inputs["connection"]["host"] == worker
    ]
    sandbox = Sandbox.create(tmp_path / worker, world(run))
    printed = node_id_of(sandbox.run(join.inputs["stdin"], ip=worker).stdout)
    assert printed
    assert printed == node_id_of(join.outputs["stdout"])
    [ready] = [c for c in commands if c.name == join.name.rsplit("-", 1)[0] + "-ready"]
    assert printed in ready.inputs["stdin"]
    assert printed in ready.inputs["delete"]
