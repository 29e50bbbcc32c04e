"""The output contract: one model for both sides, documented, secrets always marked."""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr
from support.pulumi_mocks import ROOT, is_secret, resolve, run_program, run_under_mocks

from contract.outputs import StackOutputs, secret_paths
from stacks.export import mark_secrets

EXPECTED_SECRETS = {
    ("ssh_private_key",),
    ("openfaas", "password"),
    ("openwhisk", "auth"),
    ("keda", "queue", "password"),
    ("grafana_password",),
    ("ftp", "password"),
    ("object_storage", "secret_key"),
    ("kubeconfig",),
    ("nomad", "token"),
    ("nomad", "consul_token"),
    ("nomad", "vault_token"),
}


def test_secret_paths_cover_every_credential_of_the_contract() -> None:
    assert secret_paths() == EXPECTED_SECRETS


def test_docs_describe_every_key() -> None:
    text = (ROOT / "docs" / "outputs.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)`", text, flags=re.MULTILINE))
    assert documented == set(StackOutputs.model_fields)
    for path in EXPECTED_SECRETS:
        assert ".".join(path) in text


def test_mark_secrets_wraps_nested_and_top_level_credentials() -> None:
    def body() -> dict[str, object]:
        marked = mark_secrets(
            {
                "cloud": "aws",
                "ssh_private_key": "k",
                "ftp": {"host": "10.0.2.9", "password": "p"},
            }
        )
        ftp = marked["ftp"]
        assert isinstance(ftp, dict)
        return {
            "key": is_secret(marked["ssh_private_key"]),
            "ftp_password": is_secret(ftp["password"]),
            "ftp_host_plain": isinstance(ftp["host"], str),
            "value": resolve(ftp["password"]),
        }

    _, result = run_under_mocks(body)
    assert result == {"key": True, "ftp_password": True, "ftp_host_plain": True, "value": "p"}


def test_mark_secrets_refuses_keys_outside_the_contract() -> None:
    with pytest.raises(KeyError, match="not in the stack output contract: gateway"):
        mark_secrets({"cloud": "aws", "gateway": "x"})


def test_loadgen_side_parses_a_stack_export_and_keeps_secrets_hidden() -> None:
    exported = {
        "cloud": "aws",
        "orchestrator": "k8s",
        "framework": "openfaas",
        "bastion": {"host": "198.51.100.7", "user": "ubuntu"},
        "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----",
        "machines": {
            "image": "ami-1",
            "sizes": {"bastion": "t3a.medium"},
            "cpu_credits": {"bastion": "unlimited"},
        },
        "some_future_key": 1,
    }
    outputs = StackOutputs.model_validate(exported)
    assert isinstance(outputs.ssh_private_key, SecretStr)
    assert "BEGIN" not in repr(outputs)
    assert "BEGIN" not in str(outputs.model_dump())
    assert outputs.bastion is not None
    assert outputs.bastion.host == "198.51.100.7"


def test_a_real_export_round_trips_through_the_model(aws_config: dict[str, str]) -> None:
    run = run_program(aws_config, stack="aws")
    plain: dict[str, object] = {}
    for path, leaf in run.leaves.items():
        node = plain
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[last] = leaf.value
    outputs = StackOutputs.model_validate(plain)
    assert outputs.machines is not None
    assert outputs.machines.sizes == {
        "bastion": "t3a.medium",
        "manager": "t3a.large",
        "worker": "t3a.large",
        "haproxy": "t3a.medium",
        "ftp": "t3a.medium",
    }
    assert outputs.openfaas is not None
    assert outputs.openfaas.limits.max_replicas == 5
    assert outputs.ftp is not None
    assert outputs.ftp.password.get_secret_value()
    assert outputs.kubeconfig is not None
    assert outputs.nodes is not None
    assert len(outputs.nodes.workers) == 2
