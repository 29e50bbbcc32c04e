"""Two stacks in one account and region share no physical name."""

from __future__ import annotations

import pytest
from support.pulumi_mocks import ProgramRun, run_program


def physical_names(run: ProgramRun) -> set[str]:
    """Names in the cloud account (Kubernetes objects live in each stack's own cluster)."""
    names: set[str] = set()
    for r in run.mocks.resources:
        if not r.typ.startswith(("aws:", "openstack:")):
            continue
        for key in ("name", "keyName"):
            value = r.inputs.get(key)
            if isinstance(value, str):
                names.add(value)
        tags = r.inputs.get("tags")
        if isinstance(tags, dict) and "Name" in tags:
            names.add(tags["Name"])
    return names


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_two_stacks_have_disjoint_physical_names(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    first = physical_names(run_program(config, stack=cloud))
    second = physical_names(
        run_program({**config, "orchestrator": "swarm"}, stack=f"{cloud}-swarm")
    )
    assert len(first) >= 5
    assert len(second) >= 5
    assert not first & second
    assert all(name.startswith(f"faasbench-{cloud}-") for name in first)


def test_env_name_prefixes_and_tags(aws_config: dict[str, str]) -> None:
    run = run_program({**aws_config, "envName": "lab7"}, stack="aws")
    for resource in run.mocks.resources:
        tags = resource.inputs.get("tags")
        if resource.typ.startswith("aws:") and "tags" in resource.inputs:
            assert tags["faasbench:env"] == "lab7"
            assert tags["faasbench:stack"] == "aws"
            assert tags["Name"].startswith("lab7-aws-")
