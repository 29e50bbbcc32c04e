"""An existing Kubernetes cluster from the user's kubeconfig: no machines, the same interface
as `K8sCluster` (provider, kubeconfig, API endpoint, storage class, server taint: none) for
later components, plus the node address NodePort services are reached at (there is no HAProxy
machine)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import SecretStr


@dataclass(frozen=True)
class ExistingClusterArgs:
    kubeconfig: SecretStr
    storage_class: str | None
    node_address: str | None = None
    """Where NodePorts are reached; None: the API server's host."""


def current_server(kubeconfig: str) -> str:
    """The API server URL of the kubeconfig's current context."""
    document = yaml.safe_load(kubeconfig)
    context_name = document["current-context"]
    context = next(c for c in document["contexts"] if c["name"] == context_name)["context"]
    cluster = next(c for c in document["clusters"] if c["name"] == context["cluster"])
    return str(cluster["cluster"]["server"])


def url_host(url: str) -> str:
    """The host of a URL as it goes back into one (IPv6 in brackets)."""
    host = urlsplit(url).hostname
    if not host:
        raise ValueError(f"{url!r} has no host")
    return f"[{host}]" if ":" in host else host


class ExistingCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:k8s:ExistingCluster", name, None, opts)
        text = args.kubeconfig.get_secret_value()
        self.kubeconfig = pulumi.Output.secret(text)
        server = current_server(text)
        self.api_internal = pulumi.Output.from_input(server)
        #: A node address for NodePort services (gateway, Prometheus) from the user's side.
        self.node_address = args.node_address or url_host(server)
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        #: None: the cluster's default storage class.
        self.storage_class = args.storage_class
        #: No server of ours to keep functions off (`K8sCluster.server_taint`).
        self.server_taint: str | None = None
        self.register_outputs({"kubeconfig": self.kubeconfig, "api_internal": self.api_internal})
