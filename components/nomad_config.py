"""Consul and Nomad agent configuration as HCL, from validated values (pure functions).

Servers run a Consul server and a Nomad server; clients run a Consul client, a Nomad client
and Docker. Every agent binds to its private address only. Gossip is encrypted with generated
keys, ACLs are on (deny by default) with pre-generated tokens, and Nomad publishes Prometheus,
node and allocation metrics (CPU and memory of function containers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.hcl import block_label, render_hcl

DATACENTER = "dc1"
CONSUL_HTTP = 8500
NOMAD_HTTP = 4646
NOMAD_RPC = 4647
VAULT_HTTP = 8200
CNI_PATH = "/opt/cni/bin"
#: The path prefix jsiebens/faas-nomad keeps function secrets under (its default).
VAULT_SECRETS_PATH = "openfaas-fn"
WORKER_NODE_CLASS = "faasbench-worker"


@dataclass(frozen=True)
class AgentSecrets:
    """Generated secrets; rendered configs containing them travel only on stdin."""

    consul_gossip_key: str
    nomad_gossip_key: str
    consul_management_token: str
    consul_agent_token: str


def _interface_of(ip: str) -> str:
    """A go-sockaddr template Nomad evaluates to the name of the interface carrying `ip`."""
    return f'{{{{ GetAllInterfaces | include "address" "{ip}" | attr "name" }}}}'


def consul_config(
    *,
    node_name: str,
    ip: str,
    server_ips: Sequence[str],
    server: bool,
    secrets: AgentSecrets,
) -> str:
    tokens: dict[str, object] = {"agent": secrets.consul_agent_token}
    if server:
        tokens = {"initial_management": secrets.consul_management_token, **tokens}
    body: dict[str, object] = {
        "datacenter": DATACENTER,
        "data_dir": "/opt/consul",
        "node_name": node_name,
        "server": server,
        "bind_addr": ip,
        "advertise_addr": ip,
        "client_addr": f"127.0.0.1 {ip}",
        "retry_join": list(server_ips),
        "encrypt": secrets.consul_gossip_key,
        "leave_on_terminate": not server,
        "ui_config": {"enabled": False},
        "acl": {
            "enabled": True,
            "default_policy": "deny",
            "enable_token_persistence": True,
            "tokens": tokens,
        },
        "telemetry": {"prometheus_retention_time": "1h", "disable_hostname": True},
    }
    if server:
        body["bootstrap_expect"] = len(server_ips)
    return render_hcl(body)


def nomad_config(
    *,
    node_name: str,
    ip: str,
    server_ips: Sequence[str],
    server: bool,
    secrets: AgentSecrets,
    vault_ip: str,
) -> str:
    consul: dict[str, object] = {
        "address": f"127.0.0.1:{CONSUL_HTTP}",
        "token": secrets.consul_agent_token,
    }
    vault: dict[str, object] = {"enabled": True, "address": f"http://{vault_ip}:{VAULT_HTTP}"}
    if server:
        # Workload identities: Nomad 1.10 removed token-based Consul and Vault workflows.
        consul["service_identity"] = {"aud": ["consul.io"], "ttl": "1h"}
        consul["task_identity"] = {"aud": ["consul.io"], "ttl": "1h"}
        vault["default_identity"] = {"aud": ["vault.io"], "ttl": "1h"}
    body: dict[str, object] = {
        "datacenter": DATACENTER,
        "data_dir": "/opt/nomad/data",
        "name": node_name,
        "bind_addr": ip,
        "advertise": {"http": ip, "rpc": ip, "serf": ip},
        "acl": {"enabled": True},
        "consul": consul,
        "vault": vault,
        "telemetry": {
            "prometheus_metrics": True,
            "publish_allocation_metrics": True,
            "publish_node_metrics": True,
            "collection_interval": "5s",
            "disable_hostname": True,
        },
    }
    if server:
        body["server"] = {
            "enabled": True,
            "bootstrap_expect": len(server_ips),
            "encrypt": secrets.nomad_gossip_key,
            "server_join": {"retry_join": list(server_ips)},
        }
        body["client"] = {"enabled": False}
    else:
        body["client"] = {
            "enabled": True,
            "servers": [f"{s}:{NOMAD_RPC}" for s in server_ips],
            "network_interface": _interface_of(ip),
            "cni_path": CNI_PATH,
            "node_class": WORKER_NODE_CLASS,
        }
        body[block_label("plugin", "docker")] = {
            "config": {"allow_privileged": False, "volumes": {"enabled": False}}
        }
    return render_hcl(body)


#: Consul ACL policy for agents and for Nomad's Consul integration (service registration).
CONSUL_AGENT_POLICY = render_hcl(
    {
        block_label("node_prefix", ""): {"policy": "write"},
        block_label("service_prefix", ""): {"policy": "write"},
        block_label("agent_prefix", ""): {"policy": "write"},
        block_label("key_prefix", ""): {"policy": "read"},
        block_label("session_prefix", ""): {"policy": "write"},
    }
)


def vault_config(ip: str) -> str:
    """Vault on the first server: file storage, HTTP on the private address only (the private
    network is the boundary, as for Nomad's and Consul's own APIs)."""
    return render_hcl(
        {
            "ui": False,
            "api_addr": f"http://{ip}:{VAULT_HTTP}",
            block_label("storage", "file"): {"path": "/opt/vault/data"},
            block_label("listener", "tcp"): {
                "address": f"{ip}:{VAULT_HTTP}",
                "tls_disable": True,
            },
        }
    )


#: What the OpenFaaS provider may do in Vault: manage function secrets, nothing else.
OPENFAAS_VAULT_POLICY = render_hcl(
    {
        block_label("path", f"{VAULT_SECRETS_PATH}/*"): {
            "capabilities": ["create", "read", "update", "delete", "list"]
        },
        block_label("path", "auth/token/lookup-self"): {"capabilities": ["read"]},
    }
)
