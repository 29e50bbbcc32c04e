"""KEDA: the stack under mocks in both modes, its two pinned charts rendered by a real Helm
engine with the program's values, every object (the charts', the program's own and the ones
the loader creates per function) valid for Kubernetes 1.36, custom resources against the CRDs
the KEDA and HTTP add-on charts install, and HAProxy's front before the interceptors.

CRD source: the ScaledObject, TriggerAuthentication and HTTPScaledObject schemas are the
`templates/crds/` of kedacore/charts keda@cbb9bb8c (v2.20.2) and http-add-on@c4b92e9e (0.15.0),
as those charts render them (`support.specs.KEDA_CHART_SPEC`, `HTTP_ADD_ON_CHART_SPEC`).
"""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.helm import crds, ignored_keys
from support.images import VERSIONS
from support.k8s_objects import CrdValidators, problems
from support.pulumi_mocks import stack_file_config
from support.stack_manifests import KEDA_CASES, StackManifests, stack_manifests

from components.haproxy import haproxy_settings
from components.keda_config import (
    HTTP_ADD_ON_CHART_VERSION,
    INTERCEPTOR_ADMIN_NODE_PORT,
    INTERCEPTOR_NODE_PORT,
    KEDA_CHART_VERSION,
    queue_internal_address,
)
from components.pinned_source import PinnedTree
from contract.haproxy import render_haproxy
from contract.keda import TRIGGER_AUTHENTICATION, function_host, jobs_key
from contract.keda_objects import Scaling, function_objects
from stacks.platform_keda import INTERCEPTOR_FRONT
from stacks.read_config import ConfigError, load_stack_config

Stacks = Callable[[str], StackManifests]
RELEASES = {"keda-release", "keda-http-add-on"}


@pytest.fixture(scope="module")
def stacks(openwhisk_chart_source: PinnedTree, tmp_path_factory: pytest.TempPathFactory) -> Stacks:
    work = tmp_path_factory.mktemp("keda-stacks")
    return lambda name: stack_manifests(name, openwhisk_chart_source, work)


def crd_validators(stack: StackManifests) -> CrdValidators:
    """The CRDs of every release: the crds/ folders (kube-prometheus-stack) and the CRDs
    KEDA's charts render as templates."""
    rendered = [
        o
        for r in stack.releases.values()
        for o in r.objects
        if o["kind"] == "CustomResourceDefinition"
    ]
    return CrdValidators([*(d for r in stack.releases.values() for d in crds(r.chart)), *rendered])


def function_set(mode: str, scaling: Scaling | None = None) -> list[dict[str, Any]]:
    return function_objects(
        mode,  # type: ignore[arg-type]
        "matrix",
        function="matrix",
        image="ghcr.io/example/faasbench-functions:1.0.0",
        replicas=1,
        memory_mb=256,
        cpu="500m",
        env={"LOG_LEVEL": "info"},
        scaling=scaling or Scaling(),
        queue_address=queue_internal_address() if mode == "queue" else None,
    )


@pytest.mark.parametrize("case", sorted(KEDA_CASES))
def test_every_object_is_valid_and_custom_resources_match_their_crds(
    case: str, stacks: Stacks
) -> None:
    stack = stacks(case)
    http = case.endswith("http")
    expected = {"monitoring-release", "keda-release"} | ({"keda-http-add-on"} if http else set())
    assert set(stack.releases) == expected
    assert stack.not_rendered == {}
    validators = crd_validators(stack)
    for key in [
        ("keda.sh/v1alpha1", "ScaledObject"),
        ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ]:
        assert validators.validator(*key) is not None, key
    if http:
        assert validators.validator("http.keda.sh/v1alpha1", "HTTPScaledObject") is not None
    for name, release in stack.releases.items():
        assert problems(release.objects, validators) == [], name
    assert problems(stack.own, validators) == []
    # What the loader creates for each function, in this mode.
    assert problems(function_set("http" if http else "queue"), validators) == []


def test_the_validation_catches_a_scaled_object_field_keda_does_not_have(stacks: Stacks) -> None:
    validators = crd_validators(stacks("k3s-keda-queue"))
    scaled = copy.deepcopy(function_set("queue")[-1])
    scaled["spec"]["pollingIntervalSeconds"] = 5
    broken_trigger = copy.deepcopy(function_set("queue")[-1])
    del broken_trigger["spec"]["triggers"][0]["type"]
    found = problems([scaled, broken_trigger], validators)
    assert len(found) == 2
    assert "'pollingIntervalSeconds' was unexpected" in found[0]
    assert "'type' is a required property" in found[1]
    validators = crd_validators(stacks("k3s-keda-http"))
    routed = copy.deepcopy(function_set("http")[-1])
    routed["spec"]["scalingMetric"]["concurrency"]["target"] = 3
    assert "'target' was unexpected" in problems([routed], validators)[0]


def test_both_charts_read_every_key_the_program_sets(stacks: Stacks) -> None:
    for resource in RELEASES:
        renders = [
            (release.chart, release.inputs)
            for case in KEDA_CASES
            if (release := stacks(case).releases.get(resource)) is not None
        ]
        assert renders, resource
        assert ignored_keys(renders) == [], resource


def images(stack: StackManifests, release: str) -> set[str]:
    return {
        container["image"]
        for o in stack.releases[release].objects
        if o["kind"] == "Deployment"
        for container in o["spec"]["template"]["spec"]["containers"]
    }


def test_the_charts_run_the_pinned_images_each_documented(stacks: Stacks) -> None:
    stack = stacks("k3s-keda-http")
    for resource, chart, version in (
        ("keda-release", "keda", KEDA_CHART_VERSION),
        ("keda-http-add-on", "keda-add-ons-http", HTTP_ADD_ON_CHART_VERSION),
    ):
        inputs = stack.run.mocks.one("kubernetes:helm.sh/v3:Release", resource).inputs
        assert inputs["repositoryOpts"] == {"repo": "https://kedacore.github.io/charts"}
        assert (inputs["chart"], inputs["version"]) == (chart, version)
    documented = VERSIONS.read_text()
    for release in RELEASES:
        for image in images(stack, release):
            assert f"`{image}`" in documented, image
    assert images(stack, "keda-release") == {
        f"ghcr.io/kedacore/{name}:{KEDA_CHART_VERSION}"
        for name in ("keda", "keda-metrics-apiserver", "keda-admission-webhooks")
    }
    assert images(stack, "keda-http-add-on") == {
        f"ghcr.io/kedacore/http-add-on-{name}:{HTTP_ADD_ON_CHART_VERSION}"
        for name in ("operator", "interceptor", "scaler")
    }


def pods(stack: StackManifests, release: str, component: str) -> dict[str, Any]:
    [found] = [
        o
        for o in stack.releases[release].objects
        if o["kind"] == "Deployment"
        and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
        == component
    ]
    return found["spec"]["template"]


def own(stack: StackManifests, kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in stack.own if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def matches(selector: dict[str, str], template: dict[str, Any]) -> bool:
    labels = template["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector.items())


def container_ports(template: dict[str, Any]) -> set[str]:
    return {p["name"] for c in template["spec"]["containers"] for p in c.get("ports", [])}


def test_the_interceptor_node_port_and_the_scaler_monitor_select_the_add_on_pods(
    stacks: Stacks,
) -> None:
    stack = stacks("k3s-keda-http")
    interceptor = pods(stack, "keda-http-add-on", "interceptor")
    service = own(stack, "Service", "keda-interceptor-nodeport")
    assert matches(service["spec"]["selector"], interceptor)
    ports = {p["targetPort"]: p["nodePort"] for p in service["spec"]["ports"]}
    assert ports == {"proxy": INTERCEPTOR_NODE_PORT, "admin": INTERCEPTOR_ADMIN_NODE_PORT}
    assert set(ports) <= container_ports(interceptor)
    scaler = pods(stack, "keda-http-add-on", "scaler")
    monitor = own(stack, "PodMonitor", "keda-http-add-on-scaler")
    assert matches(monitor["spec"]["selector"]["matchLabels"], scaler)
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] in container_ports(scaler)
    # Nothing else selects the interceptors: the scaler's pods are not behind the NodePort.
    assert not matches(service["spec"]["selector"], scaler)


def test_keda_operator_and_metrics_server_are_scraped(stacks: Stacks) -> None:
    stack = stacks("existing-keda-queue")
    monitors = [o for o in stack.releases["keda-release"].objects if o["kind"] == "PodMonitor"]
    assert len(monitors) == 2
    workloads = [o for o in stack.releases["keda-release"].objects if o["kind"] == "Deployment"]
    for monitor in monitors:
        selected = [
            w
            for w in workloads
            if matches(monitor["spec"]["selector"]["matchLabels"], w["spec"]["template"])
        ]
        assert len(selected) == 1, monitor["metadata"]["name"]
        port = monitor["spec"]["podMetricsEndpoints"][0]["port"]
        assert port in container_ports(selected[0]["spec"]["template"])


def test_the_queue_and_its_scaled_objects_agree(stacks: Stacks) -> None:
    stack = stacks("k3s-keda-queue")
    service = own(stack, "Service", "faasbench-queue")
    redis = own(stack, "Deployment", "faasbench-queue")
    assert matches(service["spec"]["selector"], redis["spec"]["template"])
    assert queue_internal_address().startswith(f"{service['metadata']['name']}.faasbench-fn.svc:")
    auth = own(stack, "TriggerAuthentication", TRIGGER_AUTHENTICATION)
    [ref] = auth["spec"]["secretTargetRef"]
    secret = own(stack, "Secret", ref["name"])
    assert ref["key"] in secret["stringData"]
    scaled = function_set("queue", Scaling(polling_interval_s=2, cooldown_s=30, target=7))[-1]
    assert scaled["spec"]["pollingInterval"] == 2
    assert scaled["spec"]["cooldownPeriod"] == 30
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["metadata"]["listName"] == jobs_key("matrix")
    assert trigger["metadata"]["listLength"] == "7"
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    assert stack.run.value("keda.queue.internal_address") == queue_internal_address()
    assert stack.run.secret("keda.queue.password")
    assert "gateway_url" not in stack.run.outputs


def test_http_mode_routes_by_host_through_haproxy(stacks: Stacks, tmp_path: Path) -> None:
    stack = stacks("k3s-keda-http")
    assert stack.run.value("gateway_url").endswith(":8080")
    routed = function_set("http")[-1]
    assert routed["spec"]["hosts"] == [function_host("matrix")]
    config = render_haproxy(haproxy_settings(INTERCEPTOR_FRONT, ["10.0.1.5", "10.0.1.6"], None))
    assert f"server worker-0 10.0.1.5:{INTERCEPTOR_NODE_PORT}" in config
    assert f"port {INTERCEPTOR_ADMIN_NODE_PORT}" in config
    assert "uri /readyz" in config
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"orchestrator": "swarm"}, "framework keda runs only on orchestrator k8s, not swarm"),
        ({"kedaMode": "kafka"}, "kedaMode"),
    ],
)
def test_bad_keda_configuration_is_refused_with_the_key(
    extra: dict[str, str], message: str
) -> None:
    config = {**stack_file_config("aws"), "framework": "keda", **extra}
    with pytest.raises(ConfigError, match=message) as caught:
        load_stack_config(config)
    # One problem, on one line, naming the key.
    assert len(str(caught.value).strip().splitlines()) == 2
