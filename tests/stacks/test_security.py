"""Nothing is open to the world unless the user asked for it."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from support.pulumi_mocks import ProgramRun, run_program

WORLD = {"0.0.0.0/0", "::/0"}


def ingress_rules(run: ProgramRun) -> list[dict[str, Any]]:
    """Every ingress rule as {cidr, from_port, to_port, group} whatever the cloud's shape."""
    rules = []
    for r in run.mocks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        rules.append(
            {
                "cidr": r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"),
                "from_port": r.inputs.get("fromPort"),
                "to_port": r.inputs.get("toPort"),
                "group": run.mocks.by_id(r.inputs["securityGroupId"]).name,
            }
        )
    for r in run.mocks.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not r.inputs.get("ingress"), "inline rules would hide from this check"
    for r in run.mocks.of_type("openstack:networking/secGroupRule:SecGroupRule"):
        if r.inputs["direction"] == "ingress":
            rules.append(
                {
                    "cidr": r.inputs.get("remoteIpPrefix"),
                    "from_port": r.inputs.get("portRangeMin"),
                    "to_port": r.inputs.get("portRangeMax"),
                    "group": run.mocks.by_id(r.inputs["securityGroupId"]).name,
                }
            )
    return rules


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_no_ingress_open_to_the_world_by_default(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    run = run_program(request.getfixturevalue(f"{cloud}_config"), stack=cloud)
    rules = ingress_rules(run)
    assert rules, "the check must see the rules"
    for rule in rules:
        assert rule["cidr"] not in WORLD
        assert rule["cidr"] is not None, "a rule without a source is open to everyone"
    bastion = [r for r in rules if "bastion" in r["group"]]
    # SSH, and the Kubernetes API forwarded for the Pulumi CLI (the example stack is k8s).
    assert {(r["from_port"], r["to_port"]) for r in bastion} == {(22, 22), (6443, 6443)}
    assert {r["cidr"] for r in bastion} == {"203.0.113.0/24"}
    private = [r for r in rules if "private" in r["group"]]
    assert private
    assert all(ipaddress.ip_network(r["cidr"]).is_private for r in private)


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_public_ssh_only_with_allow_public_ssh(cloud: str, request: pytest.FixtureRequest) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program(
        {**config, "allowedSshCidrs": '["0.0.0.0/0", "::/0"]', "allowPublicSsh": "true"},
        stack=cloud,
    )
    world = [r for r in ingress_rules(run) if r["cidr"] in WORLD]
    assert {r["cidr"] for r in world} == WORLD
    ports = {(r["from_port"], r["to_port"]) for r in world}
    assert ports == {(22, 22), (6443, 6443)}, "only SSH and the forwarded API"
    assert all("bastion" in r["group"] for r in world)


@pytest.mark.parametrize("orchestrator", ["swarm", "nomad"])
def test_only_ssh_on_the_bastion_without_kubernetes(
    orchestrator: str, aws_config: dict[str, str]
) -> None:
    run = run_program({**aws_config, "orchestrator": orchestrator}, stack="aws")
    bastion = [r for r in ingress_rules(run) if "bastion" in r["group"]]
    assert {(r["from_port"], r["to_port"]) for r in bastion} == {(22, 22)}
