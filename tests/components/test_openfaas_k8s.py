"""OpenFaaS on Kubernetes: chart values against the chart's own keys, and the release wiring."""

from __future__ import annotations

from typing import Any

import pytest
from support.pulumi_mocks import ProgramRun, run_program, stack_file_config

from components.k8s_cluster import ROLE_LABEL, SERVER_TAINT
from components.openfaas_k8s_config import CE_LIMITS, openfaas_values

# Keys of the openfaas chart 15.0.6 (openfaas/faas-netes chart/openfaas/values.yaml at
# 662ce9ce): top-level keys, and those of the sections we set. `faasnetes.readTimeout` and
# `faasnetes.writeTimeout` are not in values.yaml but templates/gateway-dep.yaml reads them
# (falling back to the gateway's). The chart's files are not copied here (OpenFaaS CE EULA).
CHART_KEYS: dict[str, set[str] | None] = {
    "functionNamespace": None,
    "basic_auth": None,
    "generateBasicAuth": None,
    "openfaasPro": None,
    "serviceType": None,
    "exposeServices": None,
    "clusterRole": None,
    "httpProbe": None,
    "async": None,
    "nodeSelector": None,
    "tolerations": None,
    "affinity": None,
    "gateway": {
        "image", "readTimeout", "writeTimeout", "upstreamTimeout", "replicas", "scaleFromZero",
        "nodePort", "maxIdleConns", "maxIdleConnsPerHost", "directFunctions",
        "logsProviderURL", "probeFunctions", "resources",
    },
    "faasnetes": {"image", "resources", "readTimeout", "writeTimeout"},
    "queueWorker": {"image", "replicas", "queueGroup", "ackWait", "resources", "maxInflight"},
    "prometheus": {"image", "create", "retention", "resources", "pvc"},
    "alertmanager": {"image", "create", "resources"},
}  # fmt: skip


def durations_s(value: str) -> float:
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        else:
            total += float(number) * units[char]
            number = ""
    return total


@pytest.mark.parametrize("pro", [False, True])
def test_values_use_only_chart_keys(pro: bool) -> None:
    values = openfaas_values(
        pro=pro, control_taint=SERVER_TAINT, control_label=f"{ROLE_LABEL}=server"
    )
    for key, value in values.items():
        assert key in CHART_KEYS, f"{key} is not an openfaas chart value"
        nested = CHART_KEYS[key]
        if nested is not None:
            assert isinstance(value, dict)
            assert set(value) <= nested, f"{key}: {set(value) - nested} unknown"
    assert values["openfaasPro"] is pro


def test_values_keep_auth_on_and_timeouts_ordered() -> None:
    values: dict[str, Any] = openfaas_values(
        pro=False, control_taint=SERVER_TAINT, control_label=f"{ROLE_LABEL}=server"
    )
    assert values["basic_auth"] is True
    assert values["generateBasicAuth"] is False
    gateway = values["gateway"]
    assert durations_s(gateway["upstreamTimeout"]) >= 300, "5-minute functions"
    assert durations_s(gateway["upstreamTimeout"]) < durations_s(gateway["readTimeout"])
    assert durations_s(gateway["upstreamTimeout"]) < durations_s(gateway["writeTimeout"])
    assert gateway["nodePort"] == 31112
    # Control components on the tainted server; functions (not covered by these) on agents.
    assert values["nodeSelector"] == {ROLE_LABEL: "server"}
    assert values["tolerations"] == [
        {
            "key": "faasbench.io/control-plane",
            "operator": "Equal",
            "value": "true",
            "effect": "NoSchedule",
        }
    ]


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return run_program(stack_file_config("aws"), stack="aws")


def test_release_namespaces_and_basic_auth_secret(run: ProgramRun) -> None:
    m = run.mocks
    namespaces = {
        r.inputs["metadata"]["name"]: r for r in m.of_type("kubernetes:core/v1:Namespace")
    }
    assert {"openfaas", "openfaas-fn"} <= set(namespaces)
    [secret] = [
        r
        for r in m.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "basic-auth"
    ]
    assert secret.inputs["metadata"]["namespace"] == "openfaas"
    assert set(secret.inputs["stringData"]) == {"basic-auth-user", "basic-auth-password"}
    assert "stringData" in secret.secret_inputs
    assert secret.inputs["stringData"]["basic-auth-password"] == run.value("openfaas.password")
    release = m.one("kubernetes:helm.sh/v3:Release", "openfaas")
    assert release.inputs["chart"] == "openfaas"
    assert release.inputs["version"] == "15.0.6"
    assert release.inputs["repositoryOpts"] == {"repo": "https://openfaas.github.io/faas-netes/"}
    assert release.inputs["namespace"] == "openfaas"
    assert release.inputs["timeout"] >= 600
    assert {"openfaas-openfaas", "openfaas-openfaas-fn", "openfaas-basic-auth"} <= set(
        m.dependencies[release.name]
    )
    names = {r.inputs["metadata"]["name"] for r in m.of_type("kubernetes:core/v1:Secret")}
    assert "openfaas-license" not in names, "no licence secret without Pro"


def test_openfaas_outputs(run: ProgramRun) -> None:
    assert run.secret("openfaas.password")
    assert not run.secret("openfaas.username")
    assert run.value("openfaas.username") == "admin"
    assert run.value("openfaas.namespace") == "openfaas-fn"
    assert {k: run.value(f"openfaas.limits.{k}") for k in CE_LIMITS} == CE_LIMITS
    assert run.value("openfaas.versions.gateway") == "0.27.13"
    assert run.value("openfaas.versions.provider") == "faas-netes 0.18.17"
    assert run.value("openfaas.url") == run.value("gateway_url")
    assert run.value("gateway_url").endswith(":8080")
    # Kubernetes stacks are monitored by kube-prometheus-stack, behind HAProxy's 9090.
    assert run.value("prometheus.kind") == "kube-prometheus-stack"
    assert run.value("prometheus.url").endswith(":9090")
    assert run.secret("ftp.password")
    assert run.value("ftp.test_file_bytes") == 1048576


def test_a_pro_licence_is_a_secret_and_lifts_the_limits() -> None:
    config = {**stack_file_config("aws"), "openfaasLicense": "LICENSE-JWT-abc"}
    pro = run_program(config, ("openfaasLicense",), stack="aws")
    [licence] = [
        r
        for r in pro.mocks.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["name"] == "openfaas-license"
    ]
    assert "stringData" in licence.secret_inputs
    assert pro.value("openfaas.limits.max_replicas") is None
    assert pro.value("openfaas.limits.scale_to_zero") is True
    release = pro.mocks.one("kubernetes:helm.sh/v3:Release", "openfaas")
    assert release.inputs["values"]["openfaasPro"] is True
    for resource in pro.mocks.resources:
        plain = {k: v for k, v in resource.inputs.items() if k not in resource.secret_inputs}
        assert "LICENSE-JWT-abc" not in repr(plain), resource.name
