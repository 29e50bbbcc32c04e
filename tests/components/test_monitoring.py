"""Monitoring: kube-prometheus-stack values against the chart's own keys, the Grafana dashboard's
JSON and PromQL, and the component's wiring under mocks."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import promql_parser
import pulumi_kubernetes as k8s
import pytest
import yaml
from support.pulumi_mocks import (
    RecordingMocks,
    RecordingMonitor,
    generated_secret,
    is_secret,
    resolve,
    run_under_mocks,
)
from support.specs import KUBE_PROMETHEUS_STACK_SPEC, require_tree

from components.k8s_cluster import ROLE_LABEL, SERVER_TAINT
from components.monitoring import Monitoring, MonitoringArgs
from components.monitoring_config import (
    APP_VERSION,
    CHART_VERSION,
    DATASOURCE_UID,
    GRAFANA_ADMIN_SECRET,
    GRAFANA_NODE_PORT,
    K3S_HIDDEN_COMPONENTS,
    PROMETHEUS_NODE_PORT,
    dashboard,
    monitoring_values,
)

K3S: dict[str, Any] = {
    "k3s": True,
    "control_taint": SERVER_TAINT,
    "control_label": f"{ROLE_LABEL}=server",
}

#: Subchart values the parent values.yaml does not list, each checked in its subchart's values
#: or templates: grafana chart 12.11.1 (grafana-community/helm-charts charts/grafana:
#: values.yaml `service.type`, `nodeSelector`, `tolerations`; templates/service.yaml reads
#: `service.nodePort` when the type is NodePort), kube-state-metrics 8.4.0 and
#: prometheus-node-exporter 4.56.1 (prometheus-community/helm-charts, values.yaml).
SUBCHART_KEYS = {
    "grafana.service.type",
    "grafana.service.nodePort",
    "grafana.nodeSelector",
    "grafana.tolerations",
    "kube-state-metrics.nodeSelector",
    "kube-state-metrics.tolerations",
    "prometheus-node-exporter.tolerations",
}
#: What templates/prometheus/podmonitors.yaml (chart 88.5.3) reads from an additional PodMonitor.
POD_MONITOR_KEYS = {
    "name", "additionalLabels", "jobLabel", "namespaceSelector", "selector", "podTargetLabels",
    "sampleLimit", "podMetricsEndpoints", "fallbackScrapeProtocol", "attachMetadata",
}  # fmt: skip
#: Fields of the operator's PodMetricsEndpoint that we use (monitoring.coreos.com/v1).
ENDPOINT_KEYS = {"port", "path", "interval", "scrapeTimeout", "scheme"}


@pytest.fixture(scope="module")
def chart_values() -> dict[str, Any]:
    path = require_tree(KUBE_PROMETHEUS_STACK_SPEC) / "values.yaml"
    return yaml.safe_load(path.read_text())


def unknown_keys(ours: dict[str, Any], chart: Any, prefix: str = "") -> list[str]:
    """Paths we set that the chart's values do not have (or have with another type). Below a
    key whose default is an empty mapping (nodeSelector, resources, storageSpec) any content is
    the user's; lists are taken whole."""
    unknown = []
    for key, value in ours.items():
        path = f"{prefix}.{key}" if prefix else key
        if path in SUBCHART_KEYS:
            continue
        if not isinstance(chart, dict) or key not in chart:
            unknown.append(path)
            continue
        default = chart[key]
        if default is not None and not isinstance(value, type(default)):
            unknown.append(f"{path} ({type(value).__name__}, chart has {type(default).__name__})")
        elif isinstance(value, dict) and default:
            unknown += unknown_keys(value, default, path)
    return unknown


def leaves(values: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(values, dict):
        found: dict[str, Any] = {}
        for key, value in values.items():
            found.update(leaves(value, f"{prefix}.{key}" if prefix else key))
        return found
    return {prefix: values}


def tolerates(tolerations: list[dict[str, str]], taint: str) -> bool:
    """Kubernetes' matching of a toleration list against a `key=value:Effect` taint."""
    key, _, rest = taint.partition("=")
    value, _, effect = rest.partition(":")
    for t in tolerations:
        if t.get("effect") not in (None, "", effect):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", key):
            return True
        if t.get("operator", "Equal") == "Equal" and (t.get("key"), t.get("value")) == (key, value):
            return True
    return False


CONFIGS: dict[str, dict[str, Any]] = {
    "k3s-both": {"openfaas": True, "openwhisk_namespace": "openwhisk", **K3S},
    "k3s-openfaas-pvc": {
        "openfaas": True,
        "openwhisk_namespace": None,
        "storage_class": "lp",
        **K3S,
    },
    "existing-openwhisk": {"openfaas": False, "openwhisk_namespace": "ow"},
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_values_use_only_chart_keys(config: dict[str, Any], chart_values: dict[str, Any]) -> None:
    values = monitoring_values(**config)
    assert unknown_keys(values, chart_values) == []
    # The walker does catch a wrong key (this test would pass vacuously otherwise).
    assert unknown_keys({"prometheus": {"prometheusSpec": {"scrapeIntervall": "5s"}}}, chart_values)
    assert unknown_keys({"grafana": {"adminPasword": "x"}}, chart_values)


def test_every_selector_switch_is_off(chart_values: dict[str, Any]) -> None:
    spec: dict[str, Any] = monitoring_values(openfaas=True, openwhisk_namespace=None)["prometheus"][
        "prometheusSpec"
    ]  # type: ignore[index]
    switches = {
        k for k in chart_values["prometheus"]["prometheusSpec"] if k.endswith("NilUsesHelmValues")
    }
    assert {
        "serviceMonitorSelectorNilUsesHelmValues",
        "podMonitorSelectorNilUsesHelmValues",
        "ruleSelectorNilUsesHelmValues",
        "probeSelectorNilUsesHelmValues",
    } <= switches
    assert {k: spec.get(k) for k in switches} == dict.fromkeys(switches, False)


def test_service_ports_and_storage(chart_values: dict[str, Any]) -> None:
    values: dict[str, Any] = monitoring_values(**CONFIGS["k3s-openfaas-pvc"])
    assert values["prometheus"]["service"] == {"type": "NodePort", "nodePort": PROMETHEUS_NODE_PORT}
    assert values["grafana"]["service"] == {"type": "NodePort", "nodePort": GRAFANA_NODE_PORT}
    assert len({PROMETHEUS_NODE_PORT, GRAFANA_NODE_PORT, 31112, 31090, 31001}) == 5
    assert all(30000 <= p <= 32767 for p in (PROMETHEUS_NODE_PORT, GRAFANA_NODE_PORT))
    assert "alertmanager" not in values or "service" not in values["alertmanager"]
    spec = values["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "lp"
    assert spec["retention"] == "15d"
    # Without a storage class: the operator's emptyDir (the chart's storageSpec default is {}).
    plain: dict[str, Any] = monitoring_values(openfaas=True, openwhisk_namespace=None)
    assert "storageSpec" not in plain["prometheus"]["prometheusSpec"]
    assert chart_values["prometheus"]["prometheusSpec"]["storageSpec"] == {}


def test_grafana_password_comes_from_our_secret_only(chart_values: dict[str, Any]) -> None:
    grafana: dict[str, Any] = monitoring_values(**CONFIGS["k3s-both"])["grafana"]  # type: ignore[assignment]
    assert grafana["admin"]["existingSecret"] == GRAFANA_ADMIN_SECRET
    # The key names our Secret uses are the chart's.
    defaults = chart_values["grafana"]["admin"]
    assert grafana["admin"]["userKey"] == defaults["userKey"] == "admin-user"
    assert grafana["admin"]["passwordKey"] == defaults["passwordKey"] == "admin-password"
    assert "adminPassword" not in grafana
    # The dashboard ConfigMap's label is what the sidecar watches, in every namespace.
    sidecar = chart_values["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"], sidecar["searchNamespace"]) == (
        "grafana_dashboard",
        "1",
        "ALL",
    )


def test_k3s_placement_and_hidden_monitors() -> None:
    values: dict[str, Any] = monitoring_values(**CONFIGS["k3s-both"])
    assert set(K3S_HIDDEN_COMPONENTS) == {
        "kubeEtcd",
        "kubeControllerManager",
        "kubeScheduler",
        "kubeProxy",
    }
    for component in K3S_HIDDEN_COMPONENTS:
        assert values[component] == {"enabled": False}
    selector = {ROLE_LABEL: "server"}
    control = [
        values["prometheus"]["prometheusSpec"],
        values["alertmanager"]["alertmanagerSpec"],
        values["prometheusOperator"],
        values["prometheusOperator"]["admissionWebhooks"]["patch"],
        values["grafana"],
        values["kube-state-metrics"],
    ]
    for section in control:
        assert section["nodeSelector"] == selector
        assert tolerates(section["tolerations"], SERVER_TAINT)
    exporter = values["prometheus-node-exporter"]
    assert "nodeSelector" not in exporter
    assert tolerates(exporter["tolerations"], SERVER_TAINT)
    assert tolerates(exporter["tolerations"], "other=x:NoSchedule")
    assert not tolerates([], SERVER_TAINT)


def test_existing_clusters_get_no_placement_and_keep_every_monitor() -> None:
    values: dict[str, Any] = monitoring_values(**CONFIGS["existing-openwhisk"])
    paths = leaves(values)
    assert not [p for p in paths if "nodeSelector" in p or "tolerations" in p]
    assert not set(K3S_HIDDEN_COMPONENTS) & set(values)


@pytest.mark.parametrize("openfaas", [False, True])
@pytest.mark.parametrize("openwhisk_namespace", [None, "ow"])
def test_pod_monitors_only_for_the_frameworks_present(
    openfaas: bool, openwhisk_namespace: str | None
) -> None:
    values: dict[str, Any] = monitoring_values(
        openfaas=openfaas, openwhisk_namespace=openwhisk_namespace, openwhisk_release="wsk"
    )
    monitors = {m["name"]: m for m in values["prometheus"]["additionalPodMonitors"]}
    expected = set()
    if openfaas:
        expected.add("openfaas-gateway")
    if openwhisk_namespace:
        expected |= {"openwhisk-controller", "openwhisk-invoker"}
    assert set(monitors) == expected
    assert "additionalServiceMonitors" not in values["prometheus"]
    for monitor in monitors.values():
        assert set(monitor) <= POD_MONITOR_KEYS
        for endpoint in monitor["podMetricsEndpoints"]:
            assert set(endpoint) <= ENDPOINT_KEYS
            assert endpoint["path"] == "/metrics"
    if openfaas:
        gateway = monitors["openfaas-gateway"]
        assert gateway["selector"] == {"matchLabels": {"app": "gateway"}}
        assert gateway["namespaceSelector"] == {"matchNames": ["openfaas"]}
        assert gateway["podMetricsEndpoints"][0]["port"] == "gw-metrics"
    if openwhisk_namespace:
        for component in ("controller", "invoker"):
            monitor = monitors[f"openwhisk-{component}"]
            assert monitor["selector"] == {"matchLabels": {"name": f"wsk-{component}"}}
            assert monitor["namespaceSelector"] == {"matchNames": ["ow"]}
            assert monitor["podMetricsEndpoints"][0]["port"] == component


def test_the_new_scheduler_gets_its_own_pod_monitor() -> None:
    values: dict[str, Any] = monitoring_values(
        openfaas=False,
        openwhisk_namespace="ow",
        openwhisk_components=("controller", "invoker", "scheduler"),
    )
    monitors = {m["name"]: m for m in values["prometheus"]["additionalPodMonitors"]}
    scheduler = monitors["openwhisk-scheduler"]
    assert scheduler["selector"] == {"matchLabels": {"name": "owdev-scheduler"}}
    assert scheduler["podMetricsEndpoints"][0]["port"] == "scheduler"


def exprs(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in board["panels"] for t in p["targets"]]


@pytest.mark.parametrize("openfaas", [False, True])
@pytest.mark.parametrize("openwhisk_namespace", [None, "ow"])
def test_dashboard_is_valid_json_with_parseable_promql(
    openfaas: bool, openwhisk_namespace: str | None
) -> None:
    board = json.loads(
        json.dumps(dashboard(openfaas=openfaas, openwhisk_namespace=openwhisk_namespace))
    )
    assert board["uid"] == "faasbench-functions"
    panels = board["panels"]
    assert bool(panels) == (openfaas or openwhisk_namespace is not None)
    assert len({p["id"] for p in panels}) == len(panels)
    cells = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in panels]
    assert len(set(cells)) == len(cells), "panels overlap"
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
        assert panel["targets"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID
            # Grafana substitutes $__rate_interval before Prometheus sees the query.
            promql_parser.parse(target["expr"].replace("$__rate_interval", "1m"))
    text = " ".join(exprs(board))
    for metric in (
        "gateway_function_invocation_total",
        "gateway_functions_seconds_bucket",
        "gateway_service_count",
        "kube_deployment_status_replicas_available",
    ):
        assert (metric in text) == openfaas, metric
    if panels:
        assert "container_cpu_usage_seconds_total" in text
        assert "container_memory_working_set_bytes" in text
    if openwhisk_namespace:
        assert 'namespace="ow"' in text


def test_the_promql_check_rejects_broken_queries() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        promql_parser.parse("sum(rate(gateway_function_invocation_total[1m])")


def test_datasource_uid_is_the_charts(chart_values: dict[str, Any]) -> None:
    assert chart_values["grafana"]["sidecar"]["datasources"]["uid"] == DATASOURCE_UID


def test_chart_version_and_app_version_match_chart_yaml() -> None:
    path = require_tree(KUBE_PROMETHEUS_STACK_SPEC) / "Chart.yaml"
    chart = yaml.safe_load(path.read_text())
    assert (chart["name"], chart["version"], chart["appVersion"]) == (
        "kube-prometheus-stack",
        CHART_VERSION,
        APP_VERSION,
    )


# --- the component under mocks --------------------------------------------------------------


class Registrations:
    """Provider and parent of every registration (RecordingMocks keeps neither)."""

    def __init__(self) -> None:
        self.provider: dict[str, str] = {}
        self.parent: dict[str, str] = {}

    def wrap(self) -> Any:
        original = RecordingMonitor.RegisterResource
        seen = self

        def register(monitor: RecordingMonitor, request: Any) -> Any:
            seen.provider[request.name] = request.provider
            seen.parent[request.name] = request.parent
            return original(monitor, request)

        return mock.patch.object(RecordingMonitor, "RegisterResource", register)


@pytest.fixture(scope="module")
def mocked() -> tuple[RecordingMocks, dict[str, Any], Registrations]:
    seen = Registrations()

    def body() -> dict[str, Any]:
        provider = k8s.Provider("cluster", kubeconfig="{}")
        component = Monitoring(
            "monitoring",
            MonitoringArgs(
                provider=provider,
                openfaas=True,
                openwhisk_namespace=None,
                storage_class="local-path",
                **K3S,
            ),
        )
        return {
            "password": resolve(component.grafana_password),
            "password_secret": is_secret(component.grafana_password),
            "prometheus_node_port": component.prometheus_node_port,
            "grafana_node_port": component.grafana_node_port,
            "versions": component.versions,
            "ready": [r._name for r in component.ready],  # type: ignore[attr-defined]
        }

    with seen.wrap():
        mocks, result = run_under_mocks(body)
    return mocks, result, seen


def test_release_chart_and_wiring(
    mocked: tuple[RecordingMocks, dict[str, Any], Registrations],
) -> None:
    m, _, seen = mocked
    release = m.one("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == "kube-prometheus-stack"
    assert release.inputs["version"] == "88.5.3"
    assert release.inputs["repositoryOpts"] == {
        "repo": "https://prometheus-community.github.io/helm-charts"
    }
    assert release.inputs["namespace"] == "monitoring"
    assert release.inputs["timeout"] >= 900
    assert release.inputs["values"] == json.loads(
        json.dumps(
            monitoring_values(
                openfaas=True, openwhisk_namespace=None, storage_class="local-path", **K3S
            )
        )
    )
    assert {"monitoring-namespace", "monitoring-grafana-admin"} <= set(m.dependencies[release.name])
    [component] = m.of_type("faasbench:monitoring:Monitoring")
    kube = [r for r in m.resources if r.typ.startswith("kubernetes:")]
    assert len(kube) == 4, [r.typ for r in kube]
    for resource in kube:
        assert seen.provider[resource.name].split("::")[-2:] == ["cluster", "cluster-id"]
    for resource in m.resources:
        if resource is not component and resource.name != "cluster":
            assert seen.parent[resource.name].endswith("::monitoring"), resource.name
            assert "faasbench:monitoring:Monitoring" in seen.parent[resource.name]


def test_grafana_secret_and_dashboard(
    mocked: tuple[RecordingMocks, dict[str, Any], Registrations],
) -> None:
    m, result, _ = mocked
    password = generated_secret("monitoring-grafana-password", "password")
    assert result["password"] == password
    assert result["password_secret"] is True
    [secret] = m.of_type("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"] == {"name": GRAFANA_ADMIN_SECRET, "namespace": "monitoring"}
    assert secret.inputs["stringData"] == {"admin-user": "admin", "admin-password": password}
    assert "stringData" in secret.secret_inputs
    release = m.one("kubernetes:helm.sh/v3:Release")
    assert "values" not in release.secret_inputs, "values stay readable in previews"
    for resource in m.resources:
        plain = {k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs}
        assert password not in repr(plain), resource.name
    [board] = m.of_type("kubernetes:core/v1:ConfigMap")
    assert board.inputs["metadata"]["namespace"] == "monitoring"
    assert board.inputs["metadata"]["labels"] == {"grafana_dashboard": "1"}
    [content] = board.inputs["data"].values()
    assert json.loads(content) == json.loads(
        json.dumps(dashboard(openfaas=True, openwhisk_namespace=None))
    )


def test_component_outputs(mocked: tuple[RecordingMocks, dict[str, Any], Registrations]) -> None:
    _, result, _ = mocked
    assert result["prometheus_node_port"] == PROMETHEUS_NODE_PORT == 30900
    assert result["grafana_node_port"] == GRAFANA_NODE_PORT == 30300
    assert result["versions"] == {"chart": "88.5.3", "prometheus_operator": "v0.93.1"}
    assert "monitoring-release" in result["ready"]
