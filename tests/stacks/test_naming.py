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


#: Resource types whose provider takes no tags (their SDK classes have no `tags` argument).
UNTAGGABLE = {
    "aws": {
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/eipAssociation:EipAssociation",
    },
    "openstack": {
        "openstack:networking/routerInterface:RouterInterface",
        "openstack:networking/secGroupRule:SecGroupRule",
        "openstack:networking/floatingIpAssociate:FloatingIpAssociate",
        "openstack:compute/keypair:Keypair",
    },
}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_every_tagged_resource_says_when_it_expires(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    """`faasbench:expires-at` (OpenStack: `faasbench-expires-at=...`) on every resource that takes
    tags, from `expiresAt`; `none` without it."""
    config = request.getfixturevalue(f"{cloud}_config")
    for expires, expected in (("2026-12-04T18:00:00Z", "2026-12-04T18:00:00Z"), (None, "none")):
        extra = {"expiresAt": expires} if expires else {}
        run = run_program({**config, **extra}, stack=cloud)
        tagged = [
            r for r in run.mocks.resources if r.typ.startswith(f"{cloud}:") and "tags" in r.inputs
        ]
        assert len(tagged) >= 8
        untagged = {
            r.typ for r in run.mocks.resources if r.typ.startswith(f"{cloud}:") and r not in tagged
        }
        assert untagged <= UNTAGGABLE[cloud]
        for resource in tagged:
            tags = resource.inputs["tags"]
            if cloud == "aws":
                assert tags["faasbench:expires-at"] == expected, resource.typ
            else:
                assert f"faasbench-expires-at={expected}" in tags, resource.typ
        assert run.outputs["expires_at"] == expected
