"""Nomad + Consul (+ Vault for function secrets): servers run the Consul and Nomad servers
(the first one Vault too); clients run a Consul client, a Nomad client and Docker with the CNI
plugins for bridge networking. Servers are not clients, so functions run on the workers only.

Every secret is generated here: gossip keys, the Consul management and agent tokens, Nomad's
ACL bootstrap secret and the OpenFaaS provider's Vault token. Configuration files holding them
travel on stdin; the tokens are exported as secrets for the OpenFaaS provider.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.cloud_init import node_cloud_config
from components.naming import Naming
from components.node_pool import NodePoolArgs, PrivateNetwork
from components.nomad_config import (
    CONSUL_AGENT_POLICY,
    NOMAD_HTTP,
    OPENFAAS_VAULT_POLICY,
    VAULT_HTTP,
    AgentSecrets,
    consul_config,
    nomad_config,
    vault_config,
)
from components.remote_step import remote_step

READY_TIMEOUT_S = 600


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


class NomadCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NomadClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:nomad:NomadCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        naming = args.naming
        network = args.network

        def uuid(purpose: str) -> pulumi.Output[str]:
            return pulumi.Output.secret(random.RandomUuid(f"{name}-{purpose}", opts=child).result)

        def gossip_key(purpose: str) -> pulumi.Output[str]:
            return random.RandomBytes(f"{name}-{purpose}", length=32, opts=child).base64

        consul_management = uuid("consul-management")
        # An accessor id names a token (it appears in URLs and listings); only the secret id
        # grants anything.
        consul_agent_accessor = random.RandomUuid(
            f"{name}-consul-agent-accessor", opts=child
        ).result
        consul_agent_secret = uuid("consul-agent-secret")
        nomad_management = uuid("nomad-management")
        vault_openfaas_token = uuid("vault-openfaas")
        secrets = pulumi.Output.all(
            gossip_key("consul-gossip"),
            gossip_key("nomad-gossip"),
            consul_management,
            consul_agent_secret,
        ).apply(lambda v: AgentSecrets(v[0], v[1], v[2], v[3]))

        server_names = [naming.name(f"manager-{i}") for i in range(args.server_count)]
        servers = network.node_pool(
            f"{name}-server",
            NodePoolArgs(
                role="manager",
                count=args.server_count,
                size=args.server_size,
                user_data=[node_cloud_config(n, containers=False) for n in server_names],
            ),
            opts=child,
        )
        worker_names = [naming.name(f"worker-{i}") for i in range(args.worker_count)]
        workers = network.node_pool(
            f"{name}-client",
            NodePoolArgs(
                role="worker",
                count=args.worker_count,
                size=args.worker_size,
                user_data=[node_cloud_config(n, containers=True) for n in worker_names],
            ),
            opts=child,
        )
        server_ips = servers.private_ips
        first = servers.machines[0]
        packages = [f"nomad={args.nomad_version}", f"consul={args.consul_version}"]

        def agent_configs(
            node_name: str, ip: pulumi.Output[str], server: bool
        ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
            values = pulumi.Output.all(ip, server_ips, secrets, first.private_ip)
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

        # --- servers: Consul, then (first server) ACLs and Vault, then Nomad --------------
        consul_servers = []
        server_installs = []
        for index, (machine, node_name) in enumerate(
            zip(servers.machines, server_names, strict=True)
        ):
            install = remote_step(
                f"{name}-{machine.name}-install",
                connection=machine.connection,
                step="hashicorp-install",
                params={
                    "PACKAGES": [*packages, f"vault={args.vault_version}"]
                    if index == 0
                    else packages
                },
                triggers=[machine.instance_id],
                parent=self,
            )
            server_installs.append(install)
            consul_hcl, _ = agent_configs(node_name, machine.private_ip, server=True)
            consul_servers.append(
                remote_step(
                    f"{name}-{machine.name}-consul",
                    connection=machine.connection,
                    step="consul-agent",
                    params={"NODE_IP": machine.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
                    secrets={"CONFIG": consul_hcl},
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[install],
                )
            )
        consul_acl = remote_step(
            f"{name}-consul-acl",
            connection=first.connection,
            step="consul-acl",
            params={
                "NODE_IP": first.private_ip,
                "POLICY_RULES": CONSUL_AGENT_POLICY,
                "READY_TIMEOUT_S": READY_TIMEOUT_S,
            },
            secrets={
                "MANAGEMENT_TOKEN": consul_management,
                "AGENT_ACCESSOR": consul_agent_accessor,
                "AGENT_SECRET": consul_agent_secret,
            },
            triggers=[first.instance_id],
            parent=self,
            depends_on=consul_servers,
        )
        vault = remote_step(
            f"{name}-vault",
            connection=first.connection,
            step="vault-server",
            params={"NODE_IP": first.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
            secrets={
                "CONFIG": first.private_ip.apply(vault_config),
                "OPENFAAS_TOKEN": vault_openfaas_token,
                "POLICY": OPENFAAS_VAULT_POLICY,
            },
            triggers=[first.instance_id],
            parent=self,
            depends_on=[server_installs[0]],
        )
        nomad_servers = []
        for machine, node_name in zip(servers.machines, server_names, strict=True):
            _, nomad_hcl = agent_configs(node_name, machine.private_ip, server=True)
            nomad_servers.append(
                remote_step(
                    f"{name}-{machine.name}-nomad",
                    connection=machine.connection,
                    step="nomad-agent",
                    params={"NODE_IP": machine.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
                    secrets={"CONFIG": nomad_hcl},
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[consul_acl, vault],
                )
            )
        bootstrap = remote_step(
            f"{name}-nomad-acl",
            connection=first.connection,
            step="nomad-acl-bootstrap",
            params={"NODE_IP": first.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
            secrets={"BOOTSTRAP_SECRET": nomad_management},
            triggers=[first.instance_id],
            parent=self,
            depends_on=nomad_servers,
        )
        identities = remote_step(
            f"{name}-workload-identity",
            connection=first.connection,
            step="nomad-workload-identity",
            params={"NODE_IP": first.private_ip},
            secrets={"CONSUL_TOKEN": consul_management},
            triggers=[first.instance_id],
            parent=self,
            depends_on=[bootstrap, vault],
        )

        # --- clients: Docker, CNI, Consul client, Nomad client; readiness from a server ---
        ready_steps = []
        for machine, node_name in zip(workers.machines, worker_names, strict=True):
            install = remote_step(
                f"{name}-{machine.name}-install",
                connection=machine.connection,
                step="hashicorp-install",
                params={"PACKAGES": packages},
                triggers=[machine.instance_id],
                parent=self,
            )
            docker = remote_step(
                f"{name}-{machine.name}-docker",
                connection=machine.connection,
                step="docker-install",
                params={
                    "DOCKER_VERSION": args.docker_version,
                    "CONTAINERD_VERSION": args.containerd_version,
                    "MTU": network.mtu,
                },
                triggers=[machine.instance_id],
                parent=self,
                depends_on=[install],
            )
            cni = remote_step(
                f"{name}-{machine.name}-cni",
                connection=machine.connection,
                step="cni-install",
                params={"CNI_VERSION": args.cni_version, "CNI_SHA256": args.cni_sha256},
                triggers=[machine.instance_id],
                parent=self,
                depends_on=[install],
            )
            consul_hcl, nomad_hcl = agent_configs(node_name, machine.private_ip, server=False)
            consul_client = remote_step(
                f"{name}-{machine.name}-consul",
                connection=machine.connection,
                step="consul-agent",
                params={"NODE_IP": machine.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
                secrets={"CONFIG": consul_hcl},
                triggers=[machine.instance_id],
                parent=self,
                depends_on=[install, consul_acl],
            )
            nomad_client = remote_step(
                f"{name}-{machine.name}-nomad",
                connection=machine.connection,
                step="nomad-agent",
                params={"NODE_IP": machine.private_ip, "READY_TIMEOUT_S": READY_TIMEOUT_S},
                secrets={"CONFIG": nomad_hcl},
                triggers=[machine.instance_id],
                parent=self,
                depends_on=[docker, cni, consul_client, *nomad_servers],
            )
            ready_steps.append(
                remote_step(
                    f"{name}-{machine.name}-ready",
                    connection=first.connection,
                    step="nomad-node-ready",
                    params={
                        "NODE_IP": first.private_ip,
                        "NODE_NAME": node_name,
                        "READY_TIMEOUT_S": READY_TIMEOUT_S,
                    },
                    secrets={"NOMAD_TOKEN": nomad_management},
                    delete_step="nomad-node-remove",
                    delete_params={
                        "NODE_IP": first.private_ip,
                        "NODE_NAME": node_name,
                        "TOKEN_FILE": "/etc/nomad.d/faasbench-management.token",
                    },
                    triggers=[machine.instance_id],
                    parent=self,
                    depends_on=[nomad_client, bootstrap],
                )
            )

        self.server_connection = first.connection
        self.server_instance_id = first.instance_id
        self.server_ip = first.private_ip
        self.address = first.private_ip.apply(lambda ip: f"http://{ip}:{NOMAD_HTTP}")
        self.token = nomad_management
        self.consul_address = first.private_ip.apply(lambda ip: f"http://{ip}:8500")
        self.consul_token = consul_management
        self.vault_address = first.private_ip.apply(lambda ip: f"http://{ip}:{VAULT_HTTP}")
        self.vault_token = vault_openfaas_token
        self.managers = servers.private_ips
        self.workers = workers.private_ips
        self.ready: list[pulumi.Resource] = [bootstrap, identities, *ready_steps]
        self.register_outputs(
            {
                "address": self.address,
                "managers": self.managers,
                "workers": self.workers,
            }
        )
