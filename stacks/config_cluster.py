"""The cluster section of the stack configuration: pinned orchestrator versions and node
labels."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from stacks.config_fields import Section


def _label(value: str) -> str:
    key, sep, label_value = value.partition("=")
    if not sep or not re.fullmatch(r"([a-z0-9.-]+/)?[A-Za-z0-9][A-Za-z0-9._-]{0,62}", key):
        raise ValueError(f"{value!r} is not a node label KEY=VALUE")
    if not re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]{0,62})?", label_value):
        raise ValueError(f"{value!r} has an invalid label value")
    return value


NodeLabel = Annotated[str, AfterValidator(_label)]


class ClusterConfig(Section):
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
