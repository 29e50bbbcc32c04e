"""The cloud-neutral node pool: N machines of one role and size in the private network.

Cluster components receive a `NodePoolFactory` and never import a cloud SDK: the AWS and
OpenStack networks each implement the factory, and everything else is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

import pulumi
from pulumi_command import remote

from components.naming import Naming
from components.ssh_access import SshAccess

#: The security group a pool's machines carry: `private` (everything from inside the network)
#: or `loader` (SSH from the bastion, the loader ports from loaders and the bastion only).
PoolGroup = Literal["private", "loader"]


@dataclass(frozen=True)
class NodePoolArgs:
    """What a pool is: `count` machines of `role` and `size` booting `user_data`, in the
    security group `group`.

    `user_data` is one document for every machine, or one per machine (len == count).
    """

    role: str
    count: int
    size: str
    user_data: pulumi.Input[str] | Sequence[pulumi.Input[str]]
    group: PoolGroup = "private"

    def user_data_for(self, index: int) -> pulumi.Input[str]:
        if isinstance(self.user_data, str | pulumi.Output):
            return self.user_data
        if len(self.user_data) != self.count:
            raise ValueError(
                f"node pool {self.role}: {len(self.user_data)} user data documents "
                f"for {self.count} machines"
            )
        return self.user_data[index]


@dataclass(frozen=True)
class Machine:
    """One machine of a pool, and how remote steps reach it.

    `instance` is the cloud's instance resource: steps that run on the machine are
    `deleted_with` it (nothing to undo on a machine that is itself being deleted).
    """

    name: str
    instance_id: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    connection: remote.ConnectionArgs
    instance: pulumi.CustomResource


class NodePool(pulumi.ComponentResource):
    """Base of the cloud implementations: they create machines, this publishes them."""

    machines: list[Machine]
    private_ips: pulumi.Output[list[str]]

    def _publish(self, machines: list[Machine]) -> None:
        self.machines = machines
        self.private_ips = pulumi.Output.all(*[m.private_ip for m in machines]).apply(list)
        self.register_outputs(
            {
                "private_ips": self.private_ips,
                "instance_ids": [m.instance_id for m in machines],
            }
        )


@dataclass(frozen=True)
class ForwardedPort:
    """A TCP port the bastion forwards (e.g. the Kubernetes API), open to `cidrs` only;
    `source_key` is the configuration key those ranges come from (named in rule descriptions)."""

    port: int
    cidrs: Sequence[str]
    source_key: str


#: A cloud's security group type (each cloud's rules name their source group).
G = TypeVar("G")


@dataclass(frozen=True)
class LoaderPorts:
    """The TCP ports of the loader pool (Dask's scheduler port and its workers' range), which
    its security group opens to the pool's own machines and the bastion, nobody else."""

    scheduler: int
    workers_first: int
    workers_last: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first, last) of each opened range: the scheduler's port, the workers' range."""
        return [(self.scheduler, self.scheduler), (self.workers_first, self.workers_last)]

    def openings(self, loaders: G, bastion: G) -> list[LoaderOpening[G]]:
        """Every ingress rule of the loaders' group, on any cloud: SSH from the bastion, each
        range from the loaders and from the bastion."""
        return [LoaderOpening(22, 22, "bastion", bastion)] + [
            LoaderOpening(first, last, source, group)
            for first, last in self.ranges()
            for source, group in (("loaders", loaders), ("bastion", bastion))
        ]


@dataclass(frozen=True)
class LoaderOpening(Generic[G]):
    """One ingress rule of the loaders' group: a port range from another group."""

    first: int
    last: int
    source: str
    group: G

    @property
    def span(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def resource_name(self, name: str) -> str:
        """The rule's resource name under the network `name` (the same on every cloud)."""
        return f"{name}-loader-{'ssh' if self.first == 22 else self.span}-from-{self.source}"

    @property
    def description(self) -> str:
        return f"port {self.span} from the {self.source}"


def missing_loader_group(role: str) -> ValueError:
    """The error of a `loader` pool in a network made without `loader_ports`."""
    return ValueError(
        f"node pool {role}: the loader security group exists only when the network is "
        "given loader_ports"
    )


@dataclass(frozen=True, kw_only=True)
class BastionNetworkArgs:
    """What every cloud's network + bastion takes; each cloud adds its own section."""

    naming: Naming
    allowed_ssh_cidrs: Sequence[str]
    ssh_user: str
    public_key_openssh: pulumi.Input[str]
    private_key: pulumi.Output[str]
    bastion_size: str
    volume_size_gb: int
    mtu: int | None = None
    #: Further TCP ports the bastion forwards, each open to its own ranges.
    bastion_forwarded_ports: Sequence[ForwardedPort] = ()
    #: TCP ports of services on the bastion itself that the private machines use (the stack's
    #: registry), open to the network's own range only.
    bastion_private_ports: Sequence[int] = ()
    #: With a loader pool: its ports, and the security group its machines carry (pools with
    #: `group="loader"`); None makes no such group.
    loader_ports: LoaderPorts | None = None


class NodePoolFactory(Protocol):
    """Creates a pool in the stack's private network (implemented per cloud)."""

    def __call__(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> NodePool: ...


class PrivateNetwork(Protocol):
    """What later components need from a cloud's network + bastion."""

    ssh: SshAccess
    bastion_instance_id: pulumi.Output[str]
    #: The bastion's instance resource (steps on the bastion are `deleted_with` it).
    bastion_instance: pulumi.CustomResource
    bastion_private_ip: pulumi.Output[str]
    private_cidr: pulumi.Output[str]
    mtu: pulumi.Output[int]
    image: pulumi.Output[str]

    def node_pool(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> NodePool: ...

    def memory_mib(self, size: str) -> pulumi.Output[int]:
        """The memory of a machine of `size` (instance type, flavor), from the cloud's API."""
        ...
