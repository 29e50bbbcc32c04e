"""The Knative adapter over HTTP against a fake Kubernetes API with Knative's behaviour and a
Kourier-like front (tests/support/fake_knative.py): deploy, readiness, invocation by Host
header, pinned replicas, forced cold starts by deleting pods, scale to zero after the grace
period, pod-event records. Every Service the adapter sends is checked against the release's
Service CRD (knative/serving knative-v1.23.0 config/core/300-resources/service.yaml)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from support.k8s_objects import CrdValidators

from contract.knative import DOMAIN, FUNCTION_NAMESPACE, KnativeKnobs
from contract.outputs import Knative, StackOutputs
from loadgen.platforms import (
    FunctionSpec,
    KnativePlatform,
    LimitExceeded,
    PlatformError,
    make_platform,
)
from loadgen.platforms.k8s_events import KubeAccess
from loadgen.platforms.knative import ready_condition

TOKEN = "kube-token-" + "t" * 20
GRACE_S = 0.5


@pytest.fixture(scope="module")
def crds() -> CrdValidators | None:
    from support.fake_knative import knative_crds

    return knative_crds()


@pytest.fixture
def fake(crds: CrdValidators | None) -> Iterator[Any]:
    from support.fake_knative import running_knative

    with running_knative(
        crds, TOKEN, namespace=FUNCTION_NAMESPACE, domain=DOMAIN, grace_s=GRACE_S
    ) as server:
        yield server
    assert server.violations == []


def outputs(front: str, *, max_scale_limit: int = 0) -> Knative:
    return Knative(
        url=front,
        domain=DOMAIN,
        namespace=FUNCTION_NAMESPACE,
        scale_to_zero_grace_period_s=GRACE_S,
        stable_window_s=6,
        max_scale_limit=max_scale_limit,
        versions={"serving": "v1.23.0", "kourier": "v1.23.0"},
        manifests={"serving-core": "0" * 64},
    )


def platform(fake: Any, token: str = TOKEN, **kwargs: Any) -> KnativePlatform:
    access = KubeAccess(server=fake.api_url, token=token)
    return KnativePlatform(
        outputs(fake.front_url, **kwargs), access, "docker.io/example/fn:1", poll_interval_s=0.05
    )


def invoke(target: Any) -> httpx.Response:
    return httpx.request(
        target.method, target.url, headers=dict(target.headers), content=target.body, timeout=10
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _deploy(kn: KnativePlatform, spec: FunctionSpec, replicas: int = 1) -> None:
    await kn.deploy(spec, replicas, {"GREETING": "hi"})
    await kn.wait_ready(spec, 10)


def test_deploy_wait_and_invoke_through_the_front_by_host(fake: Any) -> None:
    spec = FunctionSpec(function="echo", memory_mb=512, knative=KnativeKnobs(min_scale=1, target=5))

    async def body() -> None:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)
        finally:
            await kn.aclose()

    run(body())
    service = fake.services["echo"]
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "1"
    assert annotations["autoscaling.knative.dev/target"] == "5"
    env = service["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "FUNCTION", "value": "echo"} in env
    # The cell's memory limit (a campaign's `memory_mb`) is the container's limit and request.
    resources = service["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"limits": {"memory": "512Mi"}, "requests": {"memory": "512Mi"}}
    kn = platform(fake)
    target = kn.invoke_target(spec, {"x": 1})
    assert ("Host", "echo.knative-fn.knative.faasbench.test") in target.headers
    response = invoke(target)
    assert response.status_code == 200
    assert response.json()["result"] == {"x": 1}
    assert kn.ok(response.status_code, response.content)
    # Without the Host header the front has no route: the header is what selects the Service.
    assert httpx.post(target.url, json={}).status_code == 404


def test_a_redeploy_replaces_the_service_as_a_new_revision(fake: Any) -> None:
    spec = FunctionSpec(function="echo")

    async def body() -> None:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)
            changed = spec.model_copy(update={"knative": KnativeKnobs(stable_window_s=10)})
            await _deploy(kn, changed)
        finally:
            await kn.aclose()

    run(body())
    service = fake.services["echo"]
    assert service["metadata"]["generation"] == 2
    assert service["status"]["latestReadyRevisionName"] == "echo-00002"
    annotations = service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/window"] == "10s"


def test_pinned_replicas_and_scale(fake: Any) -> None:
    spec = FunctionSpec(function="echo", autoscaling=False)

    async def body() -> None:
        kn = platform(fake)
        try:
            await _deploy(kn, spec, replicas=3)
            assert len([p for p in fake.pods.values() if p.service == "echo"]) == 3
            await kn.scale(spec, 2)
            await kn.wait_ready(spec, 10)
        finally:
            await kn.aclose()

    run(body())
    annotations = fake.services["echo"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/min-scale"] == "2"
    assert annotations["autoscaling.knative.dev/max-scale"] == "2"
    assert len([p for p in fake.pods.values() if p.service == "echo"]) == 2


def test_forced_cold_start_deletes_the_revision_pods_and_waits_for_a_new_one(
    fake: Any,
) -> None:
    spec = FunctionSpec(function="echo", knative=KnativeKnobs(min_scale=2))

    async def body() -> Any:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)
            before = {p.name for p in fake.pods.values()}
            cold = await kn.force_cold(spec)
            return before, cold
        finally:
            await kn.aclose()

    before, cold = run(body())
    assert len(before) == 2
    assert set(fake.deleted_pods) == before
    assert not before & set(fake.pods)
    # A replacement is Ready when force_cold returns: its boot is in the event's cost.
    assert fake.ready_pods("echo-00001")
    assert cold.method == "delete-pods"
    assert cold.cost_s > 0
    assert cold.activator_in_path is False  # a ready pod and the default burst capacity
    assert abs(cold.effective_ns - time.time_ns()) < 60 * 10**9
    assert invoke(platform(fake).invoke_target(spec, {})).status_code == 200


def test_a_replacement_that_never_gets_ready_is_reported(fake: Any) -> None:
    spec = FunctionSpec(function="echo", knative=KnativeKnobs(min_scale=1))

    async def body() -> None:
        kn = KnativePlatform(
            outputs(fake.front_url),
            KubeAccess(server=fake.api_url, token=TOKEN),
            "i:1",
            poll_interval_s=0.05,
            cold_timeout_s=0.5,
        )
        try:
            await _deploy(kn, spec)
            fake.pod_start_s = 3600.0
            with pytest.raises(PlatformError, match=r"no new pod of revision echo-00001 was Ready"):
                await kn.force_cold(spec)
        finally:
            await kn.aclose()

    run(body())


@pytest.mark.parametrize(("burst", "proxied"), [(None, False), (-1, True)])
def test_activator_in_path_is_read_from_the_serverless_service(
    fake: Any, burst: float | None, proxied: bool
) -> None:
    spec = FunctionSpec(
        function="echo", knative=KnativeKnobs(min_scale=1, target_burst_capacity=burst)
    )

    async def body() -> bool | None:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)  # ready: its pod answers the health probe
            return await kn.activator_in_path(spec, "echo-00001")
        finally:
            await kn.aclose()

    assert run(body()) is proxied


def test_natural_cold_start_after_the_grace_period_and_pod_records(fake: Any) -> None:
    spec = FunctionSpec(function="echo")

    async def body() -> Any:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)
            deadline = time.monotonic() + 10
            while [p for p in fake.pods.values() if p.service == "echo"]:
                assert time.monotonic() < deadline, "never scaled to zero"
                await asyncio.sleep(0.05)
            since = time.time_ns()
            response = await asyncio.to_thread(invoke, kn.invoke_target(spec, {"n": 2}))
            assert response.status_code == 200
            return await kn.records(spec, since, time.time_ns())
        finally:
            await kn.aclose()

    records = run(body())
    assert len(records) == 1
    (record,) = records
    assert record.cold is True
    assert record.id.startswith("echo-00001-deployment-")
    assert {"scheduled_ms", "started_ms", "ready_ms"} <= set(record.phases)
    assert platform(fake).limits().natural_cold_start_idle_s == pytest.approx(6 + GRACE_S)


def test_remove_is_idempotent_and_errors_name_the_function_not_the_token(fake: Any) -> None:
    spec = FunctionSpec(function="echo", name="echo-b")

    async def body() -> None:
        kn = platform(fake)
        try:
            await _deploy(kn, spec)
            await kn.remove(spec)
            await kn.remove(spec)
            with pytest.raises(PlatformError, match="'echo-b' is not deployed"):
                await kn.force_cold(spec)
        finally:
            await kn.aclose()
        wrong = platform(fake, token="not-the-token")
        try:
            with pytest.raises(PlatformError, match=r"deploy of function 'echo-b'.*HTTP 401") as e:
                await wrong.deploy(spec, 1, {})
            assert "not-the-token" not in str(e.value)
        finally:
            await wrong.aclose()

    run(body())
    assert "echo-b" not in fake.services


def test_limits_refuse_what_knative_cannot_do(fake: Any) -> None:
    kn = platform(fake, max_scale_limit=4)
    spec = FunctionSpec(function="echo", autoscaling=False)
    with pytest.raises(LimitExceeded, match="max-scale-limit 4"):
        kn.service(spec, 5, {})
    capped = FunctionSpec(function="echo", knative=KnativeKnobs(max_scale=2))
    with pytest.raises(LimitExceeded, match=r"exceed its knative\.max_scale 2"):
        kn.service(capped, 3, {})
    slow = FunctionSpec(function="sleep", timeout_s=900)
    with pytest.raises(LimitExceeded, match="max-revision-timeout-seconds 600"):
        kn.service(slow, 1, {})
    unbounded = FunctionSpec(function="echo", knative=KnativeKnobs(max_scale=0))
    with pytest.raises(LimitExceeded, match=r"max_scale 0 \(unbounded\) is refused"):
        kn.service(unbounded, 1, {})
    with pytest.raises(LimitExceeded, match=r"cannot be pinned to 0 pods"):
        run(kn.scale(spec, 0))
    with pytest.raises(LimitExceeded, match="no native sequences"):
        run(kn.deploy_sequence(spec, []))
    limits = kn.limits()
    assert limits.cold_start_method == "delete-pods"
    assert limits.max_replicas == 4
    assert limits.scale_to_zero is True
    run(kn.aclose())


def test_ready_condition_reads_generation_and_reason() -> None:
    assert ready_condition({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}})[
        1
    ].startswith("the controller has not observed")
    status = {
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "RevisionFailed",
                "message": "image pull",
            }
        ]
    }
    assert ready_condition({"status": status}) == (False, "RevisionFailed: image pull")


def test_make_platform_builds_the_knative_adapter_from_the_outputs(fake: Any) -> None:
    kubeconfig = yaml.safe_dump(
        {
            "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": fake.api_url}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
        }
    )
    stack = StackOutputs.model_validate(
        {
            "cloud": "existing",
            "orchestrator": "k8s",
            "framework": "knative",
            "kubeconfig": kubeconfig,
            "knative": outputs(fake.front_url).model_dump(),
        }
    )
    adapter = make_platform(stack, "docker.io/example/fn:1")
    assert isinstance(adapter, KnativePlatform)
    run(adapter.aclose())
    with pytest.raises(PlatformError, match="function image"):
        make_platform(stack)
    without = stack.model_copy(update={"kubeconfig": None})
    with pytest.raises(PlatformError, match="kubeconfig"):
        make_platform(without, "i:1")


def test_chain_gets_the_front_and_the_host_suffix() -> None:
    from loadgen.platforms.env import function_env

    stack = StackOutputs.model_validate(
        {
            "cloud": "aws",
            "orchestrator": "k8s",
            "framework": "knative",
            "gateway_url": "http://10.0.2.9:8080",
            "knative": outputs("http://10.0.2.9:8080").model_dump(),
        }
    )
    env = function_env("chain", stack, {"EXTRA": "1"})
    assert env == {
        "EXTRA": "1",
        "GATEWAY_URL": "http://10.0.2.9:8080",
        "CHAIN_API": "knative",
        "KNATIVE_HOST_SUFFIX": "knative-fn.knative.faasbench.test",
    }
    assert function_env("echo", stack) == {}
