"""The platform sections of the stack configuration: OpenFaaS, HAProxy and the FTP server
(PlatformConfig), the function image's registry (RegistryConfig) and OpenWhisk
(OpenWhiskConfig)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, model_validator

from contract.ftp import DEFAULT_MAX_CLIENTS, MAX_CLIENTS_LIMIT
from functions._registry import Language
from stacks.config_fields import Section


class PlatformConfig(Section):
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
    object_storage: bool = Field(
        False,
        alias="objectStorage",
        description="deploy S3-compatible object storage with the thumbnail inputs",
    )


RegistryKind = Literal["none", "public", "private"]
#: A registry host with an optional port (`docker.io`, `ghcr.io`, `registry.example.com:5000`).
_REGISTRY_SERVER = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$"
#: Docker's repository path components: lower-case words joined by `.`, `_`, `-`, nested by `/`.
_REGISTRY_NAMESPACE = r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"


class RegistryConfig(Section):
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
    languages: list[Language] = Field(
        ["python"],
        alias="functionLanguages",
        description="the languages whose images are built: python (always) and any of node, "
        "go, java (functions/<language>/Dockerfile)",
    )

    @property
    def other_languages(self) -> tuple[Literal["node", "go", "java"], ...]:
        """The languages besides Python to build an image of, in a fixed order."""
        return tuple(language for language in ("node", "go", "java") if language in self.languages)

    @property
    def mode(self) -> RegistryKind:
        """The registry in use: the explicit `registry`, else public once a namespace is set."""
        if self.kind is not None:
            return self.kind
        return "public" if self.namespace is not None else "none"

    @model_validator(mode="after")
    def _keys_fit_the_registry(self) -> RegistryConfig:
        mode = self.mode
        if "python" not in self.languages:
            raise ValueError(
                "functionLanguages must include python: the suite's image (registry.image) is "
                f"always built; got {self.languages}"
            )
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"functionLanguages names a language twice: {self.languages}")
        if mode == "none" and self.other_languages:
            raise ValueError(
                f"functionLanguages {self.languages} builds images, which need a registry: "
                "set registry public or private (or leave functionLanguages unset)"
            )
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


class OpenWhiskConfig(Section):
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
