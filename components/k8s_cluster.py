"""Kubernetes with k3s: one server and N agents on node pools, set up through the bastion.

The Pulumi process runs on the user's machine, outside the private network, so the API is
forwarded on the bastion (port 6443, reachable from `allowedSshCidrs` only, with the bastion's
address in the server certificate); the load generator runs inside the network and uses the
server's private address. Functions run on agents only: the server carries a NoSchedule taint
that only control components (OpenWhisk core, monitoring) tolerate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_command import remote

from components.cluster_nodes import named_pool
from components.k8s_cluster_config import rewrite_kubeconfig
from components.naming import Naming
from components.node_pool import Machine, NodePool, PrivateNetwork
from components.registry_config import k3s_registries
from components.remote_step import machine_step, node_id_of, remote_step

API_PORT = 6443
#: Keeps function pods off the server, so every platform runs functions on the same hosts.
SERVER_TAINT = "faasbench.io/control-plane=true:NoSchedule"
ROLE_LABEL = "faasbench.io/role"
READY_TIMEOUT_S = 900


@dataclass(frozen=True)
class K8sClusterArgs:
    naming: Naming
    network: PrivateNetwork
    k3s_version: str
    k3s_sha256: str | None
    server_size: str
    worker_size: str
    worker_count: int
    server_labels: Sequence[str]
    worker_labels: Sequence[str]
    server_taint: str = SERVER_TAINT
    """Keeps functions off the server; OpenWhisk stacks use the taint its chart tolerates."""
    private_registry: pulumi.Input[str] | None = None
    """host:port of the stack's plain-HTTP registry, which every node's containerd must trust."""


@dataclass(frozen=True)
class _Pools:
    servers: NodePool
    server_name: str
    workers: NodePool
    worker_names: list[str]

    @property
    def server(self) -> Machine:
        """The one server: k3s's API, the agents' readiness and the kubeconfig come from it."""
        return self.servers.machines[0]


class K8sCluster(pulumi.ComponentResource):
    """`provider` deploys into the cluster; `kubeconfig` (secret) reaches it from outside."""

    def __init__(
        self, name: str, args: K8sClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:k8s:K8sCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        token = random.RandomPassword(f"{name}-token", length=48, special=False, opts=child)
        pools = self._pools(name, args)
        k3s = self._k3s_params(args)
        server_step = self._server(name, args, pools, k3s, token.result)
        forward = self._api_forward(name, args, pools.server, server_step)
        server_url = pools.server.private_ip.apply(lambda ip: f"https://{ip}:{API_PORT}")
        node_steps = self._agents(name, args, pools, k3s, token.result, server_step, server_url)

        self.kubeconfig = self._kubeconfig(
            name, args, pools.server, [server_step, *node_steps], forward
        )
        self.api_internal = server_url
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            opts=child,
        )
        self.storage_class = "local-path"
        self.managers = pools.servers.private_ips
        self.workers = pools.workers.private_ips
        self.server_taint = args.server_taint
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "api_internal": self.api_internal,
                "managers": self.managers,
                "workers": self.workers,
            }
        )

    def _pools(self, name: str, args: K8sClusterArgs) -> _Pools:
        """The server machine and the agent (worker) machines."""
        servers, [server_name] = named_pool(
            args.network,
            args.naming,
            f"{name}-server",
            role="manager",
            count=1,
            size=args.server_size,
            containers=True,
            parent=self,
        )
        workers, worker_names = named_pool(
            args.network,
            args.naming,
            f"{name}-agent",
            role="worker",
            count=args.worker_count,
            size=args.worker_size,
            containers=True,
            parent=self,
        )
        return _Pools(servers, server_name, workers, worker_names)

    @staticmethod
    def _k3s_params(args: K8sClusterArgs) -> dict[str, pulumi.Input[str]]:
        """What the server and every agent install: k3s, and the registries it trusts."""
        registries: pulumi.Input[str] = (
            pulumi.Output.from_input(args.private_registry).apply(k3s_registries)
            if args.private_registry is not None
            else ""
        )
        return {
            "K3S_VERSION": args.k3s_version,
            "K3S_SHA256": args.k3s_sha256 or "",
            "REGISTRIES_YAML": registries,
        }

    def _server(
        self,
        name: str,
        args: K8sClusterArgs,
        pools: _Pools,
        k3s: dict[str, pulumi.Input[str]],
        token: pulumi.Output[str],
    ) -> remote.Command:
        """The k3s server, tainted so that functions stay off it."""
        server = pools.server
        return machine_step(
            f"{name}-server-install",
            server,
            "k3s-server",
            params={
                **k3s,
                "NODE_NAME": pools.server_name,
                "NODE_IP": server.private_ip,
                "TLS_SANS": [args.network.ssh.bastion_host, server.private_ip],
                "NODE_LABELS": [f"{ROLE_LABEL}=server", *args.server_labels],
                "NODE_TAINTS": [args.server_taint],
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={"K3S_TOKEN": token},
            parent=self,
        )

    def _api_forward(
        self, name: str, args: K8sClusterArgs, server: Machine, server_step: remote.Command
    ) -> remote.Command:
        """The API forwarded on the bastion, for the Pulumi process outside the network."""
        network = args.network
        return remote_step(
            f"{name}-api-forward",
            connection=network.ssh.bastion(),
            step="tcp-forward",
            params={
                "NAME": "kube-api",
                "LISTEN_PORT": API_PORT,
                "TARGET": server.private_ip.apply(lambda ip: f"{ip}:{API_PORT}"),
            },
            delete_step="tcp-forward-remove",
            delete_params={"NAME": "kube-api"},
            triggers=[server.instance_id],
            parent=self,
            depends_on=[server_step],
            # Replaced (a new server): the old forward's removal must not follow the new one's
            # creation, which writes the same unit. Gone with the bastion on destroy.
            delete_before_replace=True,
            deleted_with=network.bastion_instance,
        )

    def _agents(
        self,
        name: str,
        args: K8sClusterArgs,
        pools: _Pools,
        k3s: dict[str, pulumi.Input[str]],
        token: pulumi.Output[str],
        server_step: remote.Command,
        server_url: pulumi.Output[str],
    ) -> list[remote.Command]:
        """Each agent joined to the server, its readiness checked from the server. Returns the
        readiness steps."""
        server = pools.server
        node_steps = []
        for machine, node_name in zip(pools.workers.machines, pools.worker_names, strict=True):
            agent_step = machine_step(
                f"{name}-{machine.name}-install",
                machine,
                "k3s-agent",
                params={
                    **k3s,
                    "SERVER_URL": server_url,
                    "NODE_NAME": node_name,
                    "NODE_IP": machine.private_ip,
                    "NODE_LABELS": [f"{ROLE_LABEL}=worker", *args.worker_labels],
                    "NODE_TAINTS": [],
                    "READY_TIMEOUT_S": READY_TIMEOUT_S,
                },
                secrets={"K3S_TOKEN": token},
                parent=self,
                depends_on=[server_step],
            )
            # The Node's uid, as the agent registered it: readiness and removal address it.
            node_uid = agent_step.stdout.apply(node_id_of)
            node_steps.append(
                remote_step(
                    f"{name}-{machine.name}-ready",
                    connection=server.connection,
                    step="k3s-node-ready",
                    params={
                        "NODE_NAME": node_name,
                        "NODE_UID": node_uid,
                        "READY_TIMEOUT_S": READY_TIMEOUT_S,
                    },
                    delete_step="k3s-node-remove",
                    delete_params={"NODE_NAME": node_name, "NODE_UID": node_uid},
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[agent_step],
                    # A replaced worker's node goes (delete) before its successor joins.
                    delete_before_replace=True,
                    deleted_with=server.instance,
                )
            )
        return node_steps

    def _kubeconfig(
        self,
        name: str,
        args: K8sClusterArgs,
        server: Machine,
        depends_on: list[pulumi.Resource],
        forward: remote.Command,
    ) -> pulumi.Output[str]:
        """The admin kubeconfig (secret), read back once every node is ready and pointed at
        the forward on the bastion."""
        network = args.network
        admin = machine_step(
            f"{name}-kubeconfig",
            server,
            "k3s-kubeconfig",
            secret_stdout=True,
            parent=self,
            depends_on=depends_on,
        )
        cluster_name = args.naming.name("k3s")
        # Waiting for the forward before handing out the external kubeconfig keeps the provider
        # from dialling the bastion before anything listens there.
        return pulumi.Output.secret(
            pulumi.Output.all(admin.stdout, network.ssh.bastion_host, forward.id).apply(
                lambda v: rewrite_kubeconfig(v[0], f"https://{v[1]}:{API_PORT}", cluster_name)
            )
        )
