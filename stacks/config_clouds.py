"""The cloud sections of the stack configuration: `aws*` keys (AwsConfig), `openstack*` keys
(OpenStackConfig) and an existing cluster's keys (ExistingConfig)."""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr, field_validator, model_validator

from stacks.config_fields import IpAddress, PrivateCidr, Section

#: Canonical's AWS account, the publisher of the official Ubuntu AMIs.
CANONICAL_AWS_OWNER = "099720109477"
UBUNTU_2404_AMI_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"


class AwsConfig(Section):
    """AWS network and machine image. Region comes from the provider key `aws:region`."""

    vpc_cidr: PrivateCidr = Field("10.0.0.0/16", alias="awsVpcCidr")
    public_subnet_cidr: PrivateCidr = Field("10.0.1.0/24", alias="awsPublicSubnetCidr")
    private_subnet_cidr: PrivateCidr = Field("10.0.2.0/24", alias="awsPrivateSubnetCidr")
    availability_zone: str | None = Field(
        None, alias="awsAvailabilityZone", description="default: the region's first AZ"
    )
    ami: str | None = Field(
        None,
        alias="awsAmi",
        pattern=r"^ami-[0-9a-f]{8,17}$",
        description="pinned AMI; default: latest Ubuntu 24.04 looked up once per machine",
    )
    ami_owner: str = Field(CANONICAL_AWS_OWNER, alias="awsAmiOwner", pattern=r"^\d{12}$")
    ami_name_filter: str = Field(UBUNTU_2404_AMI_NAME, alias="awsAmiNameFilter", min_length=1)

    @model_validator(mode="after")
    def _subnets_inside_vpc(self) -> AwsConfig:
        vpc = ipaddress.ip_network(self.vpc_cidr)
        public = ipaddress.ip_network(self.public_subnet_cidr)
        private = ipaddress.ip_network(self.private_subnet_cidr)
        for key, subnet in (("awsPublicSubnetCidr", public), ("awsPrivateSubnetCidr", private)):
            if not subnet.subnet_of(vpc):  # type: ignore[arg-type]
                raise ValueError(f"{key} {subnet} is not inside awsVpcCidr {vpc}")
        if public.overlaps(private):
            raise ValueError(
                f"awsPublicSubnetCidr {public} overlaps awsPrivateSubnetCidr {private}"
            )
        return self


class OpenStackConfig(Section):
    """OpenStack network, image and flavor. Credentials come from clouds.yaml / OS_* variables."""

    external_network: str | None = Field(None, alias="openstackExternalNetwork", min_length=1)
    image: str | None = Field(None, alias="openstackImage", min_length=1)
    image_id: str | None = Field(
        None, alias="openstackImageId", min_length=1, description="pins the image by id"
    )
    flavor: str | None = Field(None, alias="openstackFlavor", min_length=1)
    subnet_cidr: PrivateCidr = Field("192.168.0.0/24", alias="openstackSubnetCidr")
    dns_servers: list[IpAddress] = Field(
        ["8.8.8.8", "8.8.4.4"], alias="openstackDnsServers", min_length=1
    )
    availability_zone: str | None = Field(None, alias="openstackAvailabilityZone")
    boot_from_volume: bool = Field(
        True,
        alias="openstackBootFromVolume",
        description="boot from a volume of volumeSizeGb; false: the flavor's own disk",
    )


class ExistingConfig(Section):
    """An existing Kubernetes cluster (no machines are created)."""

    kubeconfig: SecretStr | None = Field(None, alias="kubeconfig")
    node_address: str | None = Field(
        None,
        alias="existingNodeAddress",
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$",
        description="a node address (DNS name or IPv4) where NodePorts are reachable",
    )

    @field_validator("kubeconfig")
    @classmethod
    def _kubeconfig_has_a_current_server(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from components.existing_cluster import current_server

            try:
                current_server(value.get_secret_value())
            except Exception:  # any shape error: the message must not echo the secret
                raise ValueError(
                    "kubeconfig is not a kubeconfig with a current-context whose cluster has a "
                    "server URL"
                ) from None
        return value
