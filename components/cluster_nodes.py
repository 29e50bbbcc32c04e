"""Node pools of cluster machines whose hostnames are their cluster node names."""

from __future__ import annotations

import pulumi

from components.cloud_init import node_cloud_config
from components.naming import Naming
from components.node_pool import NodePool, NodePoolArgs, PrivateNetwork


def named_pool(
    network: PrivateNetwork,
    naming: Naming,
    name: str,
    *,
    role: str,
    count: int,
    size: str,
    containers: bool,
    parent: pulumi.Resource,
) -> tuple[NodePool, list[str]]:
    """`count` machines named `<env>-<stack>-<role>-<i>` (hostname = cluster node name, which
    readiness checks and node removal refer to), and those names."""
    names = [naming.name(f"{role}-{index}") for index in range(count)]
    pool = network.node_pool(
        name,
        NodePoolArgs(
            role=role,
            count=count,
            size=size,
            user_data=[node_cloud_config(n, containers=containers) for n in names],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pool, names
