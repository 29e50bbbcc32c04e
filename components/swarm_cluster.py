"""Docker Swarm: Docker CE (pinned 28.x: Docker 29 raised the minimum API version and breaks
the last OpenFaaS Swarm provider) on every node, one manager, workers joined with a token read
back as a secret. Managers are labelled `faasbench.role=manager` and workers
`faasbench.role=worker`: functions are deployed with the worker constraint, so they run on the
same number of hosts as on the other orchestrators.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.cluster_nodes import named_pool
from components.naming import Naming
from components.node_pool import Machine, NodePool, PrivateNetwork
from components.registry_config import insecure_registries
from components.remote_step import ParamValue, machine_step, node_id_of, remote_step

READY_TIMEOUT_S = 600
WORKER_CONSTRAINT = "node.labels.faasbench.role == worker"


@dataclass(frozen=True)
class SwarmClusterArgs:
    naming: Naming
    network: PrivateNetwork
    docker_version: str
    containerd_version: str
    manager_size: str
    worker_size: str
    worker_count: int
    #: host:port of the stack's plain-HTTP registry, which every node's Docker must trust.
    private_registry: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class _Pools:
    managers: NodePool
    manager_name: str
    workers: NodePool
    worker_names: list[str]

    @property
    def manager(self) -> Machine:
        """The one manager: the swarm is initialised there and its workers checked from it."""
        return self.managers.machines[0]


@dataclass(frozen=True)
class _Swarm:
    init: remote.Command
    #: The workers' join token (secret).
    token: pulumi.Output[str]


class SwarmCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: SwarmClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:swarm:SwarmCluster", name, None, opts)
        pools = self._pools(name, args)
        docker = self._docker_params(args)
        swarm = self._manager(name, args, pools, docker)
        ready_steps = self._workers(name, pools, docker, swarm)

        manager = pools.manager
        self.manager_connection = manager.connection
        self.manager_instance_id = manager.instance_id
        self.mtu = args.network.mtu
        self.manager_ip = manager.private_ip
        self.managers = pools.managers.private_ips
        self.workers = pools.workers.private_ips
        #: Later components depend on these: every node joined and Ready.
        self.ready: list[pulumi.Resource] = [swarm.init, *ready_steps]
        self.register_outputs(
            {"manager": self.manager_ip, "managers": self.managers, "workers": self.workers}
        )

    def _pools(self, name: str, args: SwarmClusterArgs) -> _Pools:
        """The manager machine and the worker machines."""
        managers, [manager_name] = named_pool(
            args.network,
            args.naming,
            f"{name}-manager",
            role="manager",
            count=1,
            size=args.manager_size,
            containers=True,
            parent=self,
        )
        workers, worker_names = named_pool(
            args.network,
            args.naming,
            f"{name}-worker",
            role="worker",
            count=args.worker_count,
            size=args.worker_size,
            containers=True,
            parent=self,
        )
        return _Pools(managers, manager_name, workers, worker_names)

    @staticmethod
    def _docker_params(args: SwarmClusterArgs) -> dict[str, pulumi.Input[ParamValue]]:
        """What every node's Docker install is given: versions, MTU, trusted registries."""
        return {
            "DOCKER_VERSION": args.docker_version,
            "CONTAINERD_VERSION": args.containerd_version,
            "MTU": args.network.mtu,
            "INSECURE_REGISTRIES": insecure_registries(args.private_registry),
        }

    def _manager(
        self,
        name: str,
        args: SwarmClusterArgs,
        pools: _Pools,
        docker: dict[str, pulumi.Input[ParamValue]],
    ) -> _Swarm:
        """Docker on the manager, the swarm initialised there, and its join token read back."""
        manager = pools.manager
        manager_docker = machine_step(
            f"{name}-{manager.name}-docker",
            manager,
            "docker-install",
            params=docker,
            parent=self,
        )
        init = machine_step(
            f"{name}-init",
            manager,
            "swarm-init",
            params={
                "NODE_NAME": pools.manager_name,
                "NODE_IP": manager.private_ip,
                "MTU": args.network.mtu,
            },
            parent=self,
            depends_on=[manager_docker],
        )
        join_token = machine_step(
            f"{name}-join-token",
            manager,
            "swarm-join-token",
            secret_stdout=True,
            parent=self,
            depends_on=[init],
        )
        return _Swarm(init, pulumi.Output.secret(join_token.stdout.apply(str.strip)))

    def _workers(
        self,
        name: str,
        pools: _Pools,
        docker: dict[str, pulumi.Input[ParamValue]],
        swarm: _Swarm,
    ) -> list[remote.Command]:
        """Docker on each worker, the worker joined, its readiness checked from the manager.
        Returns the readiness steps."""
        manager = pools.manager
        ready_steps = []
        for machine, node_name in zip(pools.workers.machines, pools.worker_names, strict=True):
            worker_docker = machine_step(
                f"{name}-{machine.name}-docker",
                machine,
                "docker-install",
                params=docker,
                parent=self,
            )
            join = machine_step(
                f"{name}-{machine.name}-join",
                machine,
                "swarm-join",
                params={
                    "NODE_NAME": node_name,
                    "NODE_IP": machine.private_ip,
                    "MANAGER_IP": manager.private_ip,
                    "READY_TIMEOUT_S": READY_TIMEOUT_S,
                },
                secrets={"SWARM_TOKEN": swarm.token},
                delete_step="swarm-leave",
                also_triggered_by=[manager.instance_id],
                parent=self,
                depends_on=[worker_docker, swarm.init],
            )
            # The swarm ID the worker joined as: a replaced machine's old node stays listed
            # (Down) under the same name, so readiness, labels and removal go by ID.
            node_id = join.stdout.apply(node_id_of)
            ready_steps.append(
                remote_step(
                    f"{name}-{machine.name}-ready",
                    connection=manager.connection,
                    step="swarm-node-ready",
                    params={
                        "NODE_ID": node_id,
                        "NODE_NAME": node_name,
                        "READY_TIMEOUT_S": READY_TIMEOUT_S,
                    },
                    delete_step="swarm-node-remove",
                    delete_params={"NODE_ID": node_id, "NODE_NAME": node_name},
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[join],
                    # A replaced worker's node goes (delete) before its successor joins.
                    delete_before_replace=True,
                    deleted_with=manager.instance,
                )
            )
        return ready_steps
