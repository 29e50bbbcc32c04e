"""KEDA's entry in the platform registry (`stacks.platforms.PLATFORMS`): KEDA and, by
`kedaMode`, its HTTP add-on behind the stack's front, or the queue the loader fills.

- http: HAProxy (or, on an existing cluster, the NodePort itself) fronts the interceptors'
  NodePort; requests name their function in the Host header, and HAProxy checks the
  interceptors' health on their admin NodePort. `gateway_url` is that front.
- queue: functions take jobs from Redis, reached by the loader at its NodePort on a node (the
  k3s server, or an existing cluster's node address). No function traffic crosses HTTP, so no
  `gateway_url` is exported; on machines of ours HAProxy still fronts Prometheus, and its
  function front forwards to Prometheus too (the stack's HAProxy always has one).
"""

from __future__ import annotations

import pulumi

from components.haproxy import PlatformFront
from components.k8s_cluster import ROLE_LABEL
from components.keda import Keda, KedaArgs
from components.keda_config import (
    INTERCEPTOR_ADMIN_NODE_PORT,
    INTERCEPTOR_NODE_PORT,
    QUEUE_NODE_PORT,
)
from components.monitoring_config import PROMETHEUS_NODE_PORT
from contract.keda import FUNCTION_NAMESPACE
from stacks.clusters import KubernetesCluster
from stacks.platforms import Site, once_ready

INTERCEPTOR_FRONT = PlatformFront(
    "keda", INTERCEPTOR_NODE_PORT, "/readyz", check_port=INTERCEPTOR_ADMIN_NODE_PORT
)
#: queue mode: nothing of KEDA's serves HTTP to the loader (see the module's docstring).
QUEUE_MODE_FRONT = PlatformFront("keda-prometheus", PROMETHEUS_NODE_PORT, "/-/ready")


def _node(site: Site[KubernetesCluster]) -> pulumi.Input[str]:
    """A node the loader reaches NodePorts on: the k3s server, or the existing cluster's."""
    cluster = site.cluster
    if site.ours:
        return cluster.managers.apply(lambda ips: ips[0])  # type: ignore[union-attr]
    address = cluster.node_address  # type: ignore[union-attr]
    assert address is not None  # an existing cluster always has one (its API server's host)
    return address


def keda(site: Site[KubernetesCluster]) -> dict[str, object]:
    """KEDA on Kubernetes, with the HTTP add-on or the queue as `kedaMode` says."""
    config, cluster = site.config, site.cluster
    assert site.monitoring is not None  # every Kubernetes stack has kube-prometheus-stack
    mode = config.keda.mode
    component = Keda(
        "keda",
        KedaArgs(
            provider=cluster.provider,
            mode=mode,
            control_taint=cluster.server_taint if site.ours else None,  # type: ignore[union-attr]
            control_label=f"{ROLE_LABEL}=server" if site.ours else None,
            depends_on=list(site.monitoring.ready),
        ),
    )
    exposed = site.expose(INTERCEPTOR_FRONT if mode == "http" else QUEUE_MODE_FRONT, site.monitored)
    section: dict[str, object] = {
        "mode": mode,
        "namespace": FUNCTION_NAMESPACE,
        "versions": component.versions,
    }
    outputs: dict[str, object] = {"keda": section}
    if mode == "http":
        outputs["gateway_url"] = once_ready(exposed.gateway_url, component.ready)
    else:
        assert component.queue_password is not None
        url = pulumi.Output.from_input(_node(site)).apply(
            lambda host: f"redis://{host}:{QUEUE_NODE_PORT}"
        )
        section["queue"] = {
            "url": once_ready(url, component.ready),
            "password": component.queue_password,
            "internal_address": component.queue_internal_address,
        }
    return outputs
