"""The stack configuration: every `faasbench:*` key, validated before any resource exists.

Keys are flat and camelCase (Pulumi convention, so `pulumi config set workerCount 3` works);
the model groups them into sections by their prefix: `aws*` keys form `AwsConfig`, `openstack*`
keys `OpenStackConfig`. Each field's alias is its full key, so every error names the key the
user typed.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from contract.aws import is_burstable
from contract.ftp import DEFAULT_MAX_CLIENTS, MAX_CLIENTS_LIMIT
from contract.machines import AWS_DEFAULT_SIZES, ROLES, MachinesConfig, Role
from contract.outputs import CpuCredits
from contract.ssh_keys import ParsedPrivateKey, parse_private_key

Cloud = Literal["aws", "openstack", "existing"]
Orchestrator = Literal["k8s", "swarm", "nomad"]
Framework = Literal["openfaas", "openwhisk"]

#: Canonical's AWS account, the publisher of the official Ubuntu AMIs.
CANONICAL_AWS_OWNER = "099720109477"
UBUNTU_2404_AMI_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"

_ARM_TYPE = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")  # m7g., c7gn., t4g., r8gd. ...


def excerpt(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters: messages never echo a huge value back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _network(value: str) -> str:
    """A CIDR in canonical form; a bare address means that one host."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as err:
        reason = str(err).replace(repr(value), "it").replace(str(value), "it")[:100]
        raise ValueError(f"{excerpt(value)} is not a valid CIDR ({reason})") from None


def _ipv4_network(value: str) -> str:
    network = ipaddress.ip_network(_network(value))
    if network.version != 4:
        raise ValueError(f"{excerpt(value)} must be an IPv4 CIDR")
    if not network.is_private:
        raise ValueError(f"{excerpt(value)} is not a private range (RFC 1918)")
    return str(network)


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{excerpt(value)} is not an IP address") from None


Cidr = Annotated[str, AfterValidator(_network)]
PrivateCidr = Annotated[str, AfterValidator(_ipv4_network)]
IpAddress = Annotated[str, AfterValidator(_ip_address)]
#: An AWS instance type: FAMILY.SIZE, the family with its generation digit (t3a.large,
#: c5n.18xlarge, m7i-flex.large, u-6tb1.metal, m7i.metal-24xl).
AWS_INSTANCE_TYPE = re.compile(
    r"(?=[a-z-]*[0-9])[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*"
)
#: Most SSH ranges: one security-group rule each, and AWS allows 60 per group by default.
MAX_SSH_CIDRS = 50
#: The widest union of SSH ranges taken without allowPublicSsh: a /8 of IPv4, a /32 of IPv6.
MAX_SSH_ADDRESSES = {4: 2**24, 6: 2**96}


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)


class AwsConfig(_Section):
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


class OpenStackConfig(_Section):
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


class ExistingConfig(_Section):
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


def _too_wide(cidrs: list[str] | None) -> str | None:
    """Why `cidrs` open too much of the internet (a /0, or ranges that together cover more
    than MAX_SSH_ADDRESSES, such as 0.0.0.0/1 + 128.0.0.0/1), or None."""
    for cidr in cidrs or ():
        if ipaddress.ip_network(cidr).prefixlen == 0:
            return f"contains {cidr}, the whole internet"
    networks = [ipaddress.ip_network(cidr) for cidr in cidrs or ()]
    for version, limit in MAX_SSH_ADDRESSES.items():
        same = [network for network in networks if network.version == version]
        covered = sum(n.num_addresses for n in ipaddress.collapse_addresses(same))  # type: ignore[type-var]
        bits = 32 if version == 4 else 128
        if covered > limit:
            share = "the whole internet" if covered == 2**bits else f"{covered / 2**bits:.2%}"
            return (
                f"together cover {covered:,} IPv{version} addresses ({share}), more than a "
                f"/{bits - limit.bit_length() + 1}"
            )
    return None


class AccessConfig(_Section):
    """Who may reach the bastion (SSH) and the Kubernetes API it forwards, and with which key."""

    allowed_ssh_cidrs: list[Cidr] | None = Field(
        None, alias="allowedSshCidrs", min_length=1, max_length=MAX_SSH_CIDRS
    )
    allow_public_ssh: bool = Field(False, alias="allowPublicSsh")
    kube_api_cidrs: list[Cidr] | None = Field(
        None,
        alias="kubeApiCidrs",
        min_length=1,
        description="who may reach the Kubernetes API on the bastion; default: allowedSshCidrs",
    )
    allow_public_kube_api: bool = Field(False, alias="allowPublicKubeApi")
    ssh_user: str = Field("ubuntu", alias="sshUser", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    ssh_private_key: SecretStr | None = Field(None, alias="sshPrivateKey")

    @field_validator("ssh_private_key")
    @classmethod
    def _key_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_private_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _no_world_open_ssh(self) -> AccessConfig:
        if self.allow_public_ssh:
            return self
        problem = _too_wide(self.allowed_ssh_cidrs)
        if problem is not None:
            raise ValueError(
                f"allowedSshCidrs {problem}, which opens SSH to too much of the internet; "
                "list your own address ranges, or set allowPublicSsh: true to accept that"
            )
        return self

    @property
    def kube_api_sources(self) -> list[str]:
        """Who may reach the Kubernetes API forwarded on the bastion: `kubeApiCidrs`, else the
        SSH ranges."""
        return list(self.kube_api_cidrs or self.allowed_ssh_cidrs or [])

    def kube_api_problem(self) -> str | None:
        """Why the Kubernetes API's sources are refused (a world-open range without its own
        opt-in, even when allowPublicSsh accepted one for SSH), or None."""
        if self.allow_public_kube_api:
            return None
        problem = _too_wide(self.kube_api_sources)
        if problem is None:
            return None
        key = "kubeApiCidrs" if self.kube_api_cidrs else "kubeApiCidrs (default: allowedSshCidrs)"
        return (
            f"{key} {problem}, which opens the Kubernetes API (port 6443 on the bastion) to "
            "too much of the internet; set kubeApiCidrs to your own address ranges, or set "
            "allowPublicKubeApi: true to accept that"
        )

    @cached_property
    def ssh_key(self) -> ParsedPrivateKey | None:
        """The user's key pair, or None when the stack generates one."""
        if self.ssh_private_key is None:
            return None
        return parse_private_key(self.ssh_private_key.get_secret_value())


def _label(value: str) -> str:
    key, sep, label_value = value.partition("=")
    if not sep or not re.fullmatch(r"([a-z0-9.-]+/)?[A-Za-z0-9][A-Za-z0-9._-]{0,62}", key):
        raise ValueError(f"{value!r} is not a node label KEY=VALUE")
    if not re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]{0,62})?", label_value):
        raise ValueError(f"{value!r} has an invalid label value")
    return value


NodeLabel = Annotated[str, AfterValidator(_label)]


class ClusterConfig(_Section):
    """Orchestrator versions (all pinned) and node labels.

    Defaults were the current releases when this version of faasbench was made; see
    docs/configuration.md for where each comes from.
    """

    k3s_version: str = Field(
        "v1.36.3+k3s1", alias="k3sVersion", pattern=r"^v\d+\.\d+\.\d+\+k3s\d+$"
    )
    k3s_sha256: str | None = Field(
        None,
        alias="k3sSha256",
        pattern=r"^[0-9a-f]{64}$",
        description="pins the k3s binary; default: the release's own sha256sum-amd64.txt",
    )
    docker_version: str = Field("28.5.2", alias="dockerVersion", pattern=r"^28\.\d+\.\d+$")
    containerd_version: str = Field(
        "1.7.29-1", alias="containerdVersion", pattern=r"^\d+\.\d+\.\d+-\d+$"
    )
    nomad_version: str = Field("1.11.3", alias="nomadVersion", pattern=r"^\d+\.\d+\.\d+$")
    consul_version: str = Field("1.22.6", alias="consulVersion", pattern=r"^\d+\.\d+\.\d+$")
    vault_version: str = Field("1.21.0", alias="vaultVersion", pattern=r"^\d+\.\d+\.\d+$")
    cni_plugins_version: str = Field(
        "v1.9.1", alias="cniPluginsVersion", pattern=r"^v\d+\.\d+\.\d+$"
    )
    cni_plugins_sha256: str = Field(
        "b98f74a0f8522f0a83867178729c1aa70f2158f90c45a2ca8fa791db1c76b303",
        alias="cniPluginsSha256",
        pattern=r"^[0-9a-f]{64}$",
    )
    server_node_labels: list[NodeLabel] = Field(["openwhisk-role=core"], alias="serverNodeLabels")
    worker_node_labels: list[NodeLabel] = Field(
        ["openwhisk-role=invoker"], alias="workerNodeLabels"
    )
    storage_class: str | None = Field(
        None,
        alias="storageClass",
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="k3s: local-path; existing: the cluster's default",
    )

    @model_validator(mode="after")
    def _cni_checksum_follows_version(self) -> ClusterConfig:
        default = ClusterConfig.model_fields
        if (
            self.cni_plugins_version != default["cni_plugins_version"].default
            and self.cni_plugins_sha256 == default["cni_plugins_sha256"].default
        ):
            raise ValueError(
                f"cniPluginsVersion {self.cni_plugins_version} needs its own cniPluginsSha256 "
                "(the sha256 of cni-plugins-linux-amd64-<version>.tgz)"
            )
        return self


class PlatformConfig(_Section):
    """The serverless platform and what fronts and feeds it (HAProxy, the FTP server)."""

    openfaas_chart_version: str = Field(
        "15.0.6", alias="openfaasChartVersion", pattern=r"^\d+\.\d+\.\d+$"
    )
    openfaas_license: SecretStr | None = Field(
        None,
        alias="openfaasLicense",
        description="an OpenFaaS Pro licence (secret); lifts Community Edition's limits",
    )
    haproxy_version: str = Field(
        "2.8.*", alias="haproxyVersion", pattern=r"^\d+\.\d+(\.\*|[.\w~+-]*)$"
    )
    vsftpd_version: str = Field(
        "3.0.5-*", alias="vsftpdVersion", pattern=r"^\d+\.\d+\.\d+(-\*|[.\w~+-]*)$"
    )
    ftp_test_file_bytes: int = Field(1048576, alias="ftpTestFileBytes", ge=1, le=1024 * 1024 * 1024)
    ftp_max_clients: int = Field(
        DEFAULT_MAX_CLIENTS,
        alias="ftpMaxClients",
        ge=1,
        le=MAX_CLIENTS_LIMIT,
        description="concurrent FTP sessions; sizes the passive port range (4 ports each)",
    )


RegistryKind = Literal["none", "public", "private"]
#: A registry host with an optional port (`docker.io`, `ghcr.io`, `registry.example.com:5000`).
_REGISTRY_SERVER = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$"
#: Docker's repository path components: lower-case words joined by `.`, `_`, `-`, nested by `/`.
_REGISTRY_NAMESPACE = r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"


class RegistryConfig(_Section):
    """Where the suite's function image is built to (OpenFaaS on machines of ours).

    OpenFaaS Community Edition only runs images it can pull anonymously, so `public` needs an
    image anyone may pull, and `private` is a registry nobody needs credentials for, reachable
    only inside the network.
    """

    kind: RegistryKind | None = Field(
        None,
        alias="registry",
        description="default: public when registryNamespace is set, else none",
    )
    server: str = Field("docker.io", alias="registryServer", pattern=_REGISTRY_SERVER)
    namespace: str | None = Field(
        None,
        alias="registryNamespace",
        pattern=_REGISTRY_NAMESPACE,
        max_length=200,
        description="public: your user or organisation; private: default faasbench",
    )
    username: str | None = Field(None, alias="registryUsername", pattern=r"^\S{1,255}$")
    token: SecretStr | None = Field(None, alias="registryToken")

    @property
    def mode(self) -> RegistryKind:
        """The registry in use: the explicit `registry`, else public once a namespace is set."""
        if self.kind is not None:
            return self.kind
        return "public" if self.namespace is not None else "none"

    @model_validator(mode="after")
    def _keys_fit_the_registry(self) -> RegistryConfig:
        mode = self.mode
        if mode == "public":
            missing = [
                key
                for key, value in (
                    ("registryNamespace", self.namespace),
                    ("registryUsername", self.username),
                    ("registryToken", self.token),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"registry public pushes the suite's image with your credentials: set "
                    f"{', '.join(missing)} (registryToken with pulumi config set --secret)"
                )
            return self
        # Pulumi hands the program registryServer's default too: only another value counts.
        extra = [
            key
            for key, given in (
                ("registryServer", self.server != RegistryConfig.model_fields["server"].default),
                ("registryUsername", self.username is not None),
                ("registryToken", self.token is not None),
            )
            if given
        ]
        if mode == "none" and self.namespace is not None:
            extra.insert(0, "registryNamespace")
        if extra:
            raise ValueError(
                f"{', '.join(extra)} apply to registry public only; registry is {mode}"
            )
        return self


PREWARM = re.compile(r"([a-z][a-z0-9.-]*:[A-Za-z0-9.-]+):(\d+):(\d+)")


def _prewarm(value: str) -> str:
    match = PREWARM.fullmatch(value)
    if not match:
        raise ValueError(
            f"{value!r} is not KIND:MEMORY_MB:COUNT (a runtime kind with its version, e.g. "
            "python:3:256:2)"
        )
    if not 128 <= int(match[2]) <= 4096 or not 0 <= int(match[3]) <= 100:
        raise ValueError(f"{value!r}: memory must be 128..4096 MB and count 0..100")
    return value


Prewarm = Annotated[str, AfterValidator(_prewarm)]
#: The chart quotes numbers through float64: from 1,000,000 on they render as 1e+06, which
#: OpenWhisk cannot parse. Every number we hand it stays below.
_HELM_NUMBER_MAX = 999_999


class OpenWhiskConfig(_Section):
    """Apache OpenWhisk (Kubernetes only): the seeds' switches and benchmark-sized limits."""

    scheduler: Literal["default", "new"] = Field(
        "default",
        alias="openwhiskScheduler",
        description="new: the function-pull scheduler (adds etcd and ElasticSearch)",
    )
    container_factory: Literal["kubernetes", "docker"] = Field(
        "kubernetes", alias="openwhiskContainerFactory"
    )
    prewarm: list[Prewarm] | None = Field(
        None,
        alias="openwhiskPrewarm",
        description="stem cells KIND:MEMORY_MB:COUNT; default: the chart's own",
    )
    idle_timeout_s: int = Field(600, alias="openwhiskIdleTimeoutS", ge=10, le=86_400)
    action_time_max_s: int = Field(300, alias="openwhiskActionTimeMaxS", ge=1, le=3_600)
    action_memory_max_mb: int = Field(2048, alias="openwhiskActionMemoryMaxMb", ge=256, le=65_536)
    action_concurrency_max: int = Field(1, alias="openwhiskActionConcurrencyMax", ge=1, le=500)
    invokes_per_minute: int = Field(
        _HELM_NUMBER_MAX, alias="openwhiskInvokesPerMinute", ge=1, le=_HELM_NUMBER_MAX
    )
    concurrent_invokes: int = Field(
        _HELM_NUMBER_MAX, alias="openwhiskConcurrentInvokes", ge=1, le=_HELM_NUMBER_MAX
    )
    user_memory_mb: int | None = Field(
        None,
        alias="openwhiskUserMemoryMb",
        ge=256,
        le=_HELM_NUMBER_MAX,
        description="memory for action containers per invoker; default: sized from the workers",
    )
    invokers: int | None = Field(
        None, alias="openwhiskInvokers", ge=1, le=100, description="default: one per worker"
    )


class StackConfig(_Section):
    """The whole configuration of one stack."""

    env_name: str = Field(
        "faasbench",
        alias="envName",
        pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$",
        description="prefix of every physical name and the value of the faasbench:env tag",
    )
    cloud: Cloud = Field(alias="cloud")
    orchestrator: Orchestrator = Field("k8s", alias="orchestrator")
    framework: Framework = Field("openfaas", alias="framework")
    network_mtu: int | None = Field(
        None, alias="networkMtu", ge=1280, le=9001, description="default: the network's own"
    )
    access: AccessConfig = AccessConfig()
    machines: MachinesConfig = MachinesConfig()
    cluster: ClusterConfig = ClusterConfig()
    platform: PlatformConfig = PlatformConfig()
    aws: AwsConfig = AwsConfig()
    openstack: OpenStackConfig = OpenStackConfig()
    existing: ExistingConfig = ExistingConfig()
    openwhisk: OpenWhiskConfig = OpenWhiskConfig()
    images: RegistryConfig = RegistryConfig()

    @model_validator(mode="after")
    def _cross_field_rules(self) -> StackConfig:
        if self.framework == "openwhisk" and self.orchestrator != "k8s":
            raise ValueError(
                f"framework openwhisk runs only on orchestrator k8s, not {self.orchestrator}"
            )
        if (
            self.framework == "openwhisk"
            and self.cloud != "existing"
            and self.openwhisk.container_factory == "docker"
        ):
            raise ValueError(
                "openwhiskContainerFactory docker needs Docker on the nodes, and k3s runs "
                "containerd: use kubernetes"
            )
        if self.framework == "openwhisk" and not any(
            label.startswith("openwhisk-role=") for label in self.cluster.worker_node_labels
        ):
            raise ValueError(
                "framework openwhisk places invokers by the label openwhisk-role: "
                "workerNodeLabels must include one, e.g. openwhisk-role=invoker"
            )
        if self.images.mode != "none" and self.framework != "openfaas":
            raise ValueError(
                f"registry {self.images.mode} holds OpenFaaS's function image; framework "
                f"{self.framework} takes the functions as zip actions: leave registry unset"
            )
        if self.images.mode != "none" and self.cloud == "existing":
            raise ValueError(
                f"registry {self.images.mode} builds the image on the stack's bastion, and cloud "
                "existing has none: push the image yourself and run loadgen run --image IMAGE"
            )
        if self.cluster.storage_class is not None and self.cloud != "existing":
            raise ValueError(
                "storageClass applies to cloud existing only (k3s clusters use local-path)"
            )
        if self.cloud == "existing":
            if self.access.kube_api_cidrs is not None:
                raise ValueError(
                    "kubeApiCidrs applies to clouds aws and openstack (cloud existing has no "
                    "bastion; your cluster's API is reached as your kubeconfig says)"
                )
            if self.orchestrator != "k8s":
                raise ValueError(
                    f"cloud existing is an existing Kubernetes cluster: orchestrator must be k8s, "
                    f"not {self.orchestrator}"
                )
            if self.existing.kubeconfig is None:
                raise ValueError(
                    "cloud existing requires kubeconfig: "
                    "pulumi config set --secret kubeconfig < ~/.kube/config"
                )
            return self
        if not self.access.allowed_ssh_cidrs:
            raise ValueError(
                f"cloud {self.cloud} requires allowedSshCidrs, the address ranges allowed to reach "
                "the bastion's SSH, e.g. pulumi config set allowedSshCidrs 203.0.113.7/32"
            )
        if self.orchestrator != "k8s" and self.access.kube_api_cidrs is not None:
            raise ValueError(
                f"kubeApiCidrs applies to orchestrator k8s only (the bastion forwards no "
                f"Kubernetes API for {self.orchestrator})"
            )
        if self.orchestrator == "k8s":
            problem = self.access.kube_api_problem()
            if problem is not None:
                raise ValueError(problem)
        if self.orchestrator == "k8s" and self.machines.manager_count != 1:
            raise ValueError(
                f"managerCount {self.machines.manager_count}: the k8s orchestrator (k3s) runs "
                "one server; use managerCount 1"
            )
        if self.cloud == "openstack":
            self._require_openstack_keys()
        if self.cloud == "aws":
            self._check_aws_types()
            self._refuse_arm_types()
        return self

    def _require_openstack_keys(self) -> None:
        missing = [
            key
            for key, value in (
                ("openstackExternalNetwork", self.openstack.external_network),
                ("openstackImage", self.openstack.image or self.openstack.image_id),
                ("openstackFlavor", self.openstack.flavor),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"cloud openstack requires {', '.join(missing)}")

    def _check_aws_types(self) -> None:
        for role in ROLES:
            size = self.machines.explicit_size(role)
            if size is not None and not AWS_INSTANCE_TYPE.fullmatch(size):
                raise ValueError(
                    f"{role}Size {excerpt(size)} is not an AWS instance type (FAMILY.SIZE such "
                    "as t3a.large or c5n.2xlarge)"
                )

    def _refuse_arm_types(self) -> None:
        for role in ROLES:
            size = self.size(role)
            if _ARM_TYPE.match(size):
                raise ValueError(
                    f"{role}Size {size} is an arm64 (Graviton) type; faasbench machines and "
                    "function images are amd64: choose an x86_64 type such as t3a.large"
                )

    def size(self, role: Role) -> str:
        """The instance type / flavor of a role: explicit key, else the cloud's default."""
        explicit = self.machines.explicit_size(role)
        if explicit is not None:
            return explicit
        if self.cloud == "openstack" and self.openstack.flavor is not None:
            return self.openstack.flavor
        return AWS_DEFAULT_SIZES[role]

    def cpu_credits(self, role: Role) -> CpuCredits | None:
        """The credit mode applied to a role's machines, None where the type is not burstable."""
        if self.cloud != "aws" or not is_burstable(self.size(role)):
            return None
        return self.machines.cpu_credits
