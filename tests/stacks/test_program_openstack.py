"""The program on OpenStack, from Pulumi.openstack.yaml unchanged."""

from __future__ import annotations

import pytest
from support.expected_outputs import EXPECTED
from support.pulumi_mocks import FAKE_PRIVATE_KEY, FAKE_PUBLIC_KEY, ProgramRun, run_program

NET = "openstack:networking/"


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    from support.pulumi_mocks import stack_file_config

    return run_program(stack_file_config("openstack"), stack="openstack")


def test_inventory(run: ProgramRun) -> None:
    """The cloud side of the example stack (k3s: 1 server + 2 agents, API port on the bastion)."""
    side = ("openstack:", "tls:", "faasbench:openstack:", "faasbench:access:")
    assert {t: n for t, n in run.mocks.inventory().items() if t.startswith(side)} == {
        "faasbench:openstack:Network": 1,
        "faasbench:openstack:NodePool": 4,
        "faasbench:access:SshKeyPair": 1,
        "tls:index/privateKey:PrivateKey": 1,
        f"{NET}network:Network": 1,
        f"{NET}subnet:Subnet": 1,
        f"{NET}router:Router": 1,
        f"{NET}routerInterface:RouterInterface": 1,
        f"{NET}secGroup:SecGroup": 2,
        # SSH, the API, and the callback port from the subnet (`run --remote`'s receiver).
        f"{NET}secGroupRule:SecGroupRule": 4,
        f"{NET}port:Port": 6,
        f"{NET}floatingIp:FloatingIp": 1,
        f"{NET}floatingIpAssociate:FloatingIpAssociate": 1,
        "openstack:compute/keypair:Keypair": 1,
        "openstack:compute/instance:Instance": 6,
    }


def test_network_subnet_and_router_are_wired(run: ProgramRun) -> None:
    m = run.mocks
    network = m.one(f"{NET}network:Network")
    subnet = m.one(f"{NET}subnet:Subnet")
    router = m.one(f"{NET}router:Router")
    interface = m.one(f"{NET}routerInterface:RouterInterface")
    assert subnet.inputs["networkId"] == network.id
    assert subnet.inputs["cidr"] == "192.168.0.0/24"
    assert subnet.inputs["dnsNameservers"] == ["8.8.8.8", "8.8.4.4"]
    assert router.inputs["externalNetworkId"] == "external-net-id"
    assert (interface.inputs["routerId"], interface.inputs["subnetId"]) == (router.id, subnet.id)
    [lookup] = [a for t, a in m.calls if t == "openstack:networking/getNetwork:getNetwork"]
    assert lookup == {"name": "public", "external": True}


def test_bastion_port_carries_its_groups_and_the_floating_ip(run: ProgramRun) -> None:
    m = run.mocks
    instance = m.one("openstack:compute/instance:Instance", "network-bastion")
    port = m.one(f"{NET}port:Port", "network-bastion")
    bastion_sg = m.one(f"{NET}secGroup:SecGroup", "bastion")
    assert port.inputs["securityGroupIds"] == [bastion_sg.id]
    assert port.inputs["networkId"] == m.one(f"{NET}network:Network").id
    assert port.inputs["fixedIps"] == [{"subnetId": m.one(f"{NET}subnet:Subnet").id}]
    assert instance.inputs["networks"] == [{"port": port.id}]
    assert "securityGroups" not in instance.inputs, "groups on an explicit port, not the instance"
    assert instance.inputs["flavorName"] == "m1.large"
    assert instance.inputs["keyPair"] == m.one("openstack:compute/keypair:Keypair").inputs["name"]
    assert instance.inputs["blockDevices"] == [
        {
            "uuid": "looked-up-image-id",
            "sourceType": "image",
            "destinationType": "volume",
            "volumeSize": 15,
            "bootIndex": 0,
            "deleteOnTermination": True,
        }
    ]
    fip = m.one(f"{NET}floatingIp:FloatingIp")
    association = m.one(f"{NET}floatingIpAssociate:FloatingIpAssociate")
    assert fip.inputs["pool"] == "public"
    assert association.inputs["portId"] == port.id
    assert association.inputs["floatingIp"] == fip.outputs["address"]
    assert run.value("bastion.host") == fip.outputs["address"]


def test_outputs_and_secrets(run: ProgramRun) -> None:
    assert set(run.outputs) == EXPECTED[("k8s", "openfaas")]
    assert run.value("cloud") == "openstack"
    assert run.secret("ssh_private_key")
    assert run.value("ssh_private_key") == FAKE_PRIVATE_KEY
    assert run.value("machines.image") == "looked-up-image-id"
    assert run.value("machines.cpu_credits.bastion") is None
    key = run.mocks.one("openstack:compute/keypair:Keypair")
    assert key.inputs["publicKey"] == FAKE_PUBLIC_KEY.strip()


def test_flavor_disk_and_pinned_image(openstack_config: dict[str, str]) -> None:
    result = run_program(
        {**openstack_config, "openstackBootFromVolume": "false", "openstackImageId": "img-123"},
        stack="openstack",
    )
    instance = result.mocks.one("openstack:compute/instance:Instance", "network-bastion")
    assert instance.inputs["imageId"] == "img-123"
    assert "blockDevices" not in instance.inputs
    assert result.value("machines.image") == "img-123"
    assert not [t for t, _ in result.mocks.calls if t == "openstack:images/getImage:getImage"]
