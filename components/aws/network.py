"""AWS network + bastion: VPC, public and private subnets, NAT, security groups, bastion with EIP.

Only the bastion has a public address, and only SSH from `allowedSshCidrs` reaches it. Private
machines accept traffic from inside the VPC alone and reach the internet through the NAT
gateway (package installs, image pulls).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws

from components.aws.instance import AwsImage, AwsMachineSettings, create_instance
from components.aws.network_security import loader_group, security_groups
from components.aws.node_pool import AwsNodePool, AwsPrivatePlacement
from components.cloud_init import bastion_cloud_config
from components.node_pool import BastionNetworkArgs, NodePool, NodePoolArgs
from components.ssh_access import SshAccess
from contract.outputs import CpuCredits

#: Docker and CNI must not assume more than this: traffic leaving the VPC (NAT, internet
#: gateway) is limited to 1500 bytes even though instances inside it support 9001.
AWS_DEFAULT_MTU = 1500


class AwsNetworkSettings(Protocol):
    """The AWS settings the network reads (the stack's `stacks.config_clouds.AwsConfig` has
    them)."""

    @property
    def vpc_cidr(self) -> str: ...
    @property
    def public_subnet_cidr(self) -> str: ...
    @property
    def private_subnet_cidr(self) -> str: ...
    @property
    def availability_zone(self) -> str | None: ...
    @property
    def ami(self) -> str | None: ...
    @property
    def ami_owner(self) -> str: ...
    @property
    def ami_name_filter(self) -> str: ...


@dataclass(frozen=True, kw_only=True)
class AwsNetworkArgs(BastionNetworkArgs):
    aws: AwsNetworkSettings
    cpu_credits: CpuCredits


@dataclass(frozen=True)
class _Subnets:
    vpc: aws.ec2.Vpc
    public: aws.ec2.Subnet
    private: aws.ec2.Subnet


@dataclass(frozen=True)
class _Routes:
    gateway: aws.ec2.InternetGateway
    nat: aws.ec2.NatGateway
    private_routes: aws.ec2.RouteTable
    private_association: aws.ec2.RouteTableAssociation


class AwsNetwork(pulumi.ComponentResource):
    """Implements `components.node_pool.PrivateNetwork` on AWS."""

    def __init__(
        self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:aws:Network", name, None, opts)
        cfg = args.aws
        subnets = self._subnets(name, args)
        routes = self._routes(name, args, subnets)
        bastion_sg, private_sg = security_groups(name, args, cfg.vpc_cidr, subnets.vpc, self)
        loader_sg = loader_group(name, args, subnets.vpc, bastion_sg, self)
        settings = self._machine_settings(name, args)
        bastion, bastion_address, association = self._bastion(
            name, args, subnets, routes, bastion_sg, settings
        )

        # Remote steps must wait for the association (the address answers only then) and for
        # the private route (private machines install packages through the NAT).
        bastion_host = pulumi.Output.all(
            bastion_address.public_ip, association.id, routes.private_association.id
        ).apply(lambda values: values[0])

        self.vpc_id = subnets.vpc.id
        self.public_subnet_id = subnets.public.id
        self.private_subnet_id = subnets.private.id
        self.nat_gateway_id = routes.nat.id
        self.private_security_group_id = private_sg.id
        self.bastion_security_group_id = bastion_sg.id
        self.bastion_instance_id = bastion.id
        self.bastion_instance = bastion
        self.bastion_public_ip = bastion_host
        self.bastion_private_ip = bastion.private_ip
        self.private_cidr = pulumi.Output.from_input(cfg.vpc_cidr)
        self.mtu = pulumi.Output.from_input(args.mtu or AWS_DEFAULT_MTU)
        # The bastion's actual AMI (unchanged by later lookups) is what its machines run.
        self.image = bastion.ami
        self.ssh = SshAccess(
            user=args.ssh_user, private_key=args.private_key, bastion_host=bastion_host
        )
        self._placement = AwsPrivatePlacement(
            subnet_id=subnets.private.id,
            security_group_id=private_sg.id,
            settings=settings,
            ssh=self.ssh,
            egress=[routes.nat, routes.private_routes, routes.private_association],
            loader_security_group_id=loader_sg.id if loader_sg is not None else None,
        )
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_id": self.private_subnet_id,
                "bastion_public_ip": self.bastion_public_ip,
                "bastion_private_ip": self.bastion_private_ip,
                "image": self.image,
            }
        )

    def _subnets(self, name: str, args: AwsNetworkArgs) -> _Subnets:
        """The VPC with its public and private subnet, in the configured (or first) zone."""
        child = pulumi.ResourceOptions(parent=self)
        naming, cfg = args.naming, args.aws
        zone = cfg.availability_zone or aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        ).names.apply(lambda names: sorted(names)[0])

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cfg.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=naming.tags("vpc"),
            opts=child,
        )
        public_subnet = aws.ec2.Subnet(
            f"{name}-public",
            vpc_id=vpc.id,
            cidr_block=cfg.public_subnet_cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=naming.tags("public"),
            opts=child,
        )
        private_subnet = aws.ec2.Subnet(
            f"{name}-private",
            vpc_id=vpc.id,
            cidr_block=cfg.private_subnet_cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=naming.tags("private"),
            opts=child,
        )
        return _Subnets(vpc, public_subnet, private_subnet)

    def _routes(self, name: str, args: AwsNetworkArgs, subnets: _Subnets) -> _Routes:
        """The internet gateway for the public subnet, the NAT gateway for the private one."""
        child = pulumi.ResourceOptions(parent=self)
        naming, vpc = args.naming, subnets.vpc
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=naming.tags("igw"), opts=child
        )
        nat_address = aws.ec2.Eip(
            f"{name}-nat-eip",
            domain="vpc",
            tags=naming.tags("nat"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat",
            allocation_id=nat_address.id,
            subnet_id=subnets.public.id,
            tags=naming.tags("nat"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags=naming.tags("public"),
            opts=child,
        )
        private_routes = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
            tags=naming.tags("private"),
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-rta",
            subnet_id=subnets.public.id,
            route_table_id=public_routes.id,
            opts=child,
        )
        private_association = aws.ec2.RouteTableAssociation(
            f"{name}-private-rta",
            subnet_id=subnets.private.id,
            route_table_id=private_routes.id,
            opts=child,
        )
        return _Routes(gateway, nat, private_routes, private_association)

    def _machine_settings(self, name: str, args: AwsNetworkArgs) -> AwsMachineSettings:
        """The key pair and the image every machine of the network boots with."""
        child = pulumi.ResourceOptions(parent=self)
        naming, cfg = args.naming, args.aws
        key_pair = aws.ec2.KeyPair(
            f"{name}-key",
            key_name=naming.name("key"),
            public_key=args.public_key_openssh,
            tags=naming.tags("key"),
            opts=child,
        )
        if cfg.ami is not None:
            image = AwsImage(ami=cfg.ami, pinned=True)
        else:
            found = aws.ec2.get_ami_output(
                most_recent=True,
                owners=[cfg.ami_owner],
                filters=[
                    aws.ec2.GetAmiFilterArgs(name="name", values=[cfg.ami_name_filter]),
                    aws.ec2.GetAmiFilterArgs(name="architecture", values=["x86_64"]),
                    aws.ec2.GetAmiFilterArgs(name="virtualization-type", values=["hvm"]),
                    aws.ec2.GetAmiFilterArgs(name="root-device-type", values=["ebs"]),
                ],
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            image = AwsImage(ami=found.id, pinned=False)
        return AwsMachineSettings(
            naming=naming,
            image=image,
            key_name=key_pair.key_name,
            volume_size_gb=args.volume_size_gb,
            cpu_credits=args.cpu_credits,
        )

    def _bastion(
        self,
        name: str,
        args: AwsNetworkArgs,
        subnets: _Subnets,
        routes: _Routes,
        group: aws.ec2.SecurityGroup,
        settings: AwsMachineSettings,
    ) -> tuple[aws.ec2.Instance, aws.ec2.Eip, aws.ec2.EipAssociation]:
        """The bastion in the public subnet, with an elastic address of its own."""
        child = pulumi.ResourceOptions(parent=self)
        naming = args.naming
        bastion = create_instance(
            f"{name}-bastion",
            role="bastion",
            size=args.bastion_size,
            subnet_id=subnets.public.id,
            security_group_ids=[group.id],
            user_data=bastion_cloud_config(),
            settings=settings,
            parent=self,
        )
        # A separate EIP and association: the address outlives stop/start and even replacement
        # of the bastion, so kubeconfigs and TLS names that point at it stay valid.
        bastion_address = aws.ec2.Eip(
            f"{name}-bastion-eip",
            domain="vpc",
            tags=naming.tags("bastion"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[routes.gateway]),
        )
        association = aws.ec2.EipAssociation(
            f"{name}-bastion-eip-assoc",
            allocation_id=bastion_address.id,
            instance_id=bastion.id,
            opts=child,
        )
        return bastion, bastion_address, association

    def node_pool(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> NodePool:
        """A pool in the private subnet, parented by the caller (usually a cluster)."""
        return AwsNodePool(name, args, self._placement, opts=opts)

    def memory_mib(self, size: str) -> pulumi.Output[int]:
        return aws.ec2.get_instance_type_output(instance_type=size).memory_size
