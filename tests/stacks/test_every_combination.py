"""Every (cloud, orchestrator, framework) the config allows, under mocks: the keys it exports,
as docs/outputs.md lists them, and every credential among them marked secret."""

from __future__ import annotations

import pytest
from support.expected_outputs import BASE, EXPECTED, K8S, OPENFAAS, OPENWHISK
from support.pulumi_mocks import FAKE_KUBECONFIG, ProgramRun, run_program, stack_file_config

from contract.outputs import StackOutputs, secret_paths

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
    check_secrets_and_contract(run)


def check_secrets_and_contract(run: ProgramRun) -> StackOutputs:
    """Every credential exported is secret, nothing else is, and the outputs parse as the
    contract."""
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
    return StackOutputs.model_validate(plain)


def existing_config(**extra: str) -> dict[str, object]:
    config = {
        **stack_file_config("aws"),
        "cloud": "existing",
        "kubeconfig": FAKE_KUBECONFIG,
        **extra,
    }
    return {k: v for k, v in config.items() if k != "allowedSshCidrs"}


def test_existing_cluster_with_openwhisk_uses_its_tls_node_port() -> None:
    run = run_program(existing_config(framework="openwhisk"), ("kubeconfig",), stack="lab")
    assert set(run.outputs) == BASE | K8S | OPENWHISK
    outputs = check_secrets_and_contract(run)
    assert outputs.openwhisk is not None
    assert outputs.openwhisk.api_host == "https://127.0.0.1:31001"
    assert outputs.openwhisk.insecure_tls is True
    assert outputs.openwhisk.namespace == "guest"
    release = run.mocks.one("kubernetes:helm.sh/v3:Release", "openwhisk")
    # No core node of ours: no toleration, invokers by the workers' label, one by default.
    assert release.inputs["values"]["toleration"] == {"enabled": False}
    assert release.inputs["values"]["invoker"]["containerFactory"]["kubernetes"] == {
        "replicaCount": 1
    }


def test_existing_cluster_with_openfaas_uses_node_ports_and_an_in_cluster_ftp_server() -> None:
    run = run_program(existing_config(framework="openfaas"), ("kubeconfig",), stack="lab")
    assert set(run.outputs) == BASE | K8S | OPENFAAS
    outputs = check_secrets_and_contract(run)
    # No HAProxy machine: the gateway's NodePort on the API server's host (the kubeconfig's).
    assert outputs.gateway_url == "http://127.0.0.1:31112"
    assert outputs.prometheus is not None
    assert outputs.prometheus.url == "http://127.0.0.1:30900"
    assert outputs.prometheus.kind == "kube-prometheus-stack"
    assert outputs.grafana_url == "http://127.0.0.1:30300"
    assert outputs.ftp is not None
    assert outputs.ftp.host == "ftp.faasbench.svc"
    types = [r.typ for r in run.mocks.resources]
    assert "faasbench:ftp:FtpInCluster" in types
    assert not [t for t in types if t.startswith(("aws:", "openstack:", "command:"))]


def test_existing_cluster_node_address_can_be_set() -> None:
    config = existing_config(framework="openfaas", existingNodeAddress="node-1.lab.example")
    run = run_program(config, ("kubeconfig",), stack="lab")
    assert run.leaves["gateway_url"].value == "http://node-1.lab.example:31112"
