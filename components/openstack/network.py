"""OpenStack network + bastion: network, subnet, router to the external network, security
groups, keypair, and a bastion whose explicit port carries its groups and a floating IP.

Only the bastion has a floating IP, and only SSH from `allowedSshCidrs` reaches it. Private
machines accept traffic from the subnet alone. Security groups keep OpenStack's default egress
rules (all outbound), which is what package installs and image pulls need.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_openstack as openstack

from components.cloud_init import bastion_cloud_config
from components.node_pool import BastionNetworkArgs, ForwardedPort, NodePool, NodePoolArgs
from components.openstack.instance import (
    OpenStackImage,
    OpenStackMachine,
    OpenStackMachineSettings,
    create_instance,
)
from components.openstack.node_pool import OpenStackNodePool, OpenStackPrivatePlacement
from components.ssh_access import SshAccess


class OpenStackNetworkSettings(Protocol):
    """The OpenStack settings the network reads (the stack's
    `stacks.config_clouds.OpenStackConfig` has them)."""

    @property
    def external_network(self) -> str | None: ...
    @property
    def image(self) -> str | None: ...
    @property
    def image_id(self) -> str | None: ...
    @property
    def subnet_cidr(self) -> str: ...
    @property
    def dns_servers(self) -> Sequence[str]: ...
    @property
    def availability_zone(self) -> str | None: ...
    @property
    def boot_from_volume(self) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class OpenStackNetworkArgs(BastionNetworkArgs):
    openstack: OpenStackNetworkSettings


@dataclass(frozen=True)
class _Network:
    network: openstack.networking.Network
    subnet: openstack.networking.Subnet
    router: openstack.networking.Router
    interface: openstack.networking.RouterInterface


class OpenStackNetwork(pulumi.ComponentResource):
    """Implements `components.node_pool.PrivateNetwork` on OpenStack."""

    def __init__(
        self, name: str, args: OpenStackNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:openstack:Network", name, None, opts)
        cfg = args.openstack
        if cfg.external_network is None:
            raise ValueError("openstackExternalNetwork is required")
        net = self._network(name, args, cfg.external_network)
        bastion_sg, private_sg = self._security_groups(name, args)
        loader_sg = self._loader_group(name, args, bastion_sg)
        settings, image = self._machine_settings(name, args, net)
        bastion, floating_ip, association = self._bastion(
            name, args, cfg.external_network, net, bastion_sg, settings
        )
        bastion_host = pulumi.Output.all(floating_ip.address, association.id).apply(
            lambda values: values[0]
        )

        self.network_id = net.network.id
        self.subnet_id = net.subnet.id
        self.router_id = net.router.id
        self.private_security_group_id = private_sg.id
        self.bastion_security_group_id = bastion_sg.id
        self.bastion_instance_id = bastion.instance.id
        self.bastion_instance = bastion.instance
        self.bastion_public_ip = bastion_host
        self.bastion_private_ip = bastion.private_ip
        self.private_cidr = pulumi.Output.from_input(cfg.subnet_cidr)
        # Tenant networks are often 1450 (VXLAN); Docker and CNI must use the network's value.
        self.mtu = pulumi.Output.from_input(args.mtu) if args.mtu else net.network.mtu
        self.image = pulumi.Output.from_input(image.image_id)
        if not image.pinned:
            # What the bastion actually booted, not what the name resolves to today.
            self.image = (
                bastion.instance.block_devices.apply(lambda devices: devices[0].uuid)
                if cfg.boot_from_volume
                else bastion.instance.image_id
            )
        self.ssh = SshAccess(
            user=args.ssh_user, private_key=args.private_key, bastion_host=bastion_host
        )
        self._placement = OpenStackPrivatePlacement(
            security_group_id=private_sg.id,
            settings=settings,
            ssh=self.ssh,
            egress=[net.interface],
            loader_security_group_id=loader_sg.id if loader_sg is not None else None,
        )
        self.register_outputs(
            {
                "network_id": self.network_id,
                "subnet_id": self.subnet_id,
                "bastion_public_ip": self.bastion_public_ip,
                "bastion_private_ip": self.bastion_private_ip,
                "image": self.image,
            }
        )

    def _network(self, name: str, args: OpenStackNetworkArgs, external_network: str) -> _Network:
        """The tenant network and subnet, routed to the external network."""
        child = pulumi.ResourceOptions(parent=self)
        naming, cfg = args.naming, args.openstack
        external = openstack.networking.get_network_output(
            name=external_network,
            external=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        network = openstack.networking.Network(
            f"{name}-net",
            name=naming.name("net"),
            admin_state_up=True,
            tags=naming.labels("net"),
            opts=child,
        )
        subnet = openstack.networking.Subnet(
            f"{name}-subnet",
            name=naming.name("subnet"),
            network_id=network.id,
            cidr=cfg.subnet_cidr,
            ip_version=4,
            enable_dhcp=True,
            dns_nameservers=list(cfg.dns_servers),
            tags=naming.labels("subnet"),
            opts=child,
        )
        router = openstack.networking.Router(
            f"{name}-router",
            name=naming.name("router"),
            admin_state_up=True,
            external_network_id=external.id,
            tags=naming.labels("router"),
            opts=child,
        )
        interface = openstack.networking.RouterInterface(
            f"{name}-router-interface",
            router_id=router.id,
            subnet_id=subnet.id,
            opts=child,
        )
        return _Network(network, subnet, router, interface)

    def _security_groups(
        self, name: str, args: OpenStackNetworkArgs
    ) -> tuple[openstack.networking.SecGroup, openstack.networking.SecGroup]:
        """The bastion's group (SSH and forwarded ports from the configured ranges, the private
        ports from the subnet) and the private machines' (the subnet only)."""
        child = pulumi.ResourceOptions(parent=self)
        naming, cfg = args.naming, args.openstack
        bastion_sg = openstack.networking.SecGroup(
            f"{name}-bastion-sg",
            name=naming.name("bastion"),
            description="faasbench bastion: SSH and forwarded APIs from the configured ranges only",
            tags=naming.labels("bastion"),
            opts=child,
        )
        ssh = ForwardedPort(22, args.allowed_ssh_cidrs, "allowedSshCidrs")
        for opened in (ssh, *args.bastion_forwarded_ports):
            port = opened.port
            for index, cidr in enumerate(opened.cidrs):
                v6 = ipaddress.ip_network(cidr).version == 6
                openstack.networking.SecGroupRule(
                    f"{name}-bastion-{'ssh' if port == 22 else port}-{index}",
                    security_group_id=bastion_sg.id,
                    description=f"port {port} from {opened.source_key}",
                    direction="ingress",
                    ethertype="IPv6" if v6 else "IPv4",
                    protocol="tcp",
                    port_range_min=port,
                    port_range_max=port,
                    remote_ip_prefix=cidr,
                    opts=child,
                )
        for port in args.bastion_private_ports:
            openstack.networking.SecGroupRule(
                f"{name}-bastion-{port}-from-subnet",
                security_group_id=bastion_sg.id,
                description=f"port {port} from inside the subnet",
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                port_range_min=port,
                port_range_max=port,
                remote_ip_prefix=cfg.subnet_cidr,
                opts=child,
            )
        private_sg = openstack.networking.SecGroup(
            f"{name}-private-sg",
            name=naming.name("private"),
            description="faasbench private machines: traffic from the subnet only",
            tags=naming.labels("private"),
            opts=child,
        )
        # No protocol: every protocol (TCP, UDP for VXLAN/gossip, ICMP for path MTU discovery).
        openstack.networking.SecGroupRule(
            f"{name}-private-from-subnet",
            security_group_id=private_sg.id,
            description="everything from inside the subnet",
            direction="ingress",
            ethertype="IPv4",
            remote_ip_prefix=cfg.subnet_cidr,
            opts=child,
        )
        return bastion_sg, private_sg

    def _loader_group(
        self, name: str, args: OpenStackNetworkArgs, bastion_sg: openstack.networking.SecGroup
    ) -> openstack.networking.SecGroup | None:
        """The loader pool's group, only with `loader_ports`: SSH from the bastion, the loader
        ports (Dask) from the pool's own machines and the bastion, nothing else (OpenStack's
        default egress rules stay: function traffic, packages)."""
        ports = args.loader_ports
        if ports is None:
            return None
        child = pulumi.ResourceOptions(parent=self)
        naming = args.naming
        group = openstack.networking.SecGroup(
            f"{name}-loader-sg",
            name=naming.name("loader"),
            description="faasbench loaders: SSH from the bastion, Dask from loaders and bastion",
            tags=naming.labels("loader"),
            opts=child,
        )
        for opening in ports.openings(group, bastion_sg):
            openstack.networking.SecGroupRule(
                opening.resource_name(name),
                security_group_id=group.id,
                description=opening.description,
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                port_range_min=opening.first,
                port_range_max=opening.last,
                remote_group_id=opening.group.id,
                opts=child,
            )
        return group

    def _machine_settings(
        self, name: str, args: OpenStackNetworkArgs, net: _Network
    ) -> tuple[OpenStackMachineSettings, OpenStackImage]:
        """The keypair and the image every machine of the network boots with, on its subnet."""
        child = pulumi.ResourceOptions(parent=self)
        naming, cfg = args.naming, args.openstack
        keypair = openstack.compute.Keypair(
            f"{name}-key",
            name=naming.name("key"),
            public_key=args.public_key_openssh,
            opts=child,
        )
        if cfg.image_id is not None:
            image = OpenStackImage(image_id=cfg.image_id, pinned=True)
        else:
            found = openstack.images.get_image_output(
                name=cfg.image,
                most_recent=True,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            image = OpenStackImage(image_id=found.id, pinned=False)
        settings = OpenStackMachineSettings(
            naming=naming,
            image=image,
            key_pair=keypair.name,
            network_id=net.network.id,
            subnet_id=net.subnet.id,
            volume_size_gb=args.volume_size_gb,
            boot_from_volume=cfg.boot_from_volume,
            availability_zone=cfg.availability_zone,
        )
        return settings, image

    def _bastion(
        self,
        name: str,
        args: OpenStackNetworkArgs,
        external_network: str,
        net: _Network,
        group: openstack.networking.SecGroup,
        settings: OpenStackMachineSettings,
    ) -> tuple[
        OpenStackMachine, openstack.networking.FloatingIp, openstack.networking.FloatingIpAssociate
    ]:
        """The bastion on its own port, with a floating IP from the external network."""
        child = pulumi.ResourceOptions(parent=self)
        naming = args.naming
        bastion = create_instance(
            f"{name}-bastion",
            role="bastion",
            size=args.bastion_size,
            security_group_ids=[group.id],
            user_data=bastion_cloud_config(),
            settings=settings,
            parent=self,
        )
        floating_ip = openstack.networking.FloatingIp(
            f"{name}-bastion-fip",
            pool=external_network,
            description=naming.name("bastion"),
            tags=naming.labels("bastion"),
            opts=child,
        )
        # The port can only take a floating IP once its subnet is routed to the external network.
        association = openstack.networking.FloatingIpAssociate(
            f"{name}-bastion-fip-assoc",
            floating_ip=floating_ip.address,
            port_id=bastion.port.id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[net.interface]),
        )
        return bastion, floating_ip, association

    def node_pool(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> NodePool:
        """A pool on the private network, parented by the caller (usually a cluster)."""
        return OpenStackNodePool(name, args, self._placement, opts=opts)

    def memory_mib(self, size: str) -> pulumi.Output[int]:
        return openstack.compute.get_flavor_output(name=size).ram
