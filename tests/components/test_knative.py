"""Knative Serving: the release manifests fetched pinned and verified, the settings faasbench
changes in them, every object the program applies validated (kubernetes-validate; custom
objects against their CRDs), the Knative Service schema against the release's Service CRD,
HAProxy in front of Kourier, the PodMonitors, and the stacks under mocks."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.k8s_objects import CrdValidators, problems, program_objects
from support.knative_release import ServedRelease, local_release, manifests
from support.pulumi_mocks import FAKE_KUBECONFIG, run_program, stack_file_config
from support.specs import KNATIVE_SERVICE_CRD, SHARED, require_file

from components import knative_config
from components.knative import KnativeFetchError, fetch_manifest, release_objects
from components.knative_config import (
    KnativeManifestError,
    KnativeSettings,
    configure_kourier,
    configure_serving,
    kubernetes_version_ok,
    pod_monitors,
)
from components.pinned_source import PinnedFetchError, fetch_release_asset, listed_sha256
from contract.haproxy import render_haproxy
from contract.knative import KnativeKnobs, render_service, service_host
from contract.outputs import StackOutputs
from stacks.config import StackConfig
from stacks.platform_knative import KNATIVE_FRONT

POD_MONITOR_CRD = SHARED / "charts/kube-prometheus-stack/charts/crds/crds/crd-podmonitors.yaml"


def knative_config_for(cloud: str = "aws", **extra: str) -> dict[str, object]:
    config: dict[str, object] = {
        **stack_file_config("aws"),
        "orchestrator": "k8s",
        "framework": "knative",
        **extra,
    }
    if cloud == "existing":
        config = {k: v for k, v in config.items() if k != "allowedSshCidrs"}
        config.update(cloud="existing", kubeconfig=FAKE_KUBECONFIG)
    return config


def service_crd() -> CrdValidators:
    return CrdValidators([yaml.safe_load(require_file(KNATIVE_SERVICE_CRD).read_text())])


# --- the release: pinned, verified, cached ----------------------------------------------------


def test_the_pins_name_the_newest_release_and_its_minimum_kubernetes() -> None:
    assert knative_config.SERVING_TAG == "knative-v1.23.0"
    assert knative_config.KOURIER_TAG == "knative-v1.23.0"
    assert knative_config.SERVING_CORE.url.endswith(
        "/knative/serving/releases/download/knative-v1.23.0/serving-core.yaml"
    )
    assert knative_config.KOURIER.checksums_url.endswith(
        "/knative-extensions/net-kourier/releases/download/knative-v1.23.0/checksums.txt"
    )
    # The default k3s pin satisfies Knative's minimum; 1.33 would not.
    assert kubernetes_version_ok(StackConfig.model_fields["cluster"].default.k3s_version)
    assert not kubernetes_version_ok("v1.33.9+k3s1")


def test_manifests_are_checked_against_the_release_checksums_and_cached(
    knative_release_stand_in: ServedRelease, tmp_path: Path
) -> None:
    asset = knative_release_stand_in.assets["serving-core.yaml"]
    path, digest = fetch_release_asset(asset, cache=tmp_path)
    data = knative_release_stand_in.files["serving-core.yaml"]
    assert digest == hashlib.sha256(data).hexdigest()
    assert path.read_bytes() == data
    # Cached: served no more, still found (the checksums listing is kept too).
    gone = dataclasses.replace(asset, host="http://127.0.0.1:9")
    assert fetch_release_asset(gone, cache=tmp_path) == (path, digest)


def test_a_manifest_that_differs_from_its_checksum_or_pin_is_refused(tmp_path: Path) -> None:
    wrong = {"knative/serving": b"0" * 64 + b"  serving-core.yaml\n"}
    with local_release(checksums=wrong) as release:
        with pytest.raises(PinnedFetchError, match=r"serving-core.yaml.*refusing to use it"):
            fetch_release_asset(release.assets["serving-core.yaml"], cache=tmp_path / "a")
        pinned = dataclasses.replace(release.assets["kourier.yaml"], sha256="1" * 64)
        with pytest.raises(PinnedFetchError, match=r"expected 1111"):
            fetch_release_asset(pinned, cache=tmp_path / "b")
        unlisted = dataclasses.replace(release.assets["kourier.yaml"], name="other.yaml")
        with pytest.raises(PinnedFetchError, match=r"lists no sha256 for other\.yaml"):
            fetch_release_asset(unlisted, cache=tmp_path / "c")


def test_a_configured_sha256_replaces_the_checksums_file(
    knative_release_stand_in: ServedRelease,
) -> None:
    data = knative_release_stand_in.files["kourier.yaml"]
    text, _ = fetch_manifest(knative_config.KOURIER, hashlib.sha256(data).hexdigest())
    assert text.encode() == data
    with pytest.raises(KnativeFetchError, match=r"Knative's kourier.yaml: .*expected 2222"):
        fetch_manifest(knative_config.KOURIER, "2" * 64)


def test_checksum_listings_are_read_as_sha256sum_writes_them() -> None:
    digest = "ab" * 32
    listing = f"{'cd' * 32}  serving-crds.yaml\n{digest} *serving-core.yaml\nbad line\n"
    assert listed_sha256(listing, "serving-core.yaml") == digest
    assert listed_sha256(listing, "serving-crds.yaml") == "cd" * 32
    assert listed_sha256(listing, "kourier.yaml") is None


# --- what faasbench changes in the manifests --------------------------------------------------


def test_serving_gets_the_stack_autoscaler_settings_kourier_prometheus_and_the_domain() -> None:
    original = manifests()["serving-core.yaml"]
    settings = KnativeSettings(scale_to_zero_grace_period_s=45, stable_window_s=20)
    configured = configure_serving(original, settings)
    maps = {o["metadata"]["name"]: o["data"] for o in configured if o["kind"] == "ConfigMap"}
    assert maps["config-autoscaler"]["scale-to-zero-grace-period"] == "45s"
    assert maps["config-autoscaler"]["stable-window"] == "20s"
    assert maps["config-autoscaler"]["enable-scale-to-zero"] == "true"
    assert maps["config-autoscaler"]["max-scale-limit"] == "0"
    assert maps["config-network"]["ingress-class"] == "kourier.ingress.networking.knative.dev"
    assert maps["config-domain"] == {
        "_example": "# the release's documented defaults\n",
        "knative.faasbench.test": "",
    }
    assert maps["config-observability"]["metrics-protocol"] == "prometheus"
    assert maps["config-observability"]["request-metrics-protocol"] == "prometheus"
    # The release's own objects are left as they were.
    assert "scale-to-zero-grace-period" not in str(original)


def test_kourier_becomes_a_node_port_service_and_a_changed_release_is_named() -> None:
    configured = configure_kourier(manifests()["kourier.yaml"])
    (service,) = [o for o in configured if o["kind"] == "Service"]
    assert service["spec"]["type"] == "NodePort"
    assert {p["name"]: p["nodePort"] for p in service["spec"]["ports"]} == {
        "http2": 31080,
        "https": 31443,
    }
    (gateway,) = [o for o in configured if o["kind"] == "Deployment"]
    images = [c["image"] for c in gateway["spec"]["template"]["spec"]["containers"]]
    assert images == ["docker.io/envoyproxy/envoy:v1.37.2"]
    other = manifests()["kourier.yaml"]
    for obj in other:
        if obj["kind"] == "Deployment":
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = "envoyproxy/envoy:v1.38"
    with pytest.raises(KnativeManifestError, match=r"runs envoyproxy/envoy:v1\.38, not"):
        configure_kourier(other)
    without = [
        o for o in manifests()["serving-core.yaml"] if o["metadata"]["name"] != "config-domain"
    ]
    with pytest.raises(KnativeManifestError, match="no ConfigMap knative-serving/config-domain"):
        configure_serving(without, KnativeSettings())


# --- the Knative Service: schema against the release's CRD -----------------------------------


@pytest.mark.parametrize(
    "knobs",
    [
        KnativeKnobs(),
        KnativeKnobs(min_scale=0, max_scale=5, target=10, container_concurrency=1),
        KnativeKnobs(min_scale=2, max_scale=2, stable_window_s=6, target_burst_capacity=-1),
        KnativeKnobs.model_validate({"class": "kpa", "target": 0.5, "target_burst_capacity": 0}),
    ],
)
def test_rendered_services_validate_against_the_service_crd(knobs: KnativeKnobs) -> None:
    """The CRD is knative/serving's config/core/300-resources/service.yaml at knative-v1.23.0
    (commit 7ed4aa2ab601, tests/support/specs.py KNATIVE_SERVICE_CRD)."""
    service = render_service(
        "echo",
        image="docker.io/example/faasbench-functions:1",
        function="echo",
        env={"A": "1", "PORT": "9"},
        knobs=knobs,
        timeout_s=60,
        memory_mb=256,
        cpu="500m",
    )
    assert problems([service], service_crd()) == []
    template = service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    for key, value in (("min-scale", knobs.min_scale), ("max-scale", knobs.max_scale)):
        assert annotations.get(f"autoscaling.knative.dev/{key}") == (
            None if value is None else str(value)
        )
    if knobs.stable_window_s is not None:
        assert annotations["autoscaling.knative.dev/window"] == f"{knobs.stable_window_s}s"
    assert template["spec"].get("containerConcurrency") == knobs.container_concurrency
    env = {e["name"]: e["value"] for e in template["spec"]["containers"][0]["env"]}
    assert env == {"A": "1", "FUNCTION": "echo"}  # Knative sets PORT itself


def test_the_crd_check_catches_a_wrong_field() -> None:
    service = render_service(
        "echo",
        image="i:1",
        function="echo",
        env={},
        knobs=KnativeKnobs(),
        timeout_s=1,
        memory_mb=128,
    )
    service["spec"]["template"]["spec"]["containerConcurrency"] = "many"
    service["spec"]["replicas"] = 3
    assert problems([service], service_crd())


def test_knobs_out_of_knatives_bounds_are_refused() -> None:
    for bad, message in (
        ({"min_scale": 3, "max_scale": 2}, "min_scale 3 is above max_scale 2"),
        ({"stable_window_s": 5}, "greater than or equal to 6"),
        ({"target_burst_capacity": -0.5}, "-1 or at least 0"),
        ({"class": "hpa"}, "'kpa'"),
        ({"target": 0.001}, "greater than or equal to 0.01"),
    ):
        with pytest.raises(ValueError, match=message):
            KnativeKnobs.model_validate(bad)
    assert service_host("echo") == "echo.knative-fn.knative.faasbench.test"


# --- HAProxy and monitoring --------------------------------------------------------------------


def test_haproxy_fronts_kourier_and_checks_its_internal_ready() -> None:
    from components.haproxy import haproxy_settings

    config = render_haproxy(haproxy_settings(KNATIVE_FRONT, ["10.0.2.1", "10.0.2.2"], None))
    assert "server worker-0 10.0.2.1:31080" in config
    assert "server worker-1 10.0.2.2:31080" in config
    assert "http-check send meth GET uri /ready hdr Host internalkourier" in config
    assert "port 31081" in config


def test_pod_monitors_for_activator_autoscaler_and_queue_proxy() -> None:
    monitors = {m["name"]: m for m in pod_monitors("5s")}
    assert set(monitors) == {"knative-activator", "knative-autoscaler", "knative-queue-proxy"}
    assert monitors["knative-activator"]["selector"] == {"matchLabels": {"app": "activator"}}
    queue = monitors["knative-queue-proxy"]
    assert queue["namespaceSelector"] == {"matchNames": ["knative-fn"]}
    ports = [endpoint["port"] for endpoint in queue["podMetricsEndpoints"]]
    assert ports == ["http-usermetric", "http-autometric"]
    if not POD_MONITOR_CRD.is_file():
        pytest.skip("kube-prometheus-stack's PodMonitor CRD is not in ../shared/specs")
    crds = CrdValidators([yaml.safe_load(POD_MONITOR_CRD.read_text())])
    objects = [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PodMonitor",
            "metadata": {"name": m["name"], "namespace": "monitoring"},
            "spec": {k: v for k, v in m.items() if k != "name"},
        }
        for m in monitors.values()
    ]
    assert problems(objects, crds) == []


# --- the stacks under mocks -------------------------------------------------------------------


def _stack_objects(cloud: str, **extra: str) -> tuple[Any, list[dict[str, Any]]]:
    secret = ("kubeconfig",) if cloud == "existing" else ()
    run = run_program(knative_config_for(cloud, **extra), secret, stack=f"{cloud}-knative")
    return run, program_objects(run.mocks)


@pytest.mark.parametrize("cloud", ["aws", "existing"])
def test_every_object_the_stack_applies_validates(cloud: str) -> None:
    run, objects = _stack_objects(cloud, knativeScaleToZeroGracePeriodS="90")
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert problems(objects, CrdValidators(crds)) == []
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {
        ("Namespace", "knative-fn"),
        ("Service", "kourier-probe"),
        ("Service", "kourier"),
        ("ConfigMap", "config-autoscaler"),
    } <= kinds
    autoscaler = next(o for o in objects if o["metadata"]["name"] == "config-autoscaler")
    assert autoscaler["data"]["scale-to-zero-grace-period"] == "90s"
    groups = {g.name: g for g in run.mocks.of_type("kubernetes:yaml/v2:ConfigGroup")}
    assert {"knative-crds", "knative-serving", "knative-kourier", "knative-faasbench"} <= set(
        groups
    )


def test_the_knative_output_records_the_platform_settings() -> None:
    run = run_program(knative_config_for("existing"), ("kubeconfig",), stack="lab")
    outputs = StackOutputs.model_validate(_plain(run))
    assert outputs.framework == "knative"
    knative = outputs.knative
    assert knative is not None
    assert knative.url == "http://127.0.0.1:31080" == outputs.gateway_url
    assert knative.namespace == "knative-fn"
    assert knative.scale_to_zero_grace_period_s == 30
    assert knative.versions.serving == "v1.23.0"
    assert set(knative.manifests) == {"serving-crds", "serving-core", "kourier"}
    assert all(len(d) == 64 for d in knative.manifests.values())


def _plain(run: Any) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for dotted, leaf in run.leaves.items():
        node = plain
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = leaf.value
    return plain


def test_knative_settings_reach_monitoring() -> None:
    run, _ = _stack_objects("aws")
    release = run.mocks.one("kubernetes:helm.sh/v3:Release", "monitoring")
    names = {m["name"] for m in release.inputs["values"]["prometheus"]["additionalPodMonitors"]}
    assert {"knative-activator", "knative-autoscaler", "knative-queue-proxy"} <= names


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"orchestrator": "swarm"}, "framework knative runs only on orchestrator k8s"),
        ({"k3sVersion": "v1.33.5+k3s1"}, "Knative Serving needs Kubernetes 1.34"),
        ({"knativeStableWindowS": "5"}, "knativeStableWindowS"),
        ({"knativeKourierSha256": "abc"}, "knativeKourierSha256"),
    ],
)
def test_stack_config_mistakes_name_the_key(extra: dict[str, str], message: str) -> None:
    from stacks.read_config import ConfigError, load_stack_config

    with pytest.raises(ConfigError, match=message):
        load_stack_config({k: str(v) for k, v in knative_config_for(**extra).items()})


def test_release_objects_are_what_the_component_applies() -> None:
    objects, digests = release_objects(KnativeSettings(max_scale_limit=7))
    assert set(objects) == {"crds", "serving", "kourier"}
    autoscaler = next(o for o in objects["serving"] if o["metadata"]["name"] == "config-autoscaler")
    assert autoscaler["data"]["max-scale-limit"] == "7"
    # Knative wants a default max-scale within a limit; without a limit it sets none.
    assert autoscaler["data"]["max-scale"] == "7"
    objects, _ = release_objects(KnativeSettings())
    autoscaler = next(o for o in objects["serving"] if o["metadata"]["name"] == "config-autoscaler")
    assert "max-scale" not in autoscaler["data"]
    assert set(digests) == {"serving-crds", "serving-core", "kourier"}
