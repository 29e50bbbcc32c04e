"""The Knative Serving entry of `stacks.platforms.PLATFORMS`: Knative with Kourier on a
Kubernetes cluster (k3s of ours or an existing one), HAProxy (or a node's NodePort) in front
of Kourier, and the `knative` output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.haproxy import PlatformFront
from components.knative import Knative, KnativeArgs
from components.knative_config import (
    KOURIER_NODE_PORT,
    KOURIER_PROBE_HOST,
    KOURIER_PROBE_NODE_PORT,
    KOURIER_PROBE_PATH,
    KnativeSettings,
)
from contract.knative import DOMAIN, FUNCTION_NAMESPACE

if TYPE_CHECKING:  # stacks.platforms registers this entry: no import back at run time
    from stacks.clusters import KubernetesCluster
    from stacks.platforms import Site

#: HAProxy sends function traffic to Kourier's NodePort on every node and checks each node at
#: Kourier's internal `/ready` (Host `internalkourier`), as Kourier's own readiness probe does.
KNATIVE_FRONT = PlatformFront(
    "kourier",
    KOURIER_NODE_PORT,
    KOURIER_PROBE_PATH,
    check_port=KOURIER_PROBE_NODE_PORT,
    health_host=KOURIER_PROBE_HOST,
)


def knative(site: Site[KubernetesCluster]) -> dict[str, object]:
    """Knative Serving and Kourier; kube-prometheus-stack (the stack's) scrapes them."""
    from stacks.platforms import once_ready, registry_output

    config = site.config.knative
    settings = KnativeSettings(
        scale_to_zero_grace_period_s=config.scale_to_zero_grace_period_s,
        stable_window_s=config.stable_window_s,
        max_scale_limit=config.max_scale_limit,
    )
    exposed = site.expose(KNATIVE_FRONT, site.monitored)
    serving = Knative(
        "knative",
        KnativeArgs(provider=site.cluster.provider, settings=settings, sha256=config.pins()),
    )
    gateway_url = once_ready(exposed.gateway_url, serving.ready)
    outputs: dict[str, object] = {
        "gateway_url": gateway_url,
        "knative": {
            "url": gateway_url,
            "domain": DOMAIN,
            "namespace": FUNCTION_NAMESPACE,
            "ingress": "kourier",
            "scale_to_zero_grace_period_s": settings.scale_to_zero_grace_period_s,
            "stable_window_s": settings.stable_window_s,
            "max_scale_limit": settings.max_scale_limit,
            "versions": serving.versions,
            "manifests": serving.manifests,
        },
    }
    if site.image is not None:
        outputs["registry"] = registry_output(site.image, serving.ready)
    return outputs
