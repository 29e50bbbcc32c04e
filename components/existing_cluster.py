"""An existing Kubernetes cluster from the user's kubeconfig: no machines, the same interface
as `K8sCluster` (provider, kubeconfig, API endpoint, storage class) for later components."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pydantic import SecretStr


@dataclass(frozen=True)
class ExistingClusterArgs:
    kubeconfig: SecretStr
    storage_class: str | None


def current_server(kubeconfig: str) -> str:
    """The API server URL of the kubeconfig's current context."""
    document = yaml.safe_load(kubeconfig)
    context_name = document["current-context"]
    context = next(c for c in document["contexts"] if c["name"] == context_name)["context"]
    cluster = next(c for c in document["clusters"] if c["name"] == context["cluster"])
    return str(cluster["cluster"]["server"])


class ExistingCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:k8s:ExistingCluster", name, None, opts)
        text = args.kubeconfig.get_secret_value()
        self.kubeconfig = pulumi.Output.secret(text)
        self.api_internal = pulumi.Output.from_input(current_server(text))
        self.provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        #: None: the cluster's default storage class.
        self.storage_class = args.storage_class
        self.register_outputs({"kubeconfig": self.kubeconfig, "api_internal": self.api_internal})
