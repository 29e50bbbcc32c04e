"""The Helm releases of each Kubernetes stack, rendered by a real Helm engine from the pinned
charts with exactly the values the program registers (a run under the mocks), checked as a
cluster would see them: every object valid for Kubernetes 1.36 (custom resources against their
CRDs), every values key read by the chart, and what the OpenWhisk release deploys."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.helm import ReleaseInputs, ignored_keys, manifests, render
from support.images import VERSIONS, is_pinned
from support.k8s_objects import CrdValidators, problems
from support.stack_manifests import CASES, StackManifests, stack_manifests

from components.openwhisk_config import UNPLACED_PARTS, server_parts
from components.pinned_source import PinnedTree

Stacks = Callable[[str], StackManifests]
OPENWHISK_CASES = [name for name in CASES if "openwhisk" in name]
METRICS_FLAG = "-Dwhisk.metrics.prometheus-enabled=true"


@pytest.fixture(scope="module")
def stacks(openwhisk_chart_source: PinnedTree, tmp_path_factory: pytest.TempPathFactory) -> Stacks:
    work = tmp_path_factory.mktemp("stacks")
    return lambda name: stack_manifests(name, openwhisk_chart_source, work)


def openwhisk(stack: StackManifests) -> list[dict[str, Any]]:
    return stack.releases["openwhisk-release"].objects


def named(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def env(workload: dict[str, Any], container: str) -> dict[str, str]:
    spec = workload["spec"]["template"]["spec"]
    [found] = [c for c in spec["containers"] if c["name"] == container]
    return {e["name"]: e.get("value") for e in found.get("env") or []}


# --- every object is one Kubernetes 1.36 accepts -------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_every_object_of_the_stack_is_valid_for_kubernetes_1_36(case: str, stacks: Stacks) -> None:
    stack = stacks(case)
    expected = {"monitoring-release"} | ({"openwhisk-release"} if "openwhisk" in case else set())
    assert set(stack.releases) == expected
    assert set(stack.not_rendered) == ({"openfaas-release"} if "openfaas" in case else set())
    crds = stack.crds()
    for name, release in stack.releases.items():
        assert release.objects, name
        assert problems(release.objects, crds) == [], name
    assert stack.own, "the program's own objects"
    assert problems(stack.own, crds) == []


def test_the_validation_rejects_unknown_fields_and_removed_apis(stacks: Stacks) -> None:
    stack = stacks("k3s-openwhisk")
    crds = stack.crds()
    monitoring = stack.releases["monitoring-release"].objects
    monitor = copy.deepcopy(next(o for o in monitoring if o["kind"] == "ServiceMonitor"))
    monitor["spec"]["endpoint"] = monitor["spec"]["endpoints"]  # a typo beside the right key
    deployment = copy.deepcopy(next(o for o in monitoring if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["port"] = 80
    budget = {
        "apiVersion": "policy/v1beta1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b"},
        "spec": {"minAvailable": 1},
    }
    found = problems([monitor, deployment, budget], crds)
    assert len(found) == 3
    assert "'endpoint' was unexpected" in found[0]
    assert "'port' was unexpected" in found[1]
    assert "serves no policy/v1beta1 PodDisruptionBudget" in found[2]
    assert CrdValidators([]).validator("monitoring.coreos.com/v1", "ServiceMonitor") is None


# --- every values key is read -----------------------------------------------------------------


def releases_of(stacks: Stacks, resource: str) -> list[tuple[Path, ReleaseInputs]]:
    found = []
    for case in CASES:
        release = stacks(case).releases.get(resource)
        if release is not None:
            found.append((release.chart, release.inputs))
    return found


def test_the_openwhisk_chart_reads_every_key_the_program_sets(stacks: Stacks) -> None:
    assert ignored_keys(releases_of(stacks, "openwhisk-release")) == []


def test_kube_prometheus_stack_reads_every_key_the_program_sets(stacks: Stacks) -> None:
    assert ignored_keys(releases_of(stacks, "monitoring-release")) == []


def test_the_ignored_key_check_finds_keys_the_chart_does_not_read(stacks: Stacks) -> None:
    [(chart, inputs), *_] = releases_of(stacks, "openwhisk-release")
    values = copy.deepcopy(inputs.values)
    values["affinity"]["providerNodeLabel"] = "core"  # only the (disabled) providers read it
    values["whisk"]["noSuchKey"] = True
    found = ignored_keys([(chart, ReleaseInputs(inputs.name, inputs.namespace, "", values))])
    assert sorted(found) == ["affinity.providerNodeLabel", "whisk.noSuchKey"]


# --- what the OpenWhisk release deploys -------------------------------------------------------


@pytest.mark.parametrize("case", OPENWHISK_CASES)
def test_openwhisk_serves_metrics_without_a_prometheus_or_grafana_of_its_own(
    case: str, stacks: Stacks
) -> None:
    objs = openwhisk(stacks(case))
    controller = env(named(objs, "StatefulSet", "owdev-controller"), "controller")
    invoker = env(named(objs, "StatefulSet", "owdev-invoker"), "invoker")
    # /metrics needs both whisk.metrics.kamon-enabled (METRICS_KAMON) and prometheus-enabled
    # (a -D flag: it has no environment fallback); see docs/architecture.md.
    for container, options in ((controller, "CONTROLLER_OPTS"), (invoker, "INVOKER_OPTS")):
        assert METRICS_FLAG in container[options].split()
        assert container["METRICS_KAMON"] == "true"
        assert "OPENWHISK_ENCODED_CONFIG" not in container
    if case.endswith("-new"):
        scheduler = env(named(objs, "StatefulSet", "owdev-scheduler"), "scheduler")
        assert METRICS_FLAG in scheduler["SCHEDULER_OPTS"].split()
        assert scheduler["METRICS_KAMON"] == "true"
    own_monitoring = [
        f"{o['kind']} {o['metadata']['name']}"
        for o in objs
        if "prometheus" in o["metadata"]["name"] or "grafana" in o["metadata"]["name"]
    ]
    assert own_monitoring == []
    assert not [o for o in objs if o["kind"] in {"ClusterRole", "ClusterRoleBinding"}]
    nginx = named(objs, "ConfigMap", "owdev-nginx")["data"]["nginx.conf"]
    assert "location /monitoring" not in nginx
    assert "location /api/v1" in nginx  # HAProxy's health check path


@pytest.mark.parametrize("case", OPENWHISK_CASES)
def test_no_pod_disruption_budget_of_a_removed_api(case: str, stacks: Stacks) -> None:
    release = stacks(case).releases["openwhisk-release"]
    assert not [o for o in release.objects if o["apiVersion"].startswith("policy/v1beta1")]
    # With `pdb.enable` the chart would render them (so the values key is what keeps them off).
    values = copy.deepcopy(release.inputs.values)
    values["pdb"]["enable"] = True
    values["invoker"]["containerFactory"]["kubernetes"]["replicaCount"] = 2
    turned_on = manifests(render(release.chart, values, name="owdev", namespace="openwhisk"))
    assert [m.obj for m in turned_on if m.obj["apiVersion"] == "policy/v1beta1"]


@pytest.mark.parametrize("case", OPENWHISK_CASES)
def test_the_api_url_openwhisk_announces_is_the_one_the_stack_exports(
    case: str, stacks: Stacks
) -> None:
    stack = stacks(case)
    config = named(openwhisk(stack), "ConfigMap", "owdev-whisk.config")["data"]
    exported = stack.run.value("openwhisk.api_host")
    assert config["whisk_external_api_host_url"] == exported
    assert exported == stack.run.value("gateway_url")
    # Actions and jobs keep the in-cluster address.
    assert (
        config["whisk_internal_api_host_url"] == "http://owdev-nginx.openwhisk.svc.cluster.local:80"
    )


@pytest.mark.parametrize("case", OPENWHISK_CASES)
def test_capacity_counts_exactly_the_long_running_pods_of_the_release(
    case: str, stacks: Stacks
) -> None:
    """plan_capacity's parts are the release's workloads (Jobs and Helm test pods end)."""
    objs = openwhisk(stacks(case))
    running = {
        o["metadata"]["name"].removeprefix("owdev-")
        for o in objs
        if o["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Pod"}
        and "helm.sh/hook" not in (o["metadata"].get("annotations") or {})
    }
    scheduler = "new" if case.endswith("-new") else "default"
    assert running == {*server_parts(scheduler), "invoker", *UNPLACED_PARTS}


# --- every image a rendered release runs is pinned and documented ---------------------------


def images_in(node: Any) -> set[str]:
    """Every `image:` string anywhere in an object (pods, workloads, operator resources)."""
    if isinstance(node, dict):
        found = {v for k, v in node.items() if k == "image" and isinstance(v, str)}
        return found.union(*(images_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(images_in(v) for v in node))
    return set()


@pytest.mark.parametrize("case", CASES)
def test_every_image_the_releases_run_is_pinned_and_documented(case: str, stacks: Stacks) -> None:
    documented = VERSIONS.read_text()
    stack = stacks(case)
    images = images_in([o for r in stack.releases.values() for o in r.objects] + stack.own)
    assert len(images) > 5, images
    problems = [
        f"{image}: " + ("not pinned" if not is_pinned(image) else "not in docs/versions.md")
        for image in sorted(images)
        if not is_pinned(image) or f"`{image}`" not in documented
    ]
    assert problems == []
