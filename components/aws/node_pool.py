"""The AWS node pool: instances in the private subnet, reached through the bastion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.aws.instance import AwsMachineSettings, create_instance
from components.node_pool import Machine, NodePool, NodePoolArgs, missing_loader_group
from components.ssh_access import SshAccess


@dataclass(frozen=True)
class AwsPrivatePlacement:
    """Where private machines go: built by `AwsNetwork`, shared by all its pools.

    `egress` is the private subnet's way out (NAT gateway, the route table whose default route
    is the NAT, the subnet's association with it): every machine waits for it, since cloud-init
    installs packages at first boot and a machine booted earlier fails that for good.
    """

    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    settings: AwsMachineSettings
    ssh: SshAccess
    egress: Sequence[pulumi.Resource]
    #: The loader pool's group (made only for a stack with loaders).
    loader_security_group_id: pulumi.Input[str] | None = None

    def group_id(self, args: NodePoolArgs) -> pulumi.Input[str]:
        """The security group of the pool's machines."""
        if args.group == "private":
            return self.security_group_id
        if self.loader_security_group_id is None:
            raise missing_loader_group(args.role)
        return self.loader_security_group_id


class AwsNodePool(NodePool):
    def __init__(
        self,
        name: str,
        args: NodePoolArgs,
        placement: AwsPrivatePlacement,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("faasbench:aws:NodePool", name, None, opts)
        group = placement.group_id(args)
        machines = []
        for index in range(args.count):
            machine_name = f"{args.role}-{index}"
            instance = create_instance(
                f"{name}-{index}",
                role=machine_name,
                size=args.size,
                subnet_id=placement.subnet_id,
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
                    instance_id=instance.id,
                    private_ip=instance.private_ip,
                    connection=placement.ssh.via_bastion(instance.private_ip),
                    instance=instance,
                )
            )
        self._publish(machines)
