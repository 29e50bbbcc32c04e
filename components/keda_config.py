"""What the KEDA component renders, kept pure: the pinned charts (KEDA and its HTTP add-on) and
their values, the queue (Redis) of queue mode, and the NodePorts HAProxy and the loader reach.
`components.keda` installs them.

Both charts come from KEDA's Helm repository at pinned versions; the tests render the same
versions from kedacore/charts at the commits below (docs/versions.md).
"""

from __future__ import annotations

from typing import Any

from contract.keda import (
    FUNCTION_NAMESPACE,
    PASSWORD_KEY,
    QUEUE_PORT,
    QUEUE_SECRET,
    QUEUE_SERVICE,
)

CHART_REPO = "https://kedacore.github.io/charts"
NAMESPACE = "keda"
#: kedacore/keda 2.20.2 (kedacore/charts tag v2.20.2, commit cbb9bb8c): images
#: ghcr.io/kedacore/{keda,keda-metrics-apiserver,keda-admission-webhooks}:2.20.2.
KEDA_CHART = "keda"
KEDA_CHART_VERSION = "2.20.2"
KEDA_CHART_COMMIT = "cbb9bb8ce0809dc9048f72302f7c09765d66ed56"
KEDA_RELEASE = "keda"
#: kedacore/keda-add-ons-http 0.15.0 (kedacore/charts commit c4b92e9e, "release v0.15.0"):
#: images ghcr.io/kedacore/http-add-on-{operator,interceptor,scaler}:0.15.0. Beta upstream.
HTTP_ADD_ON_CHART = "keda-add-ons-http"
HTTP_ADD_ON_CHART_VERSION = "0.15.0"
HTTP_ADD_ON_CHART_COMMIT = "c4b92e9eed0ddc6668b1395d5f137e3ad4baa3d4"
HTTP_ADD_ON_RELEASE = "keda-add-ons-http"
#: The interceptor's proxy and admin ports (the chart's defaults) and the NodePorts on every
#: node: HAProxy sends function traffic to the first and checks health on the second.
INTERCEPTOR_PROXY_PORT = 8080
INTERCEPTOR_ADMIN_PORT = 9090
INTERCEPTOR_NODE_PORT = 30880
INTERCEPTOR_ADMIN_NODE_PORT = 30881
#: Interceptors always running: one keeps the first request of a cold function from waiting
#: for an interceptor too.
INTERCEPTOR_MIN_REPLICAS = 1
#: Redis 7.2.5 (BSD-3-Clause; later majors are not), docker-library/redis 7.2/alpine.
QUEUE_IMAGE = "docker.io/library/redis:7.2.5-alpine"
QUEUE_VERSION = "7.2.5"
QUEUE_NODE_PORT = 30379
QUEUE_LABELS = {
    "app.kubernetes.io/name": "faasbench-queue",
    "app.kubernetes.io/part-of": "faasbench",
}


def _placement(control_taint: str | None, control_label: str | None) -> dict[str, Any]:
    """nodeSelector and tolerations sending control components to the k3s server."""
    placement: dict[str, Any] = {}
    if control_label is not None:
        key, _, value = control_label.partition("=")
        placement["nodeSelector"] = {key: value}
    if control_taint is not None:
        key, _, rest = control_taint.partition("=")
        value, _, effect = rest.partition(":")
        placement["tolerations"] = [
            {"key": key, "operator": "Equal", "value": value, "effect": effect}
        ]
    return placement


def keda_values(
    *, control_taint: str | None = None, control_label: str | None = None
) -> dict[str, Any]:
    """KEDA's chart values: its operator and metrics server on the control node, each with a
    PodMonitor the stack's kube-prometheus-stack picks up (every key is read by chart 2.20.2:
    tests/components/test_keda.py)."""
    monitor = {"enabled": True, "podMonitor": {"enabled": True}}
    return {
        "prometheus": {"operator": monitor, "metricServer": monitor},
        **_placement(control_taint, control_label),
    }


def http_add_on_values(
    *, control_taint: str | None = None, control_label: str | None = None
) -> dict[str, Any]:
    """The HTTP add-on's values: operator and scaler on the control node, interceptors (in the
    request path) on the workers, at least INTERCEPTOR_MIN_REPLICAS of them."""
    placement = _placement(control_taint, control_label)
    return {
        "operator": dict(placement),
        "scaler": dict(placement),
        "interceptor": {
            "replicas": {"min": INTERCEPTOR_MIN_REPLICAS},
            "proxy": {"port": INTERCEPTOR_PROXY_PORT},
            "admin": {"port": INTERCEPTOR_ADMIN_PORT},
        },
    }


def interceptor_node_port() -> dict[str, Any]:
    """A NodePort Service before the chart's interceptors (its own Service is ClusterIP)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "keda-interceptor-nodeport", "namespace": NAMESPACE},
        "spec": {
            "type": "NodePort",
            "selector": {
                "app.kubernetes.io/component": "interceptor",
                "app.kubernetes.io/name": "http-add-on",
                "app.kubernetes.io/instance": HTTP_ADD_ON_RELEASE,
            },
            "ports": [
                {
                    "name": "proxy",
                    "port": INTERCEPTOR_PROXY_PORT,
                    "targetPort": "proxy",
                    "nodePort": INTERCEPTOR_NODE_PORT,
                },
                {
                    "name": "admin",
                    "port": INTERCEPTOR_ADMIN_PORT,
                    "targetPort": "admin",
                    "nodePort": INTERCEPTOR_ADMIN_NODE_PORT,
                },
            ],
        },
    }


def add_on_pod_monitor() -> dict[str, Any]:
    """The add-on's scaler metrics (pending requests per host, what KEDA scales on); its chart
    makes no monitor of its own."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "keda-http-add-on-scaler", "namespace": NAMESPACE},
        "spec": {
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/component": "scaler",
                    "app.kubernetes.io/instance": HTTP_ADD_ON_RELEASE,
                }
            },
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "5s"}],
        },
    }


def queue_objects() -> list[dict[str, Any]]:
    """Redis in the function namespace: one replica, no persistence (a run's jobs live no
    longer than the run), a password from the queue Secret (made by the component), a
    ClusterIP Service for consumers and KEDA and a NodePort for the loader."""
    metadata = {"namespace": FUNCTION_NAMESPACE, "labels": QUEUE_LABELS}
    container = {
        "name": "redis",
        "image": QUEUE_IMAGE,
        "args": [
            "redis-server",
            "--requirepass",
            "$(QUEUE_PASSWORD)",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        "env": [
            {
                "name": "QUEUE_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": QUEUE_SECRET, "key": PASSWORD_KEY}},
            }
        ],
        "ports": [{"name": "redis", "containerPort": QUEUE_PORT}],
        "readinessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 2},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": 999,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": QUEUE_SERVICE, **metadata},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": QUEUE_LABELS},
            "template": {
                "metadata": {"labels": QUEUE_LABELS},
                "spec": {"automountServiceAccountToken": False, "containers": [container]},
            },
        },
    }
    port = {"name": "redis", "port": QUEUE_PORT, "targetPort": "redis"}
    inside = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": QUEUE_SERVICE, **metadata},
        "spec": {"selector": QUEUE_LABELS, "ports": [port]},
    }
    outside = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"{QUEUE_SERVICE}-nodeport", **metadata},
        "spec": {
            "type": "NodePort",
            "selector": QUEUE_LABELS,
            "ports": [{**port, "nodePort": QUEUE_NODE_PORT}],
        },
    }
    return [deployment, inside, outside]


def queue_internal_address() -> str:
    return f"{QUEUE_SERVICE}.{FUNCTION_NAMESPACE}.svc:{QUEUE_PORT}"
