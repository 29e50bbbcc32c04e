"""The orchestrator clusters, one registry entry per orchestrator: each builds its cluster on
the stack's network and says what the stack exports about it. A new orchestrator is one entry
here plus its component."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.k8s_cluster import SERVER_TAINT, K8sCluster, K8sClusterArgs
from components.naming import Naming
from components.node_pool import PrivateNetwork
from components.nomad_cluster import NomadCluster, NomadClusterArgs
from components.openwhisk_config import ROLE_LABEL_KEY
from components.swarm_cluster import SwarmCluster, SwarmClusterArgs
from stacks.config import Orchestrator, StackConfig


class Cluster(Protocol):
    """What the stack reads of every cluster on its machines: the nodes' private addresses."""

    @property
    def managers(self) -> pulumi.Output[list[str]]: ...

    @property
    def workers(self) -> pulumi.Output[list[str]]: ...


class KubernetesCluster(Protocol):
    """What platforms and monitoring read of a Kubernetes cluster: a k3s cluster of ours
    (`K8sCluster`) or an existing one (`ExistingCluster`)."""

    @property
    def provider(self) -> k8s.Provider: ...

    @property
    def storage_class(self) -> str | None: ...

    @property
    def server_taint(self) -> str | None:
        """The taint that keeps functions off the k3s server; None on an existing cluster,
        which has no server of ours."""
        ...


#: Builds an orchestrator's cluster (the private registry is host:port or None) and its outputs.
ClusterEntry = Callable[
    [StackConfig, Naming, PrivateNetwork, pulumi.Output[str] | None],
    tuple[Cluster, dict[str, object]],
]


def role_label(labels: list[str]) -> str | None:
    """The value of the `openwhisk-role` label among node labels, if any."""
    for label in labels:
        key, _, value = label.partition("=")
        if key == ROLE_LABEL_KEY:
            return value
    return None


def server_taint(config: StackConfig) -> str:
    """The k3s server's taint: OpenWhisk's chart tolerates only `openwhisk-role=<core>`, so its
    stacks use that one to put OpenWhisk's core on the server."""
    core = role_label(config.cluster.server_node_labels)
    if config.framework == "openwhisk" and core is not None:
        return f"{ROLE_LABEL_KEY}={core}:NoSchedule"
    return SERVER_TAINT


def k8s_cluster(
    config: StackConfig,
    naming: Naming,
    network: PrivateNetwork,
    registry: pulumi.Output[str] | None,
) -> tuple[Cluster, dict[str, object]]:
    """k3s: one server, the workers as agents."""
    cluster_config = config.cluster
    k8s = K8sCluster(
        "k8s",
        K8sClusterArgs(
            naming=naming,
            network=network,
            k3s_version=cluster_config.k3s_version,
            k3s_sha256=cluster_config.k3s_sha256,
            server_size=config.size("manager"),
            worker_size=config.size("worker"),
            worker_count=config.machines.worker_count,
            server_labels=cluster_config.server_node_labels,
            worker_labels=cluster_config.worker_node_labels,
            server_taint=server_taint(config),
            private_registry=registry,
        ),
    )
    return k8s, {
        "kubeconfig": k8s.kubeconfig,
        "kube_api_internal": k8s.api_internal,
    }


def swarm_cluster(
    config: StackConfig,
    naming: Naming,
    network: PrivateNetwork,
    registry: pulumi.Output[str] | None,
) -> tuple[Cluster, dict[str, object]]:
    """Docker Swarm: one manager, the workers joined to it."""
    cluster_config = config.cluster
    swarm = SwarmCluster(
        "swarm",
        SwarmClusterArgs(
            naming=naming,
            network=network,
            docker_version=cluster_config.docker_version,
            containerd_version=cluster_config.containerd_version,
            manager_size=config.size("manager"),
            worker_size=config.size("worker"),
            worker_count=config.machines.worker_count,
            private_registry=registry,
        ),
    )
    return swarm, {
        "swarm": {"manager": swarm.manager_ip},
    }


def nomad_cluster(
    config: StackConfig,
    naming: Naming,
    network: PrivateNetwork,
    registry: pulumi.Output[str] | None,
) -> tuple[Cluster, dict[str, object]]:
    """Nomad with Consul and Vault on the servers, the workers as Nomad clients."""
    cluster_config = config.cluster
    machines = config.machines
    nomad = NomadCluster(
        "nomad",
        NomadClusterArgs(
            naming=naming,
            network=network,
            nomad_version=cluster_config.nomad_version,
            consul_version=cluster_config.consul_version,
            vault_version=cluster_config.vault_version,
            docker_version=cluster_config.docker_version,
            containerd_version=cluster_config.containerd_version,
            cni_version=cluster_config.cni_plugins_version,
            cni_sha256=cluster_config.cni_plugins_sha256,
            server_size=config.size("manager"),
            server_count=machines.manager_count,
            worker_size=config.size("worker"),
            worker_count=machines.worker_count,
            private_registry=registry,
        ),
    )
    return nomad, {
        "nomad": {
            "address": nomad.address,
            "token": nomad.token,
            "consul_address": nomad.consul_address,
            "consul_token": nomad.consul_token,
            "vault_address": nomad.vault_address,
            "vault_token": nomad.vault_token,
        },
    }


#: The cluster each orchestrator builds on the stack's machines.
CLUSTERS: dict[Orchestrator, ClusterEntry] = {
    "k8s": k8s_cluster,
    "swarm": swarm_cluster,
    "nomad": nomad_cluster,
}
