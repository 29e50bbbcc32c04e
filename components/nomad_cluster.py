"""Nomad + Consul (+ Vault for function secrets): servers run the Consul and Nomad servers
(the first one Vault too); clients run a Consul client, a Nomad client and Docker with the CNI
plugins for bridge networking. Servers are not clients, so functions run on the workers only.

Every secret is generated with the cluster (`components.nomad_secrets`). Configuration files
holding them travel on stdin; the tokens are exported as secrets for the OpenFaaS provider.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.cluster_nodes import named_pool
from components.naming import Naming
from components.node_pool import Machine, NodePool, PrivateNetwork
from components.nomad_config import (
    CONSUL_AGENT_POLICY,
    NOMAD_HTTP,
    OPENFAAS_VAULT_POLICY,
    VAULT_HTTP,
    consul_config,
    nomad_config,
    vault_config,
)
from components.nomad_secrets import NomadSecrets, nomad_secrets
from components.registry_config import insecure_registries
from components.remote_step import machine_step, node_id_of, remote_step

READY_TIMEOUT_S = 600
#: Where a client keeps its node ID: <data_dir>/client/client-id (hashicorp/nomad
#: client/client.go, nodeID; data_dir is nomad_config's /opt/nomad/data).
NOMAD_CLIENT_ID_FILE = "/opt/nomad/data/client/client-id"


@dataclass(frozen=True)
class NomadClusterArgs:
    naming: Naming
    network: PrivateNetwork
    nomad_version: str
    consul_version: str
    vault_version: str
    docker_version: str
    containerd_version: str
    cni_version: str
    cni_sha256: str
    server_size: str
    server_count: int
    worker_size: str
    worker_count: int
    #: host:port of the stack's plain-HTTP registry, which every node's Docker must trust.
    private_registry: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class _Pools:
    servers: NodePool
    server_names: list[str]
    workers: NodePool
    worker_names: list[str]

    @property
    def first(self) -> Machine:
        """The first server: Vault, the ACL bootstraps and readiness checks run there."""
        return self.servers.machines[0]


@dataclass(frozen=True)
class _ControlPlane:
    consul_acl: remote.Command
    vault: remote.Command
    nomad_servers: list[remote.Command]
    bootstrap: remote.Command
    identities: remote.Command


class NomadCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NomadClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:nomad:NomadCluster", name, None, opts)
        secrets = nomad_secrets(name, parent=self)
        pools = self._pools(name, args)
        control = self._servers(name, args, pools, secrets)
        ready_steps = self._clients(name, args, pools, secrets, control)

        first = pools.first
        self.server_connection = first.connection
        self.server_instance_id = first.instance_id
        self.server_ip = first.private_ip
        self.address = first.private_ip.apply(lambda ip: f"http://{ip}:{NOMAD_HTTP}")
        self.token = secrets.nomad_management
        self.consul_address = first.private_ip.apply(lambda ip: f"http://{ip}:8500")
        self.consul_token = secrets.consul_management
        self.vault_address = first.private_ip.apply(lambda ip: f"http://{ip}:{VAULT_HTTP}")
        self.vault_token = secrets.vault_openfaas
        self.managers = pools.servers.private_ips
        self.workers = pools.workers.private_ips
        self.ready: list[pulumi.Resource] = [control.bootstrap, control.identities, *ready_steps]
        self.register_outputs(
            {
                "address": self.address,
                "managers": self.managers,
                "workers": self.workers,
            }
        )

    def _pools(self, name: str, args: NomadClusterArgs) -> _Pools:
        """The server machines and the client (worker) machines."""
        servers, server_names = named_pool(
            args.network,
            args.naming,
            f"{name}-server",
            role="manager",
            count=args.server_count,
            size=args.server_size,
            containers=False,
            parent=self,
        )
        workers, worker_names = named_pool(
            args.network,
            args.naming,
            f"{name}-client",
            role="worker",
            count=args.worker_count,
            size=args.worker_size,
            containers=True,
            parent=self,
        )
        return _Pools(servers, server_names, workers, worker_names)

    @staticmethod
    def _agent_configs(
        pools: _Pools,
        secrets: NomadSecrets,
        node_name: str,
        ip: pulumi.Output[str],
        server: bool,
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The (secret) Consul and Nomad agent configurations of one node."""
        values = pulumi.Output.all(
            ip, pools.servers.private_ips, secrets.agents, pools.first.private_ip
        )
        consul = values.apply(
            lambda v: consul_config(
                node_name=node_name, ip=v[0], server_ips=v[1], server=server, secrets=v[2]
            )
        )
        nomad = values.apply(
            lambda v: nomad_config(
                node_name=node_name,
                ip=v[0],
                server_ips=v[1],
                server=server,
                secrets=v[2],
                vault_ip=v[3],
            )
        )
        return pulumi.Output.secret(consul), pulumi.Output.secret(nomad)

    def _agent_step(
        self,
        name: str,
        machine: Machine,
        agent: str,
        config: pulumi.Output[str],
        depends_on: list[pulumi.Resource],
        extra: dict[str, str] | None = None,
    ) -> remote.Command:
        """The Consul or Nomad agent on `machine`, from its rendered (secret) config."""
        return machine_step(
            f"{name}-{machine.name}-{agent}",
            machine,
            f"{agent}-agent",
            params={
                "NODE_IP": machine.private_ip,
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
                **(extra or {}),
            },
            secrets={"CONFIG": config},
            parent=self,
            depends_on=depends_on,
        )

    def _servers(
        self, name: str, args: NomadClusterArgs, pools: _Pools, secrets: NomadSecrets
    ) -> _ControlPlane:
        """Servers: Consul, then (first server) ACLs and Vault, then Nomad and its ACLs."""
        first = pools.first
        packages = [f"nomad={args.nomad_version}", f"consul={args.consul_version}"]
        consul_servers = []
        server_installs = []
        for index, (machine, node_name) in enumerate(
            zip(pools.servers.machines, pools.server_names, strict=True)
        ):
            install = machine_step(
                f"{name}-{machine.name}-install",
                machine,
                "hashicorp-install",
                params={
                    "PACKAGES": [*packages, f"vault={args.vault_version}"]
                    if index == 0
                    else packages
                },
                parent=self,
            )
            server_installs.append(install)
            consul_hcl, _ = self._agent_configs(
                pools, secrets, node_name, machine.private_ip, server=True
            )
            consul_servers.append(self._agent_step(name, machine, "consul", consul_hcl, [install]))
        consul_acl = machine_step(
            f"{name}-consul-acl",
            first,
            "consul-acl",
            params={
                "NODE_IP": first.private_ip,
                "POLICY_RULES": CONSUL_AGENT_POLICY,
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={
                "MANAGEMENT_TOKEN": secrets.consul_management,
                "AGENT_ACCESSOR": secrets.consul_agent_accessor,
                "AGENT_SECRET": secrets.consul_agent_secret,
            },
            parent=self,
            depends_on=consul_servers,
        )
        vault = machine_step(
            f"{name}-vault",
            first,
            "vault-server",
            params={"NODE_IP": first.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
            secrets={
                "CONFIG": first.private_ip.apply(vault_config),
                "OPENFAAS_TOKEN": secrets.vault_openfaas,
                "POLICY": OPENFAAS_VAULT_POLICY,
            },
            parent=self,
            depends_on=[server_installs[0]],
        )
        nomad_servers = []
        for machine, node_name in zip(pools.servers.machines, pools.server_names, strict=True):
            _, nomad_hcl = self._agent_configs(
                pools, secrets, node_name, machine.private_ip, server=True
            )
            nomad_servers.append(
                self._agent_step(
                    name,
                    machine,
                    "nomad",
                    nomad_hcl,
                    [consul_acl, vault],
                    {"NODE_NAME": node_name, "NODE_ID_FILE": ""},
                )
            )
        bootstrap = machine_step(
            f"{name}-nomad-acl",
            first,
            "nomad-acl-bootstrap",
            params={"NODE_IP": first.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
            secrets={"BOOTSTRAP_SECRET": secrets.nomad_management},
            parent=self,
            depends_on=nomad_servers,
        )
        identities = machine_step(
            f"{name}-workload-identity",
            first,
            "nomad-workload-identity",
            params={"NODE_IP": first.private_ip},
            secrets={"CONSUL_TOKEN": secrets.consul_management},
            parent=self,
            depends_on=[bootstrap, vault],
        )
        return _ControlPlane(consul_acl, vault, nomad_servers, bootstrap, identities)

    def _clients(
        self,
        name: str,
        args: NomadClusterArgs,
        pools: _Pools,
        secrets: NomadSecrets,
        control: _ControlPlane,
    ) -> list[remote.Command]:
        """Clients: Docker, CNI, Consul client, Nomad client; each one's readiness checked from
        the first server. Returns the readiness steps."""
        first = pools.first
        packages = [f"nomad={args.nomad_version}", f"consul={args.consul_version}"]
        ready_steps = []
        for machine, node_name in zip(pools.workers.machines, pools.worker_names, strict=True):
            install = machine_step(
                f"{name}-{machine.name}-install",
                machine,
                "hashicorp-install",
                params={"PACKAGES": packages},
                parent=self,
            )
            docker = machine_step(
                f"{name}-{machine.name}-docker",
                machine,
                "docker-install",
                params={
                    "DOCKER_VERSION": args.docker_version,
                    "CONTAINERD_VERSION": args.containerd_version,
                    "MTU": args.network.mtu,
                    "INSECURE_REGISTRIES": insecure_registries(args.private_registry),
                },
                parent=self,
                depends_on=[install],
            )
            cni = machine_step(
                f"{name}-{machine.name}-cni",
                machine,
                "cni-install",
                params={"CNI_VERSION": args.cni_version, "CNI_SHA256": args.cni_sha256},
                parent=self,
                depends_on=[install],
            )
            consul_hcl, nomad_hcl = self._agent_configs(
                pools, secrets, node_name, machine.private_ip, server=False
            )
            consul_client = self._agent_step(
                name, machine, "consul", consul_hcl, [install, control.consul_acl]
            )
            nomad_client = self._agent_step(
                name,
                machine,
                "nomad",
                nomad_hcl,
                [docker, cni, consul_client, *control.nomad_servers],
                {"NODE_NAME": node_name, "NODE_ID_FILE": NOMAD_CLIENT_ID_FILE},
            )
            # The node ID the client registered with: a replaced machine's old node stays
            # listed (down) under the same name, so readiness and purging go by ID.
            node_id = nomad_client.stdout.apply(node_id_of)
            ready_steps.append(
                remote_step(
                    f"{name}-{machine.name}-ready",
                    connection=first.connection,
                    step="nomad-node-ready",
                    params={
                        "SERVER_IP": first.private_ip,
                        "NODE_ID": node_id,
                        "NODE_NAME": node_name,
                        "READY_TIMEOUT_S": READY_TIMEOUT_S,
                    },
                    secrets={"NOMAD_TOKEN": secrets.nomad_management},
                    delete_step="nomad-node-remove",
                    delete_params={
                        "SERVER_IP": first.private_ip,
                        "NODE_ID": node_id,
                        "NODE_NAME": node_name,
                        "TOKEN_FILE": "/etc/nomad.d/faasbench-management.token",
                    },
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[nomad_client, control.bootstrap],
                    # A replaced client's node goes (purge) before its successor registers.
                    delete_before_replace=True,
                    deleted_with=first.instance,
                )
            )
        return ready_steps
