"""One EC2 instance as faasbench runs them: encrypted gp3 root, IMDSv2, explicit CPU credits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.naming import Naming
from contract.aws import is_burstable
from contract.outputs import CpuCredits


@dataclass(frozen=True)
class AwsImage:
    """The AMI machines boot. A looked-up AMI is not followed on existing machines: a new
    Ubuntu release would otherwise replace every running machine (`ami` forces replacement).
    """

    ami: pulumi.Input[str]
    pinned: bool


@dataclass(frozen=True)
class AwsMachineSettings:
    naming: Naming
    image: AwsImage
    key_name: pulumi.Input[str]
    volume_size_gb: int
    cpu_credits: CpuCredits


def create_instance(
    name: str,
    *,
    role: str,
    size: str,
    subnet_id: pulumi.Input[str],
    security_group_ids: Sequence[pulumi.Input[str]],
    user_data: pulumi.Input[str],
    settings: AwsMachineSettings,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
    delete_before_replace: bool = False,
) -> aws.ec2.Instance:
    """`depends_on`: what must exist before the machine boots (its egress route: cloud-init
    installs packages at first boot). `delete_before_replace`: the machine's name (hostname,
    cluster node name) is reused by its replacement, so the two must never coexist."""
    credit = (
        aws.ec2.InstanceCreditSpecificationArgs(cpu_credits=settings.cpu_credits)
        if is_burstable(size)
        else None
    )
    return aws.ec2.Instance(
        name,
        ami=settings.image.ami,
        instance_type=size,
        subnet_id=subnet_id,
        vpc_security_group_ids=list(security_group_ids),
        key_name=settings.key_name,
        user_data=user_data,
        user_data_replace_on_change=True,
        credit_specification=credit,
        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
            volume_size=settings.volume_size_gb,
            volume_type="gp3",
            encrypted=True,
            delete_on_termination=True,
        ),
        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=2,
        ),
        tags=settings.naming.tags(role),
        volume_tags=settings.naming.tags(role),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(depends_on),
            delete_before_replace=delete_before_replace,
            ignore_changes=[] if settings.image.pinned else ["ami"],
        ),
    )
