"""Every (cloud, orchestrator, framework) the config allows, under mocks: the keys it exports,
as docs/outputs.md lists them, and every credential among them marked secret."""

from __future__ import annotations

import pytest
from support.pulumi_mocks import FAKE_KUBECONFIG, run_program, stack_file_config

from stacks.outputs import StackOutputs, secret_paths

BASE = {"cloud", "orchestrator", "framework"}
VM = BASE | {"bastion", "ssh_private_key", "machines", "nodes"}
OPENFAAS = {"gateway_url", "openfaas", "prometheus", "ftp"}
EXPECTED = {
    ("k8s", "openfaas"): VM | {"kubeconfig", "kube_api_internal"} | OPENFAAS,
    ("k8s", "openwhisk"): VM | {"kubeconfig", "kube_api_internal"},
    ("swarm", "openfaas"): VM | {"swarm"} | OPENFAAS,
    ("nomad", "openfaas"): VM | {"nomad"} | OPENFAAS,
}
CASES = [
    (cloud, orchestrator, framework)
    for cloud in ("aws", "openstack")
    for (orchestrator, framework) in EXPECTED
]


@pytest.mark.parametrize(("cloud", "orchestrator", "framework"), CASES)
def test_keys_and_secrets_of_each_combination(
    cloud: str, orchestrator: str, framework: str
) -> None:
    config = {**stack_file_config(cloud), "orchestrator": orchestrator, "framework": framework}
    run = run_program(config, stack=f"{cloud}-{orchestrator}-{framework}")
    assert set(run.outputs) == EXPECTED[(orchestrator, framework)]
    exported_secrets = 0
    for path in secret_paths():
        dotted = ".".join(path)
        if dotted in run.leaves:
            assert run.secret(dotted), f"{dotted} is exported in plain text"
            exported_secrets += 1
    assert exported_secrets >= 1
    for dotted, leaf in run.leaves.items():
        if leaf.secret:
            assert tuple(dotted.split(".")) in secret_paths(), (
                f"{dotted} is secret but not a credential"
            )
    plain: dict[str, object] = {}
    for dotted, leaf in run.leaves.items():
        node = plain
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[last] = leaf.value
    StackOutputs.model_validate(plain)


@pytest.mark.parametrize("framework", ["openfaas", "openwhisk"])
def test_existing_cluster(framework: str) -> None:
    config = {
        **stack_file_config("aws"),
        "cloud": "existing",
        "framework": framework,
        "kubeconfig": FAKE_KUBECONFIG,
    }
    config = {k: v for k, v in config.items() if k != "allowedSshCidrs"}
    run = run_program(config, ("kubeconfig",), stack="lab")
    assert set(run.outputs) == BASE | {"kubeconfig", "kube_api_internal"}
    assert run.secret("kubeconfig")
