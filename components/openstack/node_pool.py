"""The OpenStack node pool: instances on the private network, reached through the bastion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.node_pool import Machine, NodePool, NodePoolArgs, missing_loader_group
from components.openstack.instance import OpenStackMachineSettings, create_instance
from components.ssh_access import SshAccess


@dataclass(frozen=True)
class OpenStackPrivatePlacement:
    """Where private machines go: built by `OpenStackNetwork`, shared by all its pools.

    `egress` is the subnet's way out (the router interface): every machine waits for it, since
    cloud-init installs packages at first boot.
    """

    security_group_id: pulumi.Input[str]
    settings: OpenStackMachineSettings
    ssh: SshAccess
    egress: Sequence[pulumi.Resource]
    #: The loader pool's group (made only for a stack with loaders).
    loader_security_group_id: pulumi.Input[str] | None = None

    def group_id(self, args: NodePoolArgs) -> pulumi.Input[str]:
        """The security group of the pool's machines (on their ports)."""
        if args.group == "private":
            return self.security_group_id
        if self.loader_security_group_id is None:
            raise missing_loader_group(args.role)
        return self.loader_security_group_id


class OpenStackNodePool(NodePool):
    def __init__(
        self,
        name: str,
        args: NodePoolArgs,
        placement: OpenStackPrivatePlacement,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("faasbench:openstack:NodePool", name, None, opts)
        group = placement.group_id(args)
        machines = []
        for index in range(args.count):
            machine_name = f"{args.role}-{index}"
            created = create_instance(
                f"{name}-{index}",
                role=machine_name,
                size=args.size,
                security_group_ids=[group],
                user_data=args.user_data_for(index),
                settings=placement.settings,
                parent=self,
                depends_on=placement.egress,
                # The machine's name is reused by its replacement (hostname = cluster node
                # name): the old machine, and its node in the cluster, go first.
                delete_before_replace=True,
            )
            machines.append(
                Machine(
                    name=machine_name,
                    instance_id=created.instance.id,
                    private_ip=created.private_ip,
                    connection=placement.ssh.via_bastion(created.private_ip),
                    instance=created.instance,
                )
            )
        self._publish(machines)
