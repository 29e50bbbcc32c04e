"""What a stack is made of, for its (cloud, orchestrator, framework), and what it exports.

The registries choose: `NETWORKS` by cloud, `stacks.clusters.CLUSTERS` by orchestrator,
`stacks.platforms.PLATFORMS` by (orchestrator, framework); `stacks.sites` puts the platform on
the stack's machines or on an existing cluster. Cloud SDKs are touched only through the network
components; clusters receive the resulting `PrivateNetwork` (its node pool factory and SSH
access) and stay cloud-neutral.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from components.aws.network import AwsNetwork, AwsNetworkArgs
from components.existing_cluster import ExistingCluster, ExistingClusterArgs
from components.function_image import FunctionImage, FunctionImageArgs
from components.k8s_cluster import API_PORT
from components.loader_pool import LOADER_PORTS, LoaderPool, LoaderPoolArgs
from components.naming import Naming
from components.node_pool import ForwardedPort, PrivateNetwork
from components.openstack.network import OpenStackNetwork, OpenStackNetworkArgs
from components.registry_config import REGISTRY_PORT
from components.ssh_key import SshKeyPair
from contract.expiry import NO_EXPIRY
from contract.machines import Role
from contract.outputs import CALLBACK_PORT
from stacks.clusters import CLUSTERS
from stacks.config import Cloud, StackConfig
from stacks.sites import in_existing_cluster, on_machines


def aws_network(config: StackConfig, common: dict[str, Any]) -> PrivateNetwork:
    """A VPC with a public and a private subnet."""
    return AwsNetwork(
        "network",
        AwsNetworkArgs(aws=config.aws, cpu_credits=config.machines.cpu_credits, **common),
    )


def openstack_network(config: StackConfig, common: dict[str, Any]) -> PrivateNetwork:
    """A tenant network and router."""
    return OpenStackNetwork("network", OpenStackNetworkArgs(openstack=config.openstack, **common))


#: The network of each cloud that has machines of ours, from the settings every cloud shares.
NETWORKS: dict[Cloud, Callable[[StackConfig, dict[str, Any]], PrivateNetwork]] = {
    "aws": aws_network,
    "openstack": openstack_network,
}


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
        # The Pulumi CLI on the user's machine reaches the Kubernetes API through the bastion,
        # from kubeApiCidrs (default: allowedSshCidrs).
        "bastion_forwarded_ports": (
            (ForwardedPort(API_PORT, access.kube_api_sources, "kubeApiCidrs"),)
            if config.orchestrator == "k8s"
            else ()
        ),
        # From the private network only: the private registry on the bastion, for the cluster's
        # nodes; OpenFaaS's queue workers posting asynchronous results to `run --remote`'s
        # callback receiver on the bastion (the loader).
        "bastion_private_ports": bastion_private_ports(config),
        # The loader pool's security group: Dask between loaders and from the bastion only.
        "loader_ports": LOADER_PORTS if config.machines.loader_count > 0 else None,
    }
    if config.cloud not in NETWORKS:
        raise ValueError(f"cloud {config.cloud} has no network of its own")
    return NETWORKS[config.cloud](config, common)


def bastion_private_ports(config: StackConfig) -> tuple[int, ...]:
    """The bastion's ports opened to the private network alone."""
    ports = [REGISTRY_PORT] if config.images.mode == "private" else []
    if config.framework == "openfaas":
        ports.append(CALLBACK_PORT)
    return tuple(ports)


def machines_output(
    config: StackConfig, roles: list[Role], image: pulumi.Input[str]
) -> dict[str, object]:
    """The `machines` output: sizes and CPU credit modes of the roles this stack created."""
    return {
        "image": image,
        "sizes": {role: config.size(role) for role in roles},
        "cpu_credits": {role: config.cpu_credits(role) for role in roles},
    }


def private_registry(config: StackConfig, network: PrivateNetwork) -> pulumi.Output[str] | None:
    """host:port of the stack's own registry (on the bastion), or None without one."""
    if config.images.mode != "private":
        return None
    return network.bastion_private_ip.apply(lambda ip: f"{ip}:{REGISTRY_PORT}")


def function_image(config: StackConfig, network: PrivateNetwork) -> FunctionImage | None:
    """The suite's image, built on the bastion and pushed, when a registry is configured."""
    images = config.images
    mode = images.mode
    if mode == "none":
        return None
    cluster = config.cluster
    return FunctionImage(
        "functions",
        FunctionImageArgs(
            mode=mode,
            bastion=network.ssh.bastion(),
            bastion_instance_id=network.bastion_instance_id,
            bastion_private_ip=network.bastion_private_ip,
            mtu=network.mtu,
            docker_version=cluster.docker_version,
            containerd_version=cluster.containerd_version,
            server=images.server,
            namespace=images.namespace,
            username=images.username,
            token=(
                pulumi.Output.secret(images.token.get_secret_value())
                if images.token is not None
                else None
            ),
            languages=images.other_languages,
        ),
    )


def loader_pool(config: StackConfig, naming: Naming, network: PrivateNetwork) -> LoaderPool | None:
    """The loader pool (`loaderCount` machines of `loaderSize`), or None without one."""
    count = config.machines.loader_count
    if count == 0:
        return None
    return LoaderPool(
        "loaders",
        LoaderPoolArgs(naming=naming, network=network, count=count, size=config.size("loader")),
    )


def compose(config: StackConfig, stack: str) -> dict[str, object]:
    """Create the stack's resources and return its outputs (keys of the output contract)."""
    outputs: dict[str, object] = {
        "cloud": config.cloud,
        "orchestrator": config.orchestrator,
        "framework": config.framework,
        "expires_at": config.expires_at or NO_EXPIRY,
    }
    naming = Naming(env=config.env_name, stack=stack, expires_at=config.expires_at)
    if config.cloud == "existing":
        assert config.existing.kubeconfig is not None  # enforced by StackConfig
        existing = ExistingCluster(
            "k8s",
            ExistingClusterArgs(
                kubeconfig=config.existing.kubeconfig,
                storage_class=config.cluster.storage_class,
                node_address=config.existing.node_address,
            ),
        )
        outputs["kubeconfig"] = existing.kubeconfig
        outputs["kube_api_internal"] = existing.api_internal
        outputs.update(in_existing_cluster(config, naming, existing))
        return outputs
    key = SshKeyPair("ssh-key", user_key=config.access.ssh_private_key)
    network = build_network(config, naming, key)
    cluster, cluster_outputs = CLUSTERS[config.orchestrator](
        config, naming, network, private_registry(config, network)
    )
    image = function_image(config, network)
    platform_roles, platform_outputs = on_machines(config, naming, network, cluster, image)
    roles: list[Role] = ["bastion", "manager", "worker", *platform_roles]
    loaders = loader_pool(config, naming, network)
    if loaders is not None:
        roles.append("loader")
        # `loadgen --loaders stack` runs Dask on these (docs/outputs.md, `loaders`).
        outputs["loaders"] = loaders.outputs
    outputs["bastion"] = {"host": network.ssh.bastion_host, "user": network.ssh.user}
    # Campaigns run on the bastion by default (`loadgen run --remote`): it is inside the
    # network next to HAProxy and reachable by its public address.
    outputs["loader"] = {"host": network.ssh.bastion_host, "user": network.ssh.user}
    if config.framework == "openfaas":
        # Where `run --remote` receives asynchronous results (docs/outputs.md, `callback`).
        outputs["callback"] = {"host": network.bastion_private_ip, "port": CALLBACK_PORT}
    outputs["ssh_private_key"] = key.private_key
    outputs["machines"] = machines_output(config, roles, network.image)
    outputs.update(cluster_outputs)
    outputs["nodes"] = {"managers": cluster.managers, "workers": cluster.workers}
    outputs.update(platform_outputs)
    return outputs
