"""Nothing is open to the world unless the user asked for it."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from support.pulumi_mocks import ProgramRun, run_program

from contract.outputs import CALLBACK_PORT

WORLD = {"0.0.0.0/0", "::/0"}


def private_range(cloud: str, config: dict[str, str]) -> str:
    """The stack's private network as its rules name it (AWS: the VPC; OpenStack: the subnet)."""
    if cloud == "aws":
        return config.get("awsVpcCidr", "10.0.0.0/16")
    return config.get("openstackSubnetCidr", "192.168.0.0/24")


def ingress_rules(run: ProgramRun) -> list[dict[str, Any]]:
    """Every ingress rule as {cidr, from_port, to_port, group, source_group} whatever the
    cloud's shape (`source_group`: the group a rule admits, for rules that name one)."""
    rules = []
    for r in run.mocks.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        rules.append(
            {
                "cidr": r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6"),
                "from_port": r.inputs.get("fromPort"),
                "to_port": r.inputs.get("toPort"),
                "group": run.mocks.by_id(r.inputs["securityGroupId"]).name,
                "source_group": r.inputs.get("referencedSecurityGroupId"),
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
                    "source_group": r.inputs.get("remoteGroupId"),
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
    bastion = [r for r in rules if "bastion" in r["group"] and r["from_port"] != CALLBACK_PORT]
    # SSH, and the Kubernetes API forwarded for the Pulumi CLI (the example stack is k8s).
    assert {(r["from_port"], r["to_port"]) for r in bastion} == {(22, 22), (6443, 6443)}
    assert {r["cidr"] for r in bastion} == {"203.0.113.0/24"}
    private = [r for r in rules if "private" in r["group"]]
    assert private
    assert all(ipaddress.ip_network(r["cidr"]).is_private for r in private)


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_public_ssh_opens_ssh_only_and_the_api_to_its_own_ranges(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program(
        {
            **config,
            "allowedSshCidrs": '["0.0.0.0/0", "::/0"]',
            "allowPublicSsh": "true",
            "kubeApiCidrs": '["198.51.100.0/24", "2001:db8::/32"]',
        },
        stack=cloud,
    )
    bastion = [r for r in ingress_rules(run) if "bastion" in r["group"]]
    world = [r for r in ingress_rules(run) if r["cidr"] in WORLD]
    assert {r["cidr"] for r in world} == WORLD
    assert {(r["from_port"], r["to_port"]) for r in world} == {(22, 22)}, "SSH only"
    assert all("bastion" in r["group"] for r in world)
    api = {r["cidr"] for r in bastion if r["from_port"] == 6443}
    assert api == {"198.51.100.0/24", "2001:db8::/32"}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_the_api_follows_kube_api_cidrs_and_ssh_keeps_its_own(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program({**config, "kubeApiCidrs": "192.0.2.7/32"}, stack=cloud)
    bastion = [r for r in ingress_rules(run) if "bastion" in r["group"]]
    by_port = {port: {r["cidr"] for r in bastion if r["from_port"] == port} for port in (22, 6443)}
    assert by_port == {22: {"203.0.113.0/24"}, 6443: {"192.0.2.7/32"}}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_a_world_open_api_needs_its_own_opt_in(cloud: str, request: pytest.FixtureRequest) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program(
        {
            **config,
            "allowedSshCidrs": "0.0.0.0/0",
            "allowPublicSsh": "true",
            "allowPublicKubeApi": "true",
        },
        stack=cloud,
    )
    world = [r for r in ingress_rules(run) if r["cidr"] in WORLD]
    assert {(r["from_port"], r["to_port"]) for r in world} == {(22, 22), (6443, 6443)}


@pytest.mark.parametrize("orchestrator", ["swarm", "nomad"])
def test_only_ssh_on_the_bastion_without_kubernetes(
    orchestrator: str, aws_config: dict[str, str]
) -> None:
    run = run_program({**aws_config, "orchestrator": orchestrator}, stack="aws")
    bastion = [r for r in ingress_rules(run) if "bastion" in r["group"]]
    vpc = private_range("aws", aws_config)
    public = [r for r in bastion if r["cidr"] != vpc]
    assert {(r["from_port"], r["to_port"]) for r in public} == {(22, 22)}
    # OpenFaaS's results to `run --remote`'s callback receiver: from the VPC alone.
    private = {(r["from_port"], r["to_port"]) for r in bastion if r["cidr"] == vpc}
    assert private == {(CALLBACK_PORT, CALLBACK_PORT)}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_the_loader_pool_opens_nothing_to_any_address_range(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program({**config, "loaderCount": "2"}, stack=cloud)
    rules = ingress_rules(run)
    for rule in rules:
        assert rule["cidr"] not in WORLD
        assert (rule["cidr"] is None) != (rule["source_group"] is None), "one source each"
    loader = [r for r in rules if "loader" in r["group"]]
    assert loader
    assert all(r["cidr"] is None for r in loader), "loaders admit groups, never ranges"
    # The bastion opens nothing new for the pool (the forward rides on SSH).
    bastion = [r for r in rules if "bastion" in r["group"]]
    ports = {(r["from_port"], r["to_port"]) for r in bastion}
    assert ports == {(22, 22), (6443, 6443), (CALLBACK_PORT, CALLBACK_PORT)}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_the_callback_port_opens_to_the_private_network_only(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    """`run --remote` receives OpenFaaS's asynchronous results on the bastion (the loader):
    its port admits the private network's range, never the world, whatever SSH admits."""
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program(
        {
            **config,
            "allowedSshCidrs": '["0.0.0.0/0", "::/0"]',
            "allowPublicSsh": "true",
            "kubeApiCidrs": "198.51.100.0/24",
        },
        stack=cloud,
    )
    callback = [r for r in ingress_rules(run) if r["from_port"] == CALLBACK_PORT]
    expected = [(CALLBACK_PORT, private_range(cloud, config))]
    assert [(r["to_port"], r["cidr"]) for r in callback] == expected
    assert "bastion" in callback[0]["group"]
    assert ipaddress.ip_network(callback[0]["cidr"]).is_private
    assert run.value("callback.port") == CALLBACK_PORT
    assert run.value("callback.host") != run.value("bastion.host")  # the private address


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_no_callback_port_where_nothing_calls_back(
    cloud: str, request: pytest.FixtureRequest
) -> None:
    config = request.getfixturevalue(f"{cloud}_config")
    run = run_program({**config, "framework": "knative"}, stack=cloud)
    assert not [r for r in ingress_rules(run) if r["from_port"] == CALLBACK_PORT]
    assert "callback" not in run.outputs
