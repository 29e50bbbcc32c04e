"""Which components a stack gets, for its (cloud, orchestrator, framework), and what it exports.

Cloud SDKs are touched only through the network components here; later components receive the
resulting `PrivateNetwork` (its node pool factory and SSH access) and stay cloud-neutral.
"""

from __future__ import annotations

import pulumi

from components.aws.network import AwsNetwork, AwsNetworkArgs
from components.naming import Naming
from components.node_pool import PrivateNetwork
from components.openstack.network import OpenStackNetwork, OpenStackNetworkArgs
from components.ssh_key import SshKeyPair
from stacks.config import Role, StackConfig


def build_network(config: StackConfig, naming: Naming, key: SshKeyPair) -> PrivateNetwork:
    """The private network and bastion of a VM-based stack."""
    access = config.access
    common = {
        "naming": naming,
        "allowed_ssh_cidrs": access.allowed_ssh_cidrs or [],
        "ssh_user": access.ssh_user,
        "public_key_openssh": key.public_key_openssh,
        "private_key": key.private_key,
        "bastion_size": config.size("bastion"),
        "volume_size_gb": config.machines.volume_size_gb,
        "mtu": config.network_mtu,
    }
    if config.cloud == "aws":
        return AwsNetwork(
            "network",
            AwsNetworkArgs(aws=config.aws, cpu_credits=config.machines.cpu_credits, **common),
        )
    if config.cloud == "openstack":
        return OpenStackNetwork(
            "network", OpenStackNetworkArgs(openstack=config.openstack, **common)
        )
    raise ValueError(f"cloud {config.cloud} has no network of its own")


def machines_output(
    config: StackConfig, roles: list[Role], image: pulumi.Input[str]
) -> dict[str, object]:
    """The `machines` output: sizes and CPU credit modes of the roles this stack created."""
    return {
        "image": image,
        "sizes": {role: config.size(role) for role in roles},
        "cpu_credits": {role: config.cpu_credits(role) for role in roles},
    }


def compose(config: StackConfig, stack: str) -> dict[str, object]:
    """Create the stack's resources and return its outputs (keys of the output contract)."""
    outputs: dict[str, object] = {
        "cloud": config.cloud,
        "orchestrator": config.orchestrator,
        "framework": config.framework,
    }
    if config.cloud == "existing":
        return outputs
    naming = Naming(env=config.env_name, stack=stack)
    key = SshKeyPair("ssh-key", user_key=config.access.ssh_private_key)
    network = build_network(config, naming, key)
    roles: list[Role] = ["bastion"]
    outputs["bastion"] = {"host": network.ssh.bastion_host, "user": network.ssh.user}
    outputs["ssh_private_key"] = key.private_key
    outputs["machines"] = machines_output(config, roles, network.image)
    return outputs
