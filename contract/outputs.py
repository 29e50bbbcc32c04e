"""The stack output contract: what `pulumi up` exports and `loadgen` reads.

Keys are an API: add, never rename. The Pulumi program checks every key it exports against
`StackOutputs` (see `stacks.export`), and the load generator parses `pulumi stack output --json
--show-secrets` (or the local target's outputs.json) with the same model, so the two sides cannot
drift apart. Fields typed `SecretStr` are exported as Pulumi secrets.

This module imports nothing from Pulumi: the load generator uses it on machines without it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from contract.keda import Keda
from contract.knative import Knative

Cloud = Literal["aws", "openstack", "existing", "local"]
Orchestrator = Literal["k8s", "swarm", "nomad", "local"]
Framework = Literal["openfaas", "openwhisk", "keda", "knative"]
PrometheusKind = Literal["kube-prometheus-stack", "openfaas-bundled", "local"]
CpuCredits = Literal["standard", "unlimited"]


class _Section(BaseModel):
    """A nested object of the contract. Unknown keys are kept: newer stacks may add some."""

    model_config = ConfigDict(frozen=True, extra="allow")


class SshHost(_Section):
    """An SSH endpoint: the bastion (public address) or the loader."""

    host: str
    user: str


class Machines(_Section):
    """What the machines are, so a campaign manifest can record it (instance types, credits)."""

    image: str = Field(description="AMI id or OpenStack image id the machines boot from")
    sizes: dict[str, str] = Field(description="role -> instance type / flavor")
    cpu_credits: dict[str, CpuCredits | None] = Field(
        description="role -> CPU credit mode for burstable AWS types, null where not burstable"
    )


class OpenFaasLimits(_Section):
    max_functions: int | None = Field(description="null: no limit")
    max_replicas: int | None = Field(description="per function; null: no limit")
    scale_to_zero: bool
    idler: bool


class OpenFaasVersions(_Section):
    gateway: str
    provider: str


class OpenFaas(_Section):
    url: str
    username: str
    password: SecretStr
    namespace: str | None = Field(description="function namespace; null where there are none")
    limits: OpenFaasLimits
    versions: OpenFaasVersions


class OpenWhiskCapacity(_Section):
    invokers: int
    user_memory_mb: int
    containers_per_invoker: int = Field(
        description="warm 256 MB containers per invoker; a user sweep past invokers × this queues"
    )


class OpenWhisk(_Section):
    api_host: str
    auth: SecretStr
    namespace: str
    insecure_tls: bool
    idle_timeout_s: float
    versions: dict[str, str] | None = Field(
        None, description="images tag and chart commit, for reports"
    )
    capacity: OpenWhiskCapacity | None = None


class Prometheus(_Section):
    url: str
    kind: PrometheusKind


class Ftp(_Section):
    host: str
    port: int
    user: str
    password: SecretStr
    test_file: str
    test_file_bytes: int
    test_file_sha256: str
    max_clients: int | None = Field(
        None, description="concurrent sessions the server accepts (absent: an older stack)"
    )


class ObjectStorage(_Section):
    """The S3-compatible server `thumbnail` reads its inputs from and writes its results to,
    reached with path-style requests, from the functions' network only."""

    endpoint: str = Field(description="http://host:port as functions reach it")
    bucket: str
    region: str = Field(description="the region requests are signed for")
    access_key: str
    secret_key: SecretStr
    input_sizes: list[int] = Field(description="sizes seeded as inputs/<size>.ppm")
    kind: str = Field(description="the server: versitygw, or local (the local target's)")


class Nomad(_Section):
    """Nomad's API and management token, and what jsiebens/faas-nomad needs besides."""

    address: str
    token: SecretStr
    consul_address: str
    consul_token: SecretStr
    vault_address: str
    vault_token: SecretStr = Field(description="scoped to function secrets (openfaas-fn/)")


class Swarm(_Section):
    manager: str


class Nodes(_Section):
    managers: list[str]
    workers: list[str]


class Registry(_Section):
    url: str
    image: str = Field(description="the Python suite's image (functions/Dockerfile)")
    images: dict[str, str] = Field(
        default_factory=dict,
        description="the image of each other language built (functionLanguages), by language; "
        "absent on a Python-only stack",
    )


class PortRange(_Section):
    """TCP ports `first` to `last`, both included."""

    first: int = Field(ge=1, le=65535)
    last: int = Field(ge=1, le=65535)

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.last < self.first:
            raise ValueError(f"port range {self.first}-{self.last}: last is below first")
        return self

    def dask(self) -> str:
        """The range as `dask worker --worker-port` takes it (`first:last`)."""
        return f"{self.first}:{self.last}"


class Loaders(_Section):
    """The stack's loader pool (`loaderCount` machines in the private network): Dask runs its
    scheduler on the first and one worker on each, over TLS, started by `loadgen --loaders
    stack` through the bastion."""

    hosts: list[SshHost] = Field(min_length=1, description="private addresses, SSH user")
    scheduler: str = Field(description="tls://<first loader>:<port>, the Dask scheduler")
    worker_ports: PortRange = Field(description="the ports Dask workers listen on")

    @model_validator(mode="after")
    def _scheduler_on_the_first(self) -> Loaders:
        scheme, _, rest = self.scheduler.partition("://")
        host, _, port = rest.rpartition(":")
        if scheme != "tls" or host != self.hosts[0].host or not port.isdigit():
            raise ValueError(
                f"loaders.scheduler {self.scheduler!r} must be tls://<first loader's host>:<port>"
            )
        return self

    @property
    def scheduler_port(self) -> int:
        return int(self.scheduler.rpartition(":")[2])


#: Where the campaign's callback receiver listens on the loader (`run --remote`): the port the
#: stack opens on the loader to its private network, for asynchronous calls' results.
CALLBACK_PORT = 8099


class Callback(_Section):
    """The loader's callback endpoint: the functions' platform POSTs asynchronous calls'
    results to `http://<host>:<port>/...` where `loadgen run --remote` listens."""

    host: str = Field(description="the loader's private address, reachable from the cluster")
    port: int = Field(CALLBACK_PORT, ge=1, le=65535, description="opened to the private network")


class StackOutputs(BaseModel):
    """Every key a faasbench stack may export. Only the first three are always present."""

    model_config = ConfigDict(frozen=True, extra="allow")

    cloud: Cloud
    orchestrator: Orchestrator
    framework: Framework
    expires_at: str | None = Field(
        None, description="when the stack is due to go (faasbench:expires-at), or none"
    )
    bastion: SshHost | None = Field(None, description="absent for cloud: existing")
    ssh_private_key: SecretStr | None = Field(
        None, description="OpenSSH private key reaching the bastion and, through it, every machine"
    )
    machines: Machines | None = None
    loader: SshHost | None = Field(None, description="where campaigns run (bastion by default)")
    callback: Callback | None = Field(
        None, description="where the loader receives asynchronous results (OpenFaaS stacks)"
    )
    gateway_url: str | None = Field(None, description="HAProxy front for function traffic")
    openfaas: OpenFaas | None = None
    openwhisk: OpenWhisk | None = None
    knative: Knative | None = None
    prometheus: Prometheus | None = None
    grafana_url: str | None = None
    grafana_password: SecretStr | None = None
    ftp: Ftp | None = None
    object_storage: ObjectStorage | None = Field(
        None, description="S3-compatible storage for thumbnail (absent unless objectStorage)"
    )
    kubeconfig: SecretStr | None = Field(None, description="reachable from the user's machine")
    kube_api_internal: str | None = Field(None, description="in-network API endpoint for loader")
    nomad: Nomad | None = None
    swarm: Swarm | None = None
    nodes: Nodes | None = None
    registry: Registry | None = None
    loaders: Loaders | None = Field(
        None, description="the loader pool and its Dask scheduler (absent: loaderCount 0)"
    )
    keda: Keda | None = None


def secret_paths(
    model: type[BaseModel] = StackOutputs, prefix: tuple[str, ...] = ()
) -> set[tuple[str, ...]]:
    """Paths (tuples of keys) of every `SecretStr` field, nested sections included."""
    paths: set[tuple[str, ...]] = set()
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        for candidate in _annotation_types(field.annotation):
            if candidate is SecretStr:
                paths.add(path)
            elif isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths |= secret_paths(candidate, path)
    return paths


def _annotation_types(annotation: object) -> list[object]:
    args = getattr(annotation, "__args__", None)
    if args is None:
        return [annotation]
    return [t for arg in args for t in _annotation_types(arg)]
