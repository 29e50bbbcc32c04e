"""Both node pool implementations: N machines with the given user data, reached via the bastion."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_command import remote
from support.pulumi_mocks import (
    FAKE_PRIVATE_KEY,
    RecordingMocks,
    is_secret,
    resolve,
    run_under_mocks,
)

from components.naming import Naming
from components.node_pool import NodePoolArgs
from components.ssh_key import SshKeyPair
from stacks.compose import build_network
from stacks.read_config import load_stack_config

CONFIGS = {
    "aws": {
        "cloud": "aws",
        "allowedSshCidrs": "203.0.113.0/24",
        "awsAvailabilityZone": "eu-west-1a",
    },
    "openstack": {
        "cloud": "openstack",
        "allowedSshCidrs": "203.0.113.0/24",
        "openstackExternalNetwork": "ext",
        "openstackImage": "ubuntu-24.04",
        "openstackFlavor": "m1.large",
    },
}
INSTANCE = {"aws": "aws:ec2/instance:Instance", "openstack": "openstack:compute/instance:Instance"}
POOL = {"aws": "faasbench:aws:NodePool", "openstack": "faasbench:openstack:NodePool"}


def connection_fields(connection: remote.ConnectionArgs) -> dict[str, Any]:
    proxy = connection.proxy
    return {
        "host": resolve(connection.host),
        "user": resolve(connection.user),
        "key": resolve(connection.private_key),
        "proxy_host": resolve(proxy.host) if proxy is not None else None,
        "proxy_user": resolve(proxy.user) if proxy is not None else None,
        "proxy_key": resolve(proxy.private_key) if proxy is not None else None,
    }


def build_pool(
    cloud: str, args: NodePoolArgs, extra: dict[str, str] | None = None
) -> tuple[RecordingMocks, dict[str, Any]]:
    config = load_stack_config({**CONFIGS[cloud], **(extra or {})})

    def body() -> dict[str, Any]:
        naming = Naming(env="faasbench", stack="pooltest")
        network = build_network(config, naming, SshKeyPair("key"))
        pool = network.node_pool("workers", args)
        return {
            "bastion_host": resolve(network.ssh.bastion_host),
            "private_ips": resolve(pool.private_ips),
            "names": [m.name for m in pool.machines],
            "instance_ids": [resolve(m.instance_id) for m in pool.machines],
            "connections": [connection_fields(m.connection) for m in pool.machines],
            "private_key_secret": is_secret(network.ssh.private_key),
            "mtu": resolve(network.mtu),
        }

    return run_under_mocks(body, stack="pooltest")


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_pool_creates_n_machines_with_user_data(cloud: str) -> None:
    args = NodePoolArgs(role="worker", count=3, size="size-x", user_data="#cloud-config\n{}\n")
    mocks, pool = build_pool(cloud, args)
    # Registrations complete in any order: sort by logical name (workers-0, workers-1, ...).
    workers = sorted(
        (r for r in mocks.of_type(INSTANCE[cloud]) if "workers" in r.name), key=lambda r: r.name
    )
    assert len(workers) == 3
    assert {w.inputs.get("instanceType") or w.inputs.get("flavorName") for w in workers} == {
        "size-x"
    }
    assert all(w.inputs["userData"] == "#cloud-config\n{}\n" for w in workers)
    assert pool["names"] == ["worker-0", "worker-1", "worker-2"]
    assert len(set(pool["private_ips"])) == 3
    assert pool["instance_ids"] == [w.id for w in workers]
    assert mocks.one(POOL[cloud]).name == "workers"


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_every_connection_proxies_through_the_bastion(cloud: str) -> None:
    args = NodePoolArgs(role="worker", count=2, size="s", user_data="#cloud-config\n{}\n")
    _, pool = build_pool(cloud, args)
    assert pool["private_key_secret"]
    for connection, ip in zip(pool["connections"], pool["private_ips"], strict=True):
        assert connection["host"] == ip
        assert connection["proxy_host"] == pool["bastion_host"]
        assert connection["user"] == connection["proxy_user"] == "ubuntu"
        assert connection["key"] == connection["proxy_key"] == FAKE_PRIVATE_KEY
        assert connection["host"] != pool["bastion_host"]


def test_aws_pool_machines_are_private() -> None:
    args = NodePoolArgs(role="worker", count=2, size="t3a.large", user_data="#cloud-config\n{}\n")
    mocks, _ = build_pool("aws", args)
    private_subnet = mocks.one("aws:ec2/subnet:Subnet", "private")
    private_sg = mocks.one("aws:ec2/securityGroup:SecurityGroup", "private")
    for worker in [r for r in mocks.of_type(INSTANCE["aws"]) if "workers" in r.name]:
        assert worker.inputs["subnetId"] == private_subnet.id
        assert worker.inputs["vpcSecurityGroupIds"] == [private_sg.id]
        assert worker.inputs["creditSpecification"] == {"cpuCredits": "unlimited"}
        assert worker.inputs["userDataReplaceOnChange"] is True
        assert worker.inputs["tags"]["Name"].startswith("faasbench-pooltest-worker-")


def test_openstack_pool_ports_carry_the_private_group() -> None:
    args = NodePoolArgs(role="worker", count=2, size="m1.large", user_data="#cloud-config\n{}\n")
    mocks, pool = build_pool("openstack", args)
    private_sg = mocks.one("openstack:networking/secGroup:SecGroup", "private")
    ports = [r for r in mocks.of_type("openstack:networking/port:Port") if "workers" in r.name]
    assert len(ports) == 2
    assert all(p.inputs["securityGroupIds"] == [private_sg.id] for p in ports)
    assert sorted(p.outputs["allFixedIps"][0] for p in ports) == sorted(pool["private_ips"])


def test_per_machine_user_data() -> None:
    docs = [f"#cloud-config\nhostname: node-{i}\n" for i in range(2)]
    mocks, _ = build_pool(
        "aws", NodePoolArgs(role="worker", count=2, size="t3a.large", user_data=docs)
    )
    workers = sorted(
        (r for r in mocks.of_type(INSTANCE["aws"]) if "workers" in r.name), key=lambda r: r.name
    )
    assert [w.inputs["userData"] for w in workers] == docs


def test_user_data_count_must_match() -> None:
    args = NodePoolArgs(role="worker", count=3, size="s", user_data=["a", "b"])
    with pytest.raises(ValueError, match="2 user data documents for 3 machines"):
        args.user_data_for(0)


@pytest.mark.parametrize(
    ("cloud", "extra", "mtu"),
    [("aws", {}, 1500), ("openstack", {}, 1450), ("openstack", {"networkMtu": "1400"}, 1400)],
)
def test_network_exposes_the_mtu_for_docker_and_cni(
    cloud: str, extra: dict[str, str], mtu: int
) -> None:
    args = NodePoolArgs(role="worker", count=1, size="s", user_data="#cloud-config\n{}\n")
    _, pool = build_pool(cloud, args, extra)
    assert pool["mtu"] == mtu


#: The private network's way out, per cloud: cloud-init installs packages at first boot, so a
#: machine that boots before these exist fails its setup for good.
EGRESS = {
    "aws": {
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
    },
    "openstack": {"openstack:networking/routerInterface:RouterInterface"},
}


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_every_pool_machine_waits_for_the_private_egress(cloud: str) -> None:
    args = NodePoolArgs(role="worker", count=2, size="m1.large", user_data="#cloud-config\n{}\n")
    mocks, _ = build_pool(cloud, args)
    private_egress = {
        r.name
        for r in mocks.resources
        if r.typ in EGRESS[cloud] and "public" not in r.name and "bastion" not in r.name
    }
    if cloud == "aws":
        nat = mocks.one("aws:ec2/natGateway:NatGateway")
        table = mocks.one("aws:ec2/routeTable:RouteTable", "private")
        association = mocks.one("aws:ec2/routeTableAssociation:RouteTableAssociation", "private")
        assert table.inputs["routes"][0]["natGatewayId"] == nat.id
        assert association.inputs["routeTableId"] == table.id
        assert private_egress == {nat.name, table.name, association.name}
    else:
        assert len(private_egress) == 1
    workers = [r for r in mocks.of_type(INSTANCE[cloud]) if "workers" in r.name]
    assert len(workers) == 2
    for worker in workers:
        missing = private_egress - mocks.upstream(worker.name)
        assert not missing, f"{worker.name} may boot before {sorted(missing)} exist"


@pytest.mark.parametrize("cloud", ["aws", "openstack"])
def test_a_loader_pool_needs_the_networks_loader_group(cloud: str) -> None:
    """`group="loader"` is only for a network made with loader ports (loaderCount ≥ 1)."""
    args = NodePoolArgs(
        role="loader", count=1, size="s", user_data="#cloud-config\n{}\n", group="loader"
    )
    with pytest.raises(ValueError, match="node pool loader: the loader security group exists"):
        build_pool(cloud, args)
    mocks, _ = build_pool(cloud, args, {"loaderCount": "1"})
    group = mocks.one(
        "aws:ec2/securityGroup:SecurityGroup"
        if cloud == "aws"
        else "openstack:networking/secGroup:SecGroup",
        "loader",
    )
    [machine] = [
        r
        for r in mocks.of_type(
            INSTANCE["aws"] if cloud == "aws" else "openstack:networking/port:Port"
        )
        if "workers" in r.name
    ]
    key = "vpcSecurityGroupIds" if cloud == "aws" else "securityGroupIds"
    assert machine.inputs[key] == [group.id]
