"""One OpenStack instance as faasbench runs them: an explicit port carrying its security groups.

With an explicit port, instance-level security groups are not applied, so the groups go on the
port; the port also gives the machine a fixed private address known before it boots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from components.naming import Naming


@dataclass(frozen=True)
class OpenStackImage:
    """The image machines boot. A looked-up image is not followed on existing machines: a new
    image under the same name would otherwise replace every running machine.
    """

    image_id: pulumi.Input[str]
    pinned: bool


@dataclass(frozen=True)
class OpenStackMachineSettings:
    naming: Naming
    image: OpenStackImage
    key_pair: pulumi.Input[str]
    network_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    volume_size_gb: int
    boot_from_volume: bool
    availability_zone: str | None


@dataclass(frozen=True)
class OpenStackMachine:
    port: openstack.networking.Port
    instance: openstack.compute.Instance

    @property
    def private_ip(self) -> pulumi.Output[str]:
        return self.port.all_fixed_ips.apply(lambda ips: ips[0])


def create_instance(
    name: str,
    *,
    role: str,
    size: str,
    security_group_ids: Sequence[pulumi.Input[str]],
    user_data: pulumi.Input[str],
    settings: OpenStackMachineSettings,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    delete_before_replace: bool = False,
) -> OpenStackMachine:
    """`depends_on`: what must exist before the machine boots (the router interface that gives
    its subnet a way out: cloud-init installs packages at first boot). `delete_before_replace`:
    the machine's name is reused by its replacement, so the two must never coexist."""
    child = pulumi.ResourceOptions(parent=parent)
    naming = settings.naming
    port = openstack.networking.Port(
        f"{name}-port",
        name=naming.name(role),
        network_id=settings.network_id,
        fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=settings.subnet_id)],
        security_group_ids=list(security_group_ids),
        admin_state_up=True,
        tags=naming.labels(role),
        opts=child,
    )
    ignored: list[str] = []
    if settings.boot_from_volume:
        block_devices = [
            openstack.compute.InstanceBlockDeviceArgs(
                uuid=settings.image.image_id,
                source_type="image",
                destination_type="volume",
                volume_size=settings.volume_size_gb,
                boot_index=0,
                delete_on_termination=True,
            )
        ]
        image_id = None
        if not settings.image.pinned:
            ignored.append("blockDevices[0].uuid")
    else:
        block_devices = None
        image_id = settings.image.image_id
        if not settings.image.pinned:
            ignored.append("imageId")
    instance = openstack.compute.Instance(
        name,
        name=naming.name(role),
        flavor_name=size,
        image_id=image_id,
        block_devices=block_devices,
        key_pair=settings.key_pair,
        networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
        user_data=user_data,
        availability_zone=settings.availability_zone,
        tags=naming.labels(role),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            delete_before_replace=delete_before_replace,
            ignore_changes=ignored,
        ),
    )
    return OpenStackMachine(port=port, instance=instance)
