"""The AWS network's security groups: the bastion's, the private machines' and the loaders'.

Only SSH from `allowedSshCidrs` (and each forwarded port from its own ranges) reaches the bastion;
private machines accept traffic from inside the VPC alone; loaders accept SSH from the bastion and
their Dask ports from each other and the bastion. Every group's egress is open. The resources are
children of the `AwsNetwork` that builds them.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from components.node_pool import BastionNetworkArgs, ForwardedPort


def security_groups(
    name: str, args: BastionNetworkArgs, vpc_cidr: str, vpc: aws.ec2.Vpc, parent: pulumi.Resource
) -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup]:
    """The bastion's group (SSH and forwarded ports from the configured ranges, the private
    ports from the VPC) and the private machines' (the VPC only)."""
    child = pulumi.ResourceOptions(parent=parent)
    naming = args.naming
    bastion_sg = aws.ec2.SecurityGroup(
        f"{name}-bastion-sg",
        name=naming.name("bastion"),
        description="faasbench bastion: SSH and forwarded APIs from the configured ranges only",
        vpc_id=vpc.id,
        tags=naming.tags("bastion"),
        opts=child,
    )
    ssh = ForwardedPort(22, args.allowed_ssh_cidrs, "allowedSshCidrs")
    for opened in (ssh, *args.bastion_forwarded_ports):
        port = opened.port
        for index, cidr in enumerate(opened.cidrs):
            v6 = ipaddress.ip_network(cidr).version == 6
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-bastion-{'ssh' if port == 22 else port}-{index}",
                security_group_id=bastion_sg.id,
                description=f"port {port} from {opened.source_key}",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=None if v6 else cidr,
                cidr_ipv6=cidr if v6 else None,
                tags=naming.tags("bastion"),
                opts=child,
            )
    for port in args.bastion_private_ports:
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-bastion-{port}-from-vpc",
            security_group_id=bastion_sg.id,
            description=f"port {port} from inside the VPC",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            cidr_ipv4=vpc_cidr,
            tags=naming.tags("bastion"),
            opts=child,
        )
    open_egress(f"{name}-bastion", bastion_sg, naming.tags("bastion"), parent)

    private_sg = aws.ec2.SecurityGroup(
        f"{name}-private-sg",
        name=naming.name("private"),
        description="faasbench private machines: traffic from inside the VPC only",
        vpc_id=vpc.id,
        tags=naming.tags("private"),
        opts=child,
    )
    aws.vpc.SecurityGroupIngressRule(
        f"{name}-private-from-vpc",
        security_group_id=private_sg.id,
        description="everything from inside the VPC",
        ip_protocol="-1",
        cidr_ipv4=vpc_cidr,
        tags=naming.tags("private"),
        opts=child,
    )
    open_egress(f"{name}-private", private_sg, naming.tags("private"), parent)
    return bastion_sg, private_sg


def loader_group(
    name: str,
    args: BastionNetworkArgs,
    vpc: aws.ec2.Vpc,
    bastion_sg: aws.ec2.SecurityGroup,
    parent: pulumi.Resource,
) -> aws.ec2.SecurityGroup | None:
    """The loader pool's group, only with `loader_ports`: SSH from the bastion, the loader
    ports (Dask) from the pool's own machines and the bastion, nothing else; egress open
    (function traffic to HAProxy, packages through the NAT)."""
    ports = args.loader_ports
    if ports is None:
        return None
    child = pulumi.ResourceOptions(parent=parent)
    naming = args.naming
    tags = naming.tags("loader")
    group = aws.ec2.SecurityGroup(
        f"{name}-loader-sg",
        name=naming.name("loader"),
        description="faasbench loaders: SSH from the bastion, Dask from loaders and bastion",
        vpc_id=vpc.id,
        tags=tags,
        opts=child,
    )
    for opening in ports.openings(group, bastion_sg):
        aws.vpc.SecurityGroupIngressRule(
            opening.resource_name(name),
            security_group_id=group.id,
            description=opening.description,
            ip_protocol="tcp",
            from_port=opening.first,
            to_port=opening.last,
            referenced_security_group_id=opening.group.id,
            tags=tags,
            opts=child,
        )
    open_egress(f"{name}-loader", group, tags, parent)
    return group


def open_egress(
    name: str, group: aws.ec2.SecurityGroup, tags: dict[str, str], parent: pulumi.Resource
) -> None:
    """All outbound traffic allowed from the group."""
    aws.vpc.SecurityGroupEgressRule(
        f"{name}-egress",
        security_group_id=group.id,
        description="all outbound traffic",
        ip_protocol="-1",
        cidr_ipv4="0.0.0.0/0",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
