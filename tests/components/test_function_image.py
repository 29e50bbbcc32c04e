"""The suite's image built on the bastion: the stack's wiring under mocks for every OpenFaaS
combination and both registries, the sources and tag, the rendered registry settings, and the
steps themselves run twice in the sandbox with a fake Docker."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.pulumi_mocks import ProgramRun, Recorded, run_program, stack_file_config, step_of
from support.sandbox import Sandbox
from support.snapshots import assert_snapshot
from support.stack_hosts import CONFIG_OVERRIDES, run_host, secrets_of, steps_by_host, world

from components.function_image import (
    REPOSITORY,
    pack_sources,
    source_files,
    suite_version,
)
from components.registry_config import REGISTRY_IMAGE, REGISTRY_PORT, k3s_registries
from contract.outputs import StackOutputs

TOKEN = "dckr_pat_faasbench-test-token-0123456789"
PUBLIC = {
    "registryNamespace": "alice",
    "registryUsername": "alice",
    "registryToken": TOKEN,
}
PRIVATE = {"registry": "private"}
REGISTRIES = {"public": PUBLIC, "private": PRIVATE}
#: Where each orchestrator's nodes learn to trust the private registry.
NODE_STEPS = {
    "k8s": {"k3s-server", "k3s-agent"},
    "swarm": {"docker-install"},
    "nomad": {"docker-install"},
}
OPENFAAS_DEPLOY = {
    "k8s": "openfaas-release",
    "swarm": "openfaas-deploy",
    "nomad": "openfaas-deploy",
}
TAG = re.compile(rf"^{re.escape(suite_version())}-[0-9a-f]{{12}}$")


def program(cloud: str, orchestrator: str, registry: str, **extra: str) -> ProgramRun:
    config = {
        **stack_file_config(cloud),
        "orchestrator": orchestrator,
        **REGISTRIES[registry],
        **extra,
    }
    return run_program(config, ("registryToken",), stack=cloud)


def steps(run: ProgramRun) -> dict[str, Recorded]:
    return {s.name: s for s in run.mocks.of_type("command:remote:Command")}


def node_registry_steps(run: ProgramRun, orchestrator: str) -> list[Recorded]:
    return [
        s
        for s in steps(run).values()
        if step_of(s.inputs["stdin"]) in NODE_STEPS[orchestrator]
        and not s.name.startswith("functions-")
    ]


# --- every OpenFaaS combination, both registries, under mocks -----------------------------


@pytest.mark.parametrize("registry", ["public", "private"])
@pytest.mark.parametrize("orchestrator", ["k8s", "swarm", "nomad"])
@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_each_openfaas_stack_builds_and_exports_the_image(
    cloud: str, orchestrator: str, registry: str
) -> None:
    run = program(cloud, orchestrator, registry)
    bastion_ip = steps(run)["functions-registry" if registry == "private" else "functions-push"]
    image = run.value("registry.image")
    url = run.value("registry.url")
    assert not run.secret("registry.image")
    assert not run.secret("registry.url")
    host, namespace, rest = image.split("/")
    repository, tag = rest.split(":")
    assert repository == REPOSITORY
    assert TAG.match(tag)
    if registry == "public":
        assert (host, namespace, url) == ("docker.io", "alice", "https://docker.io")
    else:
        address = f"{bastion_private_ip(run)}:{REGISTRY_PORT}"
        assert (host, namespace, url) == (address, "faasbench", f"http://{address}")
        assert bastion_ip.inputs["connection"]["host"] == run.value("bastion.host")
    outputs = StackOutputs.model_validate({"registry": {"url": url, "image": image}, **BASE})
    assert outputs.registry is not None

    # Docker on the bastion first, then (private) the registry, then the build and push.
    deps = run.mocks.dependencies
    assert "functions-docker" in deps["functions-push"]
    if registry == "private":
        assert "functions-docker" in deps["functions-registry"]
        assert "functions-registry" in deps["functions-push"]
    for name in ("functions-docker", "functions-push"):
        assert steps(run)[name].inputs["connection"]["host"] == run.value("bastion.host")
        assert "proxy" not in steps(run)[name].inputs["connection"]

    # Every node trusts the private registry before OpenFaaS is deployed.
    configured = node_registry_steps(run, orchestrator)
    upstream = run.mocks.upstream(OPENFAAS_DEPLOY[orchestrator])
    nodes = len(run.value("nodes.workers")) + (1 if orchestrator != "nomad" else 0)
    assert len(configured) == nodes
    for step in configured:
        assert step.name in upstream, f"{step.name} is not before OpenFaaS"
        stdin = step.inputs["stdin"]
        if registry == "private":
            assert f"{host}" in stdin
        else:
            assert "REGISTRIES_YAML=''" in stdin or "INSECURE_REGISTRIES=''" in stdin


BASE = {"cloud": "aws", "orchestrator": "k8s", "framework": "openfaas"}


def bastion_private_ip(run: ProgramRun) -> str:
    for resource in run.mocks.resources:
        if resource.name == "network-bastion" and "privateIp" in resource.outputs:
            return str(resource.outputs["privateIp"])
        if resource.name == "network-bastion-port" and "allFixedIps" in resource.outputs:
            return str(resource.outputs["allFixedIps"][0])
    raise AssertionError("no bastion private address among the mocked resources")


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_the_token_is_secret_and_only_on_the_push_steps_stdin(cloud: str) -> None:
    run = program(cloud, "swarm", "public")
    push = steps(run)["functions-push"]
    assert "stdin" in push.secret_inputs
    assert f"REGISTRY_TOKEN={TOKEN}" in push.inputs["stdin"]
    assert push.inputs["create"] == "sudo bash -s"
    for resource in run.mocks.resources:
        for key, value in resource.inputs.items():
            if key in resource.secret_inputs:
                continue
            assert TOKEN not in json.dumps(value), f"the token is plain in {resource.name}.{key}"
    assert all(TOKEN not in json.dumps(leaf.value) for leaf in run.leaves.values())


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_the_private_registry_port_is_open_to_the_network_only(cloud: str) -> None:
    run = program(cloud, "nomad", "private")
    if cloud == "aws":
        [rule] = [
            r
            for r in run.mocks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            if r.inputs.get("fromPort") == REGISTRY_PORT
        ]
        assert rule.inputs["cidrIpv4"] == "10.0.0.0/16"
    else:
        [rule] = [
            r
            for r in run.mocks.of_type("openstack:networking/secGroupRule:SecGroupRule")
            if r.inputs.get("portRangeMin") == REGISTRY_PORT
        ]
        assert rule.inputs["remoteIpPrefix"] == "192.168.0.0/24"
    assert "network-bastion-sg" in {r.name for r in run.mocks.resources}


def test_without_a_registry_nothing_is_built() -> None:
    run = run_program({**stack_file_config("aws"), "orchestrator": "swarm"}, stack="aws")
    assert "registry" not in run.outputs
    assert not [s for s in steps(run) if s.startswith("functions-")]
    assert all(
        r.inputs.get("fromPort") != REGISTRY_PORT
        for r in run.mocks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    )
    for step in steps(run).values():
        stdin = step.inputs["stdin"]
        if step_of(stdin) == "docker-install":
            assert "INSECURE_REGISTRIES=''" in stdin


# --- sources and tag ---------------------------------------------------------------------


def copy_of_sources(tmp: Path) -> Path:
    root = tmp / "checkout"
    for path in source_files():
        target = root / "functions" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root


def test_sources_pack_reproducibly_and_the_tag_follows_their_content(tmp_path: Path) -> None:
    root = copy_of_sources(tmp_path)
    first, again = pack_sources(root), pack_sources(root)
    assert first == again
    assert first.sha256 == pack_sources().sha256
    # What the Dockerfile does not take does not change the tag.
    (root / "functions" / "README.md").write_text("notes\n")
    (root / "functions" / "__pycache__").mkdir()
    (root / "functions" / "__pycache__" / "echo.cpython-312.pyc").write_bytes(b"\0")
    assert pack_sources(root).sha256 == first.sha256
    echo = root / "functions" / "echo.py"
    echo.write_text(echo.read_text() + "\n# changed\n")
    assert pack_sources(root).sha256 != first.sha256
    names = [p.relative_to(root).as_posix() for p in source_files(root)]
    assert names[:2] == ["functions/Dockerfile", "functions/Dockerfile.dockerignore"]
    assert "functions/serve.py" in names
    assert "functions/README.md" not in names


# --- rendered registry settings ----------------------------------------------------------


def test_k3s_registries_yaml_for_the_private_registry() -> None:
    rendered = k3s_registries("10.0.1.12:5000")
    assert yaml.safe_load(rendered) == {
        "mirrors": {"10.0.1.12:5000": {"endpoint": ["http://10.0.1.12:5000"]}}
    }
    assert_snapshot("k3s-registries.yaml", rendered)


def test_the_registry_image_is_pinned_to_an_exact_tag() -> None:
    name, tag = REGISTRY_IMAGE.split(":")
    assert name == "registry"
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag)


# --- the steps, run twice in the sandbox -------------------------------------------------


def run_stack_hosts(
    run: ProgramRun, tmp: Path, hosts: list[str], extra: dict[str, Any] | None = None
) -> dict[str, Sandbox]:
    state = {**world(run), **(extra or {})}
    by_host = steps_by_host(run)
    return {host: run_host(tmp, host, by_host[host], state) for host in hosts}


@pytest.mark.parametrize("orchestrator", ["k8s", "swarm", "nomad"])
def test_private_registry_steps_on_the_bastion_and_a_worker(
    orchestrator: str, tmp_path: Path
) -> None:
    run = program("aws", orchestrator, "private", **CONFIG_OVERRIDES)
    bastion = str(run.value("bastion.host"))
    worker = run.value("nodes.workers")[0]
    sandboxes = run_stack_hosts(run, tmp_path, [bastion, worker])
    address = f"{bastion_private_ip(run)}:{REGISTRY_PORT}"
    engine = sandboxes[bastion].state()
    [container] = engine["docker"]["containers"].values()
    assert container["image"] == REGISTRY_IMAGE
    assert container["publish"] == f"{address}:5000"
    assert container["restart"] == "always"
    assert engine["docker"]["builds"] == 1, "built once over two runs"
    assert engine["registries"] == {address: [run.value("registry.image")]}
    bastion_daemon = daemon_json(sandboxes[bastion])
    assert bastion_daemon["insecure-registries"] == [address]
    if orchestrator == "k8s":
        path = sandboxes[worker].path("/etc/rancher/k3s/registries.yaml")
        assert yaml.safe_load(path.read_text()) == yaml.safe_load(k3s_registries(address))
    else:
        worker_daemon = daemon_json(sandboxes[worker])
        assert worker_daemon["insecure-registries"] == [address]
        assert_snapshot(
            "daemon-private-registry.json",
            sandboxes[worker].path("/etc/docker/daemon.json").read_text(),
        )
    for sandbox in sandboxes.values():
        sandbox.remove()


def daemon_json(sandbox: Sandbox) -> dict[str, Any]:
    return json.loads(sandbox.path("/etc/docker/daemon.json").read_text())


def test_public_registry_push_logs_in_on_stdin_and_out_again(tmp_path: Path) -> None:
    run = program("aws", "swarm", "public", **CONFIG_OVERRIDES)
    bastion = str(run.value("bastion.host"))
    accounts = {"registry_accounts": {"docker.io": {"alice": TOKEN}}}
    sandbox = run_stack_hosts(run, tmp_path, [bastion], accounts)[bastion]
    engine = sandbox.state()
    assert engine["registries"] == {"docker.io": [run.value("registry.image")]}
    assert engine["docker"]["builds"] == 1
    assert engine["docker"]["logins"] == {}, "logged out after the push"
    assert "containers" not in engine["docker"] or not engine["docker"]["containers"]
    secrets = {TOKEN, *secrets_of(run)}
    for call in sandbox.calls():
        assert all(secret not in " ".join(call) for secret in secrets), call
    # Docker's daemon.json on the bastion is the nodes' one: no insecure registry.
    assert "insecure-registries" not in daemon_json(sandbox)
    assert_snapshot(
        "daemon-bastion-public.json", sandbox.path("/etc/docker/daemon.json").read_text()
    )
    sandbox.remove()


def test_a_wrong_token_fails_the_step_without_showing_it(tmp_path: Path) -> None:
    run = program("aws", "nomad", "public", **CONFIG_OVERRIDES)
    push = steps(run)["functions-push"]
    sandbox = Sandbox.create(
        tmp_path / "bastion",
        {**world(run), "registry_accounts": {"docker.io": {"alice": "another-token"}}},
    )
    sandbox.run(steps(run)["functions-docker"].inputs["stdin"])
    result = sandbox.run(push.inputs["stdin"], check=False)
    assert result.returncode == 1
    assert "docker login to docker.io as alice failed" in result.stderr
    assert TOKEN not in result.stderr + result.stdout
    assert "registries" not in sandbox.state()


def test_changed_sources_build_again_then_never_twice(tmp_path: Path) -> None:
    run = program("aws", "swarm", "private", **CONFIG_OVERRIDES)
    bastion = str(run.value("bastion.host"))
    sandbox = run_stack_hosts(run, tmp_path, [bastion])[bastion]
    push = steps(run)["functions-push"].inputs["stdin"]
    root = copy_of_sources(tmp_path)
    echo = root / "functions" / "echo.py"
    echo.write_text(echo.read_text() + "\n# changed\n")
    changed = pack_sources(root)
    old = pack_sources()
    tag, new_tag = f"-{old.sha256[:12]}", f"-{changed.sha256[:12]}"
    script = (
        push.replace(old.base64, changed.base64)
        .replace(old.sha256, changed.sha256)
        .replace(tag, new_tag)
    )
    assert script != push
    for _ in range(2):
        sandbox.run(script, ip=bastion)
    engine = sandbox.state()
    assert engine["docker"]["builds"] == 2
    [pushed] = engine["registries"].values()
    assert [image.rsplit("-", 1)[1] for image in pushed] == [tag[1:], new_tag[1:]]
    sandbox.remove()


def test_a_damaged_tarball_is_refused(tmp_path: Path) -> None:
    run = program("aws", "swarm", "private", **CONFIG_OVERRIDES)
    push = steps(run)["functions-push"].inputs["stdin"]
    sources = pack_sources()
    script = push.replace(f"SOURCES_SHA256={sources.sha256}", "SOURCES_SHA256=" + "0" * 64)
    sandbox = Sandbox.create(tmp_path / "bastion", world(run))
    result = sandbox.run(script, check=False)
    assert result.returncode == 1
    assert "the sources arrived damaged" in result.stderr
