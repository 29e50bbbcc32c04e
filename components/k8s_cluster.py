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
import yaml

from components.cluster_nodes import named_pool
from components.naming import Naming
from components.node_pool import PrivateNetwork
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


def rewrite_kubeconfig(kubeconfig: str, server_url: str, name: str) -> str:
    """Point k3s's admin kubeconfig (server 127.0.0.1) at an address that works from outside,
    and give its cluster, user and context a name of their own."""
    document = yaml.safe_load(kubeconfig)
    for cluster in document.get("clusters", []):
        cluster["cluster"]["server"] = server_url
        cluster["name"] = name
    for user in document.get("users", []):
        user["name"] = name
    for context in document.get("contexts", []):
        context["name"] = name
        context["context"]["cluster"] = name
        context["context"]["user"] = name
    document["current-context"] = name
    return yaml.safe_dump(document, sort_keys=False)


class K8sCluster(pulumi.ComponentResource):
    """`provider` deploys into the cluster; `kubeconfig` (secret) reaches it from outside."""

    def __init__(
        self, name: str, args: K8sClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:k8s:K8sCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        naming = args.naming
        network = args.network
        token = random.RandomPassword(f"{name}-token", length=48, special=False, opts=child)

        servers, [server_name] = named_pool(
            network,
            naming,
            f"{name}-server",
            role="manager",
            count=1,
            size=args.server_size,
            containers=True,
            parent=self,
        )
        workers, worker_names = named_pool(
            network,
            naming,
            f"{name}-agent",
            role="worker",
            count=args.worker_count,
            size=args.worker_size,
            containers=True,
            parent=self,
        )
        server = servers.machines[0]
        registries: pulumi.Input[str] = (
            pulumi.Output.from_input(args.private_registry).apply(k3s_registries)
            if args.private_registry is not None
            else ""
        )
        k3s = {
            "K3S_VERSION": args.k3s_version,
            "K3S_SHA256": args.k3s_sha256 or "",
            "REGISTRIES_YAML": registries,
        }
        server_step = machine_step(
            f"{name}-server-install",
            server,
            "k3s-server",
            params={
                **k3s,
                "NODE_NAME": server_name,
                "NODE_IP": server.private_ip,
                "TLS_SANS": [network.ssh.bastion_host, server.private_ip],
                "NODE_LABELS": [f"{ROLE_LABEL}=server", *args.server_labels],
                "NODE_TAINTS": [args.server_taint],
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={"K3S_TOKEN": token.result},
            parent=self,
        )
        forward = remote_step(
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
        server_url = server.private_ip.apply(lambda ip: f"https://{ip}:{API_PORT}")
        node_steps = []
        for machine, node_name in zip(workers.machines, worker_names, strict=True):
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
                secrets={"K3S_TOKEN": token.result},
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
        admin = machine_step(
            f"{name}-kubeconfig",
            server,
            "k3s-kubeconfig",
            secret_stdout=True,
            parent=self,
            depends_on=[server_step, *node_steps],
        )
        cluster_name = naming.name("k3s")
        # Waiting for the forward before handing out the external kubeconfig keeps the provider
        # from dialling the bastion before anything listens there.
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(admin.stdout, network.ssh.bastion_host, forward.id).apply(
                lambda v: rewrite_kubeconfig(v[0], f"https://{v[1]}:{API_PORT}", cluster_name)
            )
        )
        self.api_internal = server_url
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            opts=child,
        )
        self.storage_class = "local-path"
        self.managers = servers.private_ips
        self.workers = workers.private_ips
        self.server_taint = args.server_taint
        self.register_outputs(
            {
                "kubeconfig": self.kubeconfig,
                "api_internal": self.api_internal,
                "managers": self.managers,
                "workers": self.workers,
            }
        )
