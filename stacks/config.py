"""The stack configuration: every `faasbench:*` key, validated before any resource exists.

Keys are flat and camelCase (Pulumi convention, so `pulumi config set workerCount 3` works);
the model groups them into sections by their prefix: `aws*` keys form `AwsConfig`, `openstack*`
keys `OpenStackConfig`. Each field's alias is its full key, so every error names the key the
user typed. This module holds the whole (`StackConfig`, with the rules across sections); the
sections live in `stacks.config_*` modules, one concern each, and the machines section in
`contract.machines` (the cost estimate reads it too).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from components.knative_config import MINIMUM_KUBERNETES as KNATIVE_MINIMUM_KUBERNETES
from contract.aws import is_burstable
from contract.machines import AWS_DEFAULT_SIZES, ROLES, MachinesConfig, Role
from contract.outputs import CpuCredits
from stacks.config_access import AccessConfig
from stacks.config_clouds import AwsConfig, ExistingConfig, OpenStackConfig
from stacks.config_cluster import ClusterConfig
from stacks.config_fields import Section, excerpt
from stacks.config_keda import KedaConfig
from stacks.config_knative import KnativeConfig
from stacks.config_platform import OpenWhiskConfig, PlatformConfig, RegistryConfig

Cloud = Literal["aws", "openstack", "existing"]
Orchestrator = Literal["k8s", "swarm", "nomad"]
Framework = Literal["openfaas", "openwhisk", "keda", "knative"]

_ARM_TYPE = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")  # m7g., c7gn., t4g., r8gd. ...
#: An AWS instance type: FAMILY.SIZE, the family with its generation digit (t3a.large,
#: c5n.18xlarge, m7i-flex.large, u-6tb1.metal, m7i.metal-24xl).
AWS_INSTANCE_TYPE = re.compile(
    r"(?=[a-z-]*[0-9])[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*"
)


class StackConfig(Section):
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
    keda: KedaConfig = KedaConfig()
    knative: KnativeConfig = KnativeConfig()
    images: RegistryConfig = RegistryConfig()

    @model_validator(mode="after")
    def _cross_field_rules(self) -> StackConfig:
        if self.framework in {"openwhisk", "keda"} and self.orchestrator != "k8s":
            raise ValueError(
                f"framework {self.framework} runs only on orchestrator k8s, not {self.orchestrator}"
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
        if self.framework == "knative":
            self._knative_rules()
        if self.images.mode != "none" and self.framework not in ("openfaas", "knative"):
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

    def _knative_rules(self) -> None:
        if self.orchestrator != "k8s":
            raise ValueError(
                f"framework knative runs only on orchestrator k8s, not {self.orchestrator}"
            )
        if self.images.mode == "private":
            raise ValueError(
                "registry private serves plain HTTP, which Knative's tag resolution refuses: "
                "use registry public (or none and loadgen run --image IMAGE)"
            )
        version = self.cluster.k3s_version
        major, minor = (int(p) for p in version.lstrip("v").split(".")[:2])
        if self.cloud != "existing" and (major, minor) < KNATIVE_MINIMUM_KUBERNETES:
            raise ValueError(
                f"k3sVersion {version}: Knative Serving needs Kubernetes "
                f"{'.'.join(map(str, KNATIVE_MINIMUM_KUBERNETES))} or newer"
            )

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
