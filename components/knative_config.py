"""What the Knative component applies, kept pure: the pinned Knative Serving and Kourier
releases, the settings faasbench changes in their manifests, our own objects beside them
(the function namespace, Kourier's NodePorts) and the PodMonitors of Knative's components.

Choices, and why:

- Knative Serving knative-v1.23.0, the newest release (July 2026); its minimum Kubernetes is
  v1.34.0 (vendor/knative.dev/pkg/version/version.go `DefaultKubernetesMinVersion`), which
  k3s v1.36 satisfies. Kourier (knative-extensions/net-kourier) is released in step with it.
- The release's generated manifests (images resolved to digests by `ko`) exist only as
  release assets, not in any commit: each is fetched at deploy time, pinned by tag, verified
  by sha256 (a pinned one, else the release's own `checksums.txt`) and cached
  (`components.pinned_source.ReleaseAsset`); the sha256 applied is exported and so recorded in
  every campaign manifest.
- Kourier's Service is a LoadBalancer upstream; on k3s faasbench runs no service load balancer
  (and no Traefik: `--disable traefik,servicelb` on every k3s server), and on an existing
  cluster ports 80/443 may belong to its own ingress. So Kourier is made a NodePort Service on
  ports of its own (31080 HTTP, 31443 HTTPS), which HAProxy fronts; nothing else is touched.
- Cluster-wide autoscaler settings (config-autoscaler): the scale-to-zero grace period, the
  default stable window and the max-scale limit come from the stack configuration; they are
  platform settings, exported in the `knative` output.
- Metrics: config-observability switches the components and queue-proxies to the Prometheus
  exporter (the release's default is none), scraped by kube-prometheus-stack through the
  PodMonitors below.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from components.pinned_source import ReleaseAsset
from contract.knative import DOMAIN, FUNCTION_NAMESPACE, SERVICE_LABEL

SERVING_VERSION = "v1.23.0"
KOURIER_VERSION = "v1.23.0"
#: Knative's release tags carry a `knative-` prefix (the `vX.Y.Z` tags are Go module tags).
SERVING_TAG = f"knative-{SERVING_VERSION}"
KOURIER_TAG = f"knative-{KOURIER_VERSION}"
SERVING_REPOSITORY = "knative/serving"
KOURIER_REPOSITORY = "knative-extensions/net-kourier"
#: The Kubernetes release Knative Serving v1.23 requires at least.
MINIMUM_KUBERNETES = (1, 34)

SERVING_CRDS = ReleaseAsset(SERVING_REPOSITORY, SERVING_TAG, "serving-crds.yaml")
SERVING_CORE = ReleaseAsset(SERVING_REPOSITORY, SERVING_TAG, "serving-core.yaml")
KOURIER = ReleaseAsset(KOURIER_REPOSITORY, KOURIER_TAG, "kourier.yaml")

SERVING_NAMESPACE = "knative-serving"
KOURIER_NAMESPACE = "kourier-system"
KOURIER_SERVICE = "kourier"
KOURIER_NODE_PORT = 31080
KOURIER_TLS_NODE_PORT = 31443
#: Kourier's internal listener (8081) answers `/ready` for Host `internalkourier` (its own
#: readiness probe, config/300-gateway.yaml): HAProxy checks each node there.
KOURIER_PROBE_NODE_PORT = 31081
KOURIER_PROBE_PORT = 8081
KOURIER_PROBE_PATH = "/ready"
KOURIER_PROBE_HOST = "internalkourier"
KOURIER_GATEWAY_LABEL = {"app": "3scale-kourier-gateway"}
INGRESS_CLASS = "kourier.ingress.networking.knative.dev"
KOURIER_GATEWAY = "3scale-kourier-gateway"
#: kourier.yaml runs Envoy by the moving tag `v1.37-latest` (config/300-gateway.yaml at the
#: release): faasbench pins the gateway to a release of that line instead (docs/versions.md).
ENVOY_LINE = "docker.io/envoyproxy/envoy:v1.37"
KOURIER_GATEWAY_IMAGE = "docker.io/envoyproxy/envoy:v1.37.2"
METRICS_PORT = "metrics"
#: queue-proxy's request metrics and the statistics the autoscaler scrapes from it (knative/serving
#: pkg/apis/serving/v1/revision_helpers.go; pkg/reconciler/revision/resources/queue.go exposes
#: both on every queue-proxy).
QUEUE_PROXY_METRICS_PORT = "http-usermetric"
QUEUE_PROXY_AUTOSCALING_PORT = "http-autometric"


class KnativeManifestError(RuntimeError):
    """A release manifest lacks what faasbench configures in it (the message names it)."""


@dataclass(frozen=True)
class KnativeSettings:
    """The cluster-wide settings a stack chooses (stacks.config_knative)."""

    scale_to_zero_grace_period_s: int = 30
    stable_window_s: int = 60
    max_scale_limit: int = 0
    domain: str = DOMAIN


def parse_manifest(text: str, label: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML manifest (empty documents skipped)."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise KnativeManifestError(f"{label} is not YAML: {exc}") from None
    objects = [d for d in documents if d is not None]
    for obj in objects:
        if not isinstance(obj, dict) or "kind" not in obj or "apiVersion" not in obj:
            raise KnativeManifestError(f"{label} holds a document that is not an object")
    return objects


def _find(objects: Iterable[dict[str, Any]], kind: str, namespace: str, name: str) -> dict:
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj["kind"] == kind and meta.get("namespace") == namespace and meta.get("name") == name:
            return obj
    raise KnativeManifestError(f"the release manifests have no {kind} {namespace}/{name}")


def _set_data(objects: list[dict[str, Any]], name: str, values: dict[str, str]) -> None:
    config_map = _find(objects, "ConfigMap", SERVING_NAMESPACE, name)
    config_map["data"] = {**(config_map.get("data") or {}), **values}


def _seconds(value: int) -> str:
    return f"{value}s"


def configure_serving(
    objects: list[dict[str, Any]], settings: KnativeSettings
) -> list[dict[str, Any]]:
    """serving-core's objects with faasbench's settings: autoscaler, ingress class, domain,
    Prometheus metrics. The input is left as it was."""
    result = copy.deepcopy(objects)
    autoscaler = {
        "enable-scale-to-zero": "true",
        "scale-to-zero-grace-period": _seconds(settings.scale_to_zero_grace_period_s),
        "stable-window": _seconds(settings.stable_window_s),
        "max-scale-limit": str(settings.max_scale_limit),
    }
    if settings.max_scale_limit:
        # With a limit, Knative requires a default max-scale within it (pkg/autoscaler/config
        # config.go): Services that set none may grow to the limit.
        autoscaler["max-scale"] = str(settings.max_scale_limit)
    _set_data(result, "config-autoscaler", autoscaler)
    _set_data(result, "config-network", {"ingress-class": INGRESS_CLASS})
    _set_data(result, "config-domain", {settings.domain: ""})
    _set_data(
        result,
        "config-observability",
        {"metrics-protocol": "prometheus", "request-metrics-protocol": "prometheus"},
    )
    return result


def configure_kourier(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """kourier.yaml's objects with its gateway Service on faasbench's NodePorts and its Envoy
    pinned to a release (not the moving `-latest` tag)."""
    result = copy.deepcopy(objects)
    service = _find(result, "Service", KOURIER_NAMESPACE, KOURIER_SERVICE)
    node_ports = {"http2": KOURIER_NODE_PORT, "https": KOURIER_TLS_NODE_PORT}
    ports = service["spec"].get("ports") or []
    if {p.get("name") for p in ports} != set(node_ports):
        raise KnativeManifestError(
            f"Service {KOURIER_NAMESPACE}/{KOURIER_SERVICE} has ports "
            f"{sorted(str(p.get('name')) for p in ports)}, expected {sorted(node_ports)}"
        )
    service["spec"]["type"] = "NodePort"
    for port in ports:
        port["nodePort"] = node_ports[port["name"]]
    gateway = _find(result, "Deployment", KOURIER_NAMESPACE, KOURIER_GATEWAY)
    for container in gateway["spec"]["template"]["spec"]["containers"]:
        image = str(container.get("image", ""))
        if not image.startswith(ENVOY_LINE + "."):
            if not image.startswith(ENVOY_LINE + "-"):
                raise KnativeManifestError(
                    f"Deployment {KOURIER_NAMESPACE}/{KOURIER_GATEWAY} runs {image}, not the "
                    f"Envoy {ENVOY_LINE.rpartition(':')[2]} line faasbench pins"
                )
            container["image"] = KOURIER_GATEWAY_IMAGE
    return result


def probe_service() -> dict[str, Any]:
    """A NodePort to Kourier's internal listener, where its `/ready` answers (HAProxy's check)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kourier-probe", "namespace": KOURIER_NAMESPACE},
        "spec": {
            "type": "NodePort",
            "selector": dict(KOURIER_GATEWAY_LABEL),
            "ports": [
                {
                    "name": "http-probe",
                    "port": KOURIER_PROBE_PORT,
                    "targetPort": KOURIER_PROBE_PORT,
                    "nodePort": KOURIER_PROBE_NODE_PORT,
                }
            ],
        },
    }


def function_namespace() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": FUNCTION_NAMESPACE, "labels": {"faasbench/role": "functions"}},
    }


def pod_monitors(interval: str) -> list[dict[str, object]]:
    """PodMonitors (kube-prometheus-stack's `additionalPodMonitors` form) for the activator,
    the autoscaler (port `metrics`, 9090, labels `app: activator|autoscaler` in
    config/core/deployments/) and the functions' queue-proxies (requests, and the concurrency
    statistics the autoscaler decides on)."""
    endpoint = {"path": "/metrics", "interval": interval}
    monitors: list[dict[str, object]] = [
        {
            "name": f"knative-{component}",
            "selector": {"matchLabels": {"app": component}},
            "namespaceSelector": {"matchNames": [SERVING_NAMESPACE]},
            "podMetricsEndpoints": [{"port": METRICS_PORT, **endpoint}],
        }
        for component in ("activator", "autoscaler")
    ]
    monitors.append(
        {
            "name": "knative-queue-proxy",
            "selector": {"matchExpressions": [{"key": SERVICE_LABEL, "operator": "Exists"}]},
            "namespaceSelector": {"matchNames": [FUNCTION_NAMESPACE]},
            "podMetricsEndpoints": [
                {"port": QUEUE_PROXY_METRICS_PORT, **endpoint},
                {"port": QUEUE_PROXY_AUTOSCALING_PORT, **endpoint},
            ],
        }
    )
    return monitors


def kubernetes_version_ok(version: str) -> bool:
    """Whether a k3s or Kubernetes version (`v1.36.3+k3s1`) meets Knative's minimum."""
    major, minor = (int(part) for part in version.lstrip("v").split(".")[:2])
    return (major, minor) >= MINIMUM_KUBERNETES
