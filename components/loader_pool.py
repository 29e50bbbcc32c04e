"""The loader pool: `loaderCount` machines in the private network that generate load together
(Dask distributed: the scheduler on the first, one worker on each, started by `loadgen
--loaders stack` over SSH through the bastion, with TLS certificates made for that run).

The machines carry the network's loader security group (SSH from the bastion; Dask's ports
from the loaders and the bastion only, `LOADER_PORTS`). Cloud-init installs chrony, Python 3
and venv; a remote step per machine waits for that setup and checks it, so `pulumi up` ends
with loaders ready for the wheel. Nothing of faasbench is installed here: the load generator
installs the wheel of the tree it runs from at run time, so a code change needs no `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.cloud_init import loader_cloud_config
from components.naming import Naming
from components.node_pool import LoaderPorts, NodePoolArgs, PrivateNetwork
from components.remote_step import machine_step

#: Dask's default scheduler port, and a fixed range for the workers (one per loader; a range
#: so that a worker restarted while its old port lingers finds another). 8787, Dask's
#: dashboard, stays closed: the pool runs without dashboards.
LOADER_PORTS = LoaderPorts(scheduler=8786, workers_first=8788, workers_last=8795)
#: The oldest python3 the loader package supports (pyproject's requires-python).
MIN_PYTHON = "3.11"


@dataclass(frozen=True)
class LoaderPoolArgs:
    naming: Naming
    network: PrivateNetwork
    count: int
    size: str
    ports: LoaderPorts = LOADER_PORTS


class LoaderPool(pulumi.ComponentResource):
    """`count` loaders; `outputs` is the contract's `loaders` section."""

    def __init__(
        self, name: str, args: LoaderPoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:loadgen:LoaderPool", name, None, opts)
        if args.count < 1:
            raise ValueError(f"loader pool {name}: count {args.count}, at least 1")
        child = pulumi.ResourceOptions(parent=self)
        pool = args.network.node_pool(
            f"{name}-machines",
            NodePoolArgs(
                role="loader",
                count=args.count,
                size=args.size,
                user_data=[
                    loader_cloud_config(args.naming.name(f"loader-{index}"))
                    for index in range(args.count)
                ],
                group="loader",
            ),
            opts=child,
        )
        ready = [
            machine_step(
                f"{name}-ready-{index}",
                machine,
                "loader-ready",
                params={"MIN_PYTHON": MIN_PYTHON},
                parent=self,
            )
            for index, machine in enumerate(pool.machines)
        ]
        # Handed out once every loader is ready.
        self.hosts: pulumi.Output[list[str]] = pulumi.Output.all(
            pool.private_ips, *[step.id for step in ready]
        ).apply(lambda values: list(values[0]))
        user = args.network.ssh.user
        ports = args.ports
        self.outputs: pulumi.Output[dict[str, object]] = self.hosts.apply(
            lambda hosts: {
                "hosts": [{"host": host, "user": user} for host in hosts],
                "scheduler": f"tls://{hosts[0]}:{ports.scheduler}",
                "worker_ports": {"first": ports.workers_first, "last": ports.workers_last},
            }
        )
        self.register_outputs({"hosts": self.hosts})
