"""What the monitoring component renders for Kubernetes stacks, kept pure: the
`kube-prometheus-stack` chart's pinned version and values (Prometheus Operator, Prometheus,
Alertmanager, Grafana, kube-state-metrics, node-exporter), the PodMonitors of our platforms and
the Grafana dashboard for the benchmarked functions. `components.monitoring` installs them.

Choices, and why:

- Monitors for our platforms come through the chart's `prometheus.additionalPodMonitors`: a
  Pulumi `PodMonitor` resource would need the CRDs at preview time, which a fresh cluster lacks.
  The `*SelectorNilUsesHelmValues` switches are off so Prometheus also picks up monitors other
  releases (or users) create without the chart's release label.
- Grafana reads its admin password from our own Secret (`grafana.admin.existingSecret`), not
  from `grafana.adminPassword` in the values (see `components.monitoring`). Grafana has no
  persistence (dashboards come from ConfigMaps), so it reads the password on every start.
- Global scrape interval 10s, the platforms' own metrics every 5s: benchmark runs last minutes,
  and a 30s default would leave a handful of points per run; 5s everywhere would multiply the
  cAdvisor and API-server series for little gain. Retention 15 days, capped by size.
- Storage: a PVC of the cluster's storage class when given (k3s: local-path on the server);
  otherwise the operator's default emptyDir, so the data lives as long as the Prometheus pod.
- Placement: with a control placement (k3s), Prometheus, Alertmanager, Grafana, the operator and
  kube-state-metrics run on the server beside the other control planes; node-exporter runs on
  every node. On k3s the control-plane monitors k3s does not expose (etcd, controller manager,
  scheduler, kube-proxy) are off; existing clusters keep them (and no placement).
- Prometheus and Grafana are NodePorts so the stack's HAProxy can front them; Alertmanager stays
  in the cluster.
"""

from __future__ import annotations

from components.knative_config import pod_monitors as knative_pod_monitors
from components.openwhisk_config import RELEASE as OPENWHISK_RELEASE
from components.openwhisk_config import Scraper, metrics_components
from contract.knative import FUNCTION_NAMESPACE as KNATIVE_FUNCTION_NAMESPACE

CHART_REPO = "https://prometheus-community.github.io/helm-charts"
CHART_NAME = "kube-prometheus-stack"
CHART_VERSION = "88.5.3"
#: The chart's appVersion: the Prometheus Operator release it ships.
APP_VERSION = "v0.93.1"
RELEASE_NAME = "monitoring"
NAMESPACE = "monitoring"
PROMETHEUS_NODE_PORT = 30900
GRAFANA_NODE_PORT = 30300
GRAFANA_ADMIN_USER = "admin"
GRAFANA_ADMIN_SECRET = "grafana-admin"  # noqa: S105 (the Secret object's name)
#: The chart's defaults for the existing-secret keys (grafana.admin.userKey / passwordKey).
GRAFANA_USER_KEY = "admin-user"
GRAFANA_PASSWORD_KEY = "admin-password"  # noqa: S105 (a key in that Secret)
#: The datasource uid the chart provisions (grafana.sidecar.datasources.uid).
DATASOURCE_UID = "prometheus"
DASHBOARD_UID = "faasbench-functions"

SCRAPE_INTERVAL = "10s"
PLATFORM_SCRAPE_INTERVAL = "5s"
RETENTION = "15d"
RETENTION_SIZE = "8GB"
STORAGE_SIZE = "10Gi"

#: OpenFaaS (faas-netes chart templates/gateway-dep.yaml): the gateway's pods carry
#: `app: gateway` and name the metrics port `gw-metrics` (8082); the gateway serves `/metrics`.
OPENFAAS_NAMESPACE = "openfaas"
OPENFAAS_FUNCTION_NAMESPACE = "openfaas-fn"
#: OpenWhisk (openwhisk-deploy-kube templates/controller-pod.yaml, invoker-pod.yaml,
#: scheduler-pod.yaml): pods are labelled `name: <release>-<component>` and name their HTTP port
#: after the component; they serve Kamon's Prometheus `/metrics` there
#: (`components.openwhisk_config.metrics_components`).
OPENWHISK_COMPONENTS = metrics_components("default")

#: The pods of the chart's Prometheus: the Prometheus Operator labels them
#: `app.kubernetes.io/name: prometheus` (prometheus-operator v0.93.0,
#: pkg/prometheus/server/operator.go `makeSelectorLabels`). Namespaces that restrict ingress let
#: these in for metrics.
SCRAPER = Scraper(NAMESPACE, {"app.kubernetes.io/name": "prometheus"})

#: k3s runs these inside its own binary without exposing their metrics to the pod network.
K3S_HIDDEN_COMPONENTS = ("kubeEtcd", "kubeControllerManager", "kubeScheduler", "kubeProxy")


def node_selector(control_label: str | None) -> dict[str, str] | None:
    """`key=value` as a nodeSelector."""
    if control_label is None:
        return None
    key, _, value = control_label.partition("=")
    return {key: value}


def toleration(control_taint: str | None) -> list[dict[str, str]] | None:
    """`key=value:Effect` as the toleration of exactly that taint."""
    if control_taint is None:
        return None
    key, _, rest = control_taint.partition("=")
    value, _, effect = rest.partition(":")
    return [{"key": key, "operator": "Equal", "value": value, "effect": effect}]


def pod_monitors(
    *,
    openfaas: bool,
    openwhisk_namespace: str | None,
    openwhisk_release: str = OPENWHISK_RELEASE,
    openwhisk_components: tuple[str, ...] = OPENWHISK_COMPONENTS,
    knative: bool = False,
) -> list[dict[str, object]]:
    """PodMonitors (in the chart's `additionalPodMonitors` form) for the frameworks present."""
    endpoint = {"path": "/metrics", "interval": PLATFORM_SCRAPE_INTERVAL}
    monitors: list[dict[str, object]] = []
    if openfaas:
        monitors.append(
            {
                "name": "openfaas-gateway",
                "selector": {"matchLabels": {"app": "gateway"}},
                "namespaceSelector": {"matchNames": [OPENFAAS_NAMESPACE]},
                "podMetricsEndpoints": [{"port": "gw-metrics", **endpoint}],
            }
        )
    if openwhisk_namespace is not None:
        monitors.extend(
            {
                "name": f"openwhisk-{component}",
                "selector": {"matchLabels": {"name": f"{openwhisk_release}-{component}"}},
                "namespaceSelector": {"matchNames": [openwhisk_namespace]},
                "podMetricsEndpoints": [{"port": component, **endpoint}],
            }
            for component in openwhisk_components
        )
    if knative:
        monitors += knative_pod_monitors(PLATFORM_SCRAPE_INTERVAL)
    return monitors


def monitoring_values(
    *,
    openfaas: bool,
    openwhisk_namespace: str | None,
    openwhisk_release: str = OPENWHISK_RELEASE,
    openwhisk_components: tuple[str, ...] = OPENWHISK_COMPONENTS,
    knative: bool = False,
    k3s: bool = False,
    control_taint: str | None = None,
    control_label: str | None = None,
    storage_class: str | None = None,
) -> dict[str, object]:
    """Chart values (every key exists in the chart's values.yaml, or is a documented subchart
    value: see tests/components/test_monitoring.py). On k3s the control-plane monitors it does
    not expose are off; a control placement sends the control pods to the tainted server."""
    placement: dict[str, object] = {}
    selector = node_selector(control_label)
    tolerations = toleration(control_taint)
    if selector is not None:
        placement["nodeSelector"] = selector
    if tolerations is not None:
        placement["tolerations"] = tolerations
    spec: dict[str, object] = {
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
        "probeSelectorNilUsesHelmValues": False,
        "scrapeConfigSelectorNilUsesHelmValues": False,
        "scrapeInterval": SCRAPE_INTERVAL,
        "evaluationInterval": SCRAPE_INTERVAL,
        "retention": RETENTION,
        "retentionSize": RETENTION_SIZE,
        "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}},
        **placement,
    }
    if storage_class is not None:
        spec["storageSpec"] = {
            "volumeClaimTemplate": {
                "spec": {
                    "storageClassName": storage_class,
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": STORAGE_SIZE}},
                }
            }
        }
    values: dict[str, object] = {
        "prometheus": {
            "service": {"type": "NodePort", "nodePort": PROMETHEUS_NODE_PORT},
            "prometheusSpec": spec,
            "additionalPodMonitors": pod_monitors(
                openfaas=openfaas,
                openwhisk_namespace=openwhisk_namespace,
                openwhisk_release=openwhisk_release,
                openwhisk_components=openwhisk_components,
                knative=knative,
            ),
        },
        "grafana": {
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": GRAFANA_USER_KEY,
                "passwordKey": GRAFANA_PASSWORD_KEY,
            },
            "service": {"type": "NodePort", "nodePort": GRAFANA_NODE_PORT},
            # What the dashboard ConfigMap relies on (the chart's defaults, pinned).
            "sidecar": {
                "dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1"}
            },
            **placement,
        },
    }
    if placement:
        values["alertmanager"] = {"alertmanagerSpec": dict(placement)}
        # The admission webhook's certificate jobs (Helm hooks) go with the operator.
        values["prometheusOperator"] = {**placement, "admissionWebhooks": {"patch": placement}}
        values["kube-state-metrics"] = dict(placement)
    if control_taint is not None:
        # Every node, the tainted server included: node metrics are wanted everywhere.
        values["prometheus-node-exporter"] = {
            "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}]
        }
    if k3s:
        for component in K3S_HIDDEN_COMPONENTS:
            values[component] = {"enabled": False}
    return values


def _panel(
    panel_id: int, title: str, unit: str, targets: list[tuple[str, str]], x: int, y: int
) -> dict[str, object]:
    datasource = {"type": "prometheus", "uid": DATASOURCE_UID}
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": datasource,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": datasource,
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(
    *, openfaas: bool, openwhisk_namespace: str | None, knative: bool = False
) -> dict[str, object]:
    """The functions dashboard: invocations, latency and replicas (OpenFaaS gateway metrics and
    kube-state-metrics), CPU and memory of the function pods (cAdvisor). OpenWhisk gets its
    scrape health and its pods' resources: the names its Kamon exporter gives the controller's
    and invoker's metrics are not pinned down here (see docs/first-deploy.md)."""
    rate = "$__rate_interval"
    panels: list[tuple[str, str, list[tuple[str, str]]]] = []
    namespaces: list[str] = []
    if openfaas:
        namespaces.append(OPENFAAS_FUNCTION_NAMESPACE)
        panels += [
            (
                "Invocations per second (OpenFaaS gateway)",
                "reqps",
                [
                    (
                        "sum by (function_name, code) "
                        f"(rate(gateway_function_invocation_total[{rate}]))",
                        "{{function_name}} {{code}}",
                    )
                ],
            ),
            (
                "Latency (OpenFaaS gateway)",
                "s",
                [
                    *(
                        (
                            f"histogram_quantile({q}, sum by (le, function_name) "
                            f"(rate(gateway_functions_seconds_bucket[{rate}])))",
                            f"{{{{function_name}}}} p{round(q * 100)}",
                        )
                        for q in (0.5, 0.99)
                    ),
                    (
                        f"sum by (function_name) (rate(gateway_functions_seconds_sum[{rate}])) / "
                        f"sum by (function_name) (rate(gateway_functions_seconds_count[{rate}]))",
                        "{{function_name}} mean",
                    ),
                ],
            ),
            (
                "Replicas (OpenFaaS)",
                "short",
                [
                    ("max by (function_name) (gateway_service_count)", "{{function_name}} gateway"),
                    (
                        "sum by (deployment) (kube_deployment_status_replicas_available"
                        f'{{namespace="{OPENFAAS_FUNCTION_NAMESPACE}"}})',
                        "{{deployment}} available",
                    ),
                ],
            ),
        ]
    if openwhisk_namespace is not None:
        namespaces.append(openwhisk_namespace)
        panels.append(
            (
                "OpenWhisk targets up",
                "short",
                [(f'sum by (pod) (up{{namespace="{openwhisk_namespace}"}})', "{{pod}}")],
            )
        )
    if knative:
        namespaces.append(KNATIVE_FUNCTION_NAMESPACE)
        panels.append(
            (
                "Function pods by revision (Knative)",
                "short",
                [
                    (
                        "count by (created_by_name) "
                        f'(kube_pod_info{{namespace="{KNATIVE_FUNCTION_NAMESPACE}"}})',
                        "{{created_by_name}}",
                    )
                ],
            )
        )
    if namespaces:
        selector = f'namespace=~"{"|".join(namespaces)}", container!="", container!="POD"'
        panels += [
            (
                "CPU (cores) by pod",
                "short",
                [
                    (
                        "sum by (namespace, pod) "
                        f"(rate(container_cpu_usage_seconds_total{{{selector}}}[{rate}]))",
                        "{{namespace}}/{{pod}}",
                    )
                ],
            ),
            (
                "Memory working set by pod",
                "bytes",
                [
                    (
                        "sum by (namespace, pod) "
                        f"(container_memory_working_set_bytes{{{selector}}})",
                        "{{namespace}}/{{pod}}",
                    )
                ],
            ),
        ]
    return {
        "uid": DASHBOARD_UID,
        "title": "faasbench: functions",
        "tags": ["faasbench"],
        "timezone": "utc",
        "schemaVersion": 39,
        "editable": True,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "panels": [
            _panel(i + 1, title, unit, targets, x=12 * (i % 2), y=8 * (i // 2))
            for i, (title, unit, targets) in enumerate(panels)
        ],
    }
