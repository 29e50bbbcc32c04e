"""The Nomad cluster's generated secrets: the Consul and Nomad gossip keys, the Consul
management and agent tokens, Nomad's ACL bootstrap secret and the OpenFaaS provider's Vault
token. Each is a random resource, a child of the cluster; `NomadCluster` hands them to the
agents' configurations (on stdin) and exports the tokens as secrets."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.nomad_config import AgentSecrets


@dataclass(frozen=True)
class NomadSecrets:
    """The cluster's generated tokens and keys."""

    consul_management: pulumi.Output[str]
    #: An accessor id names a token (it appears in URLs and listings); only the secret id
    #: grants anything.
    consul_agent_accessor: pulumi.Output[str]
    consul_agent_secret: pulumi.Output[str]
    nomad_management: pulumi.Output[str]
    vault_openfaas: pulumi.Output[str]
    agents: pulumi.Output[AgentSecrets]


def nomad_secrets(name: str, *, parent: pulumi.Resource) -> NomadSecrets:
    """Every token and gossip key the cluster `name` uses, generated as children of `parent`
    (the cluster)."""
    child = pulumi.ResourceOptions(parent=parent)

    def uuid(purpose: str) -> pulumi.Output[str]:
        return pulumi.Output.secret(random.RandomUuid(f"{name}-{purpose}", opts=child).result)

    def gossip_key(purpose: str) -> pulumi.Output[str]:
        return random.RandomBytes(f"{name}-{purpose}", length=32, opts=child).base64

    consul_management = uuid("consul-management")
    consul_agent_accessor = random.RandomUuid(f"{name}-consul-agent-accessor", opts=child).result
    consul_agent_secret = uuid("consul-agent-secret")
    nomad_management = uuid("nomad-management")
    vault_openfaas_token = uuid("vault-openfaas")
    agents = pulumi.Output.all(
        gossip_key("consul-gossip"),
        gossip_key("nomad-gossip"),
        consul_management,
        consul_agent_secret,
    ).apply(lambda v: AgentSecrets(v[0], v[1], v[2], v[3]))
    return NomadSecrets(
        consul_management,
        consul_agent_accessor,
        consul_agent_secret,
        nomad_management,
        vault_openfaas_token,
        agents,
    )
