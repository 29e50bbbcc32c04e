"""VM stacks export `loader`, where `loadgen run --remote` runs campaigns: the bastion, by the
contract's default, with its public address and login user and nothing secret about it."""

from __future__ import annotations

import pytest
from support.pulumi_mocks import run_program, stack_file_config


@pytest.mark.parametrize(
    ("cloud", "orchestrator"), [("aws", "k8s"), ("openstack", "swarm"), ("aws", "nomad")]
)
def test_vm_stacks_export_the_bastion_as_loader(cloud: str, orchestrator: str) -> None:
    config = {**stack_file_config(cloud), "orchestrator": orchestrator, "framework": "openfaas"}
    run = run_program(config, stack=f"{cloud}-{orchestrator}")
    assert "loader" in run.outputs
    for key in ("host", "user"):
        assert run.value(f"loader.{key}") == run.value(f"bastion.{key}")
        assert not run.secret(f"loader.{key}")
    assert run.value("loader.host")
