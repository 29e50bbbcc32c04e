"""The KEDA adapter over HTTP against a fake Kubernetes API on 127.0.0.1
(tests/support/fake_kube.py): what it applies for each mode, readiness, forced cold starts by
scaling to zero, pod records, removal, its limits and its errors."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from support.fake_kube import FakeKube, fake_kube, kubeconfig

from contract.keda import function_host, jobs_key
from contract.keda_objects import Scaling
from contract.outputs import StackOutputs
from loadgen.platforms import (
    FunctionSpec,
    KedaPlatform,
    LimitExceeded,
    PlatformError,
    make_platform,
)

IMAGE = "registry.example/faasbench-functions:1.0.0"
GATEWAY = "http://10.0.0.5:8080"
NS = "faasbench-fn"
T = TypeVar("T")


def outputs(server: str, mode: str, *, token: str | None = None) -> StackOutputs:
    keda: dict[str, Any] = {
        "mode": mode,
        "namespace": NS,
        "versions": {"keda": "2.20.2", "http_add_on": "0.15.0"},
    }
    if mode == "queue":
        keda["queue"] = {
            "url": "redis://10.0.0.6:30379",
            "password": "p",
            "internal_address": "faasbench-queue.faasbench-fn.svc:6379",
        }
    document: dict[str, Any] = {
        "cloud": "existing",
        "orchestrator": "k8s",
        "framework": "keda",
        "kubeconfig": kubeconfig(server, **({"token": token} if token else {})),
        "keda": keda,
    }
    if mode == "http":
        document["gateway_url"] = GATEWAY
    return StackOutputs.model_validate(document)


@pytest.fixture
def kube() -> Iterator[tuple[FakeKube, str]]:
    with fake_kube() as running:
        yield running


@contextmanager
def controller(state: FakeKube) -> Iterator[None]:
    """The Deployment controller of the fake, catching up every 50 ms."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.05):
            state.settle()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def platform_for(server: str, mode: str, **kwargs: Any) -> KedaPlatform:
    made = make_platform(outputs(server, mode, **kwargs), IMAGE)
    assert isinstance(made, KedaPlatform)
    made._poll_interval_s = 0.05
    return made


def run(platform: KedaPlatform, coroutine: Coroutine[Any, Any, T]) -> T:
    async def go() -> T:
        try:
            return await coroutine
        finally:
            await platform.aclose()

    return asyncio.run(go())


ECHO = FunctionSpec(function="echo", memory_mb=128, cpu="250m")


def test_http_mode_applies_a_deployment_service_and_http_scaled_object(
    kube: tuple[FakeKube, str],
) -> None:
    state, server = kube
    platform = platform_for(server, "http")
    platform.configure(Scaling(cooldown_s=45, target=3, max_replicas=7))

    async def go() -> None:
        await platform.deploy(ECHO, 1, {"MODE": "x"})
        await platform.deploy(ECHO, 1, {"MODE": "x"})  # the same again changes nothing

    run(platform, go())
    assert state.violations == []
    deployment = state.get("deployments", NS, "echo")
    assert deployment is not None
    assert deployment["metadata"]["generation"] == 1
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGE
    assert {"name": "MODE", "value": "x"} in container["env"]
    assert container["resources"]["limits"] == {"memory": "128Mi", "cpu": "250m"}
    assert state.get("services", NS, "echo") is not None
    routed = state.get("httpscaledobjects", NS, "echo")
    assert routed is not None
    assert routed["spec"]["hosts"] == [function_host("echo")]
    assert routed["spec"]["replicas"] == {"min": 0, "max": 7}
    assert routed["spec"]["scaledownPeriod"] == 45
    assert routed["spec"]["scalingMetric"] == {"concurrency": {"targetValue": 3}}
    assert state.get("scaledobjects", NS, "echo") is None
    target = platform.invoke_target(ECHO, {"a": 1})
    assert target.url == f"{GATEWAY}/"
    assert ("Host", function_host("echo")) in target.headers
    assert target.body == b'{"a": 1}'


def test_queue_mode_applies_a_consumer_and_a_scaled_object_on_its_list(
    kube: tuple[FakeKube, str],
) -> None:
    state, server = kube
    platform = platform_for(server, "queue")
    platform.configure(Scaling(polling_interval_s=2, cooldown_s=30, target=4))
    run(platform, platform.deploy(FunctionSpec(function="sleep", name="nap"), 1, {}))
    deployment = state.get("deployments", NS, "nap")
    assert deployment is not None
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "functions.consumer"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["FUNCTION"] == "sleep"
    assert env["QUEUE_KEY"] == "nap"
    assert env["QUEUE_ADDRESS"] == "faasbench-queue.faasbench-fn.svc:6379"
    scaled = state.get("scaledobjects", NS, "nap")
    assert scaled is not None
    assert scaled["spec"]["pollingInterval"] == 2
    assert scaled["spec"]["cooldownPeriod"] == 30
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["metadata"]["listName"] == jobs_key("nap")
    assert trigger["metadata"]["listLength"] == "4"
    assert state.get("services", NS, "nap") is None
    with pytest.raises(LimitExceeded, match="enqueue experiment"):
        platform.invoke_target(FunctionSpec(function="sleep", name="nap"), {})


def test_pinned_replicas_set_keda_s_min_and_max(kube: tuple[FakeKube, str]) -> None:
    state, server = kube
    platform = platform_for(server, "http")
    pinned = FunctionSpec(function="echo", autoscaling=False)

    async def go() -> None:
        await platform.deploy(pinned, 3, {})
        await platform.scale(pinned, 2)

    run(platform, go())
    routed = state.get("httpscaledobjects", NS, "echo")
    assert routed is not None
    assert routed["spec"]["replicas"] == {"min": 2, "max": 2}
    platform = platform_for(server, "http")
    with pytest.raises(LimitExceeded, match="max_replicas 10"):
        run(platform, platform.deploy(ECHO, 11, {}))


def test_ready_cold_start_records_and_removal(kube: tuple[FakeKube, str]) -> None:
    state, server = kube
    platform = platform_for(server, "http")

    async def go() -> tuple[Any, ...]:
        await platform.deploy(ECHO, 2, {})
        await platform.wait_ready(ECHO, timeout_s=10)
        ready = await platform.replicas(ECHO)
        records = await platform.records(ECHO, 0, 2**62)
        cold = await platform.force_cold(ECHO)
        after = await platform.replicas(ECHO)
        await platform.remove(ECHO)
        await platform.remove(ECHO)  # a missing function is not an error
        gone = await platform.replicas(ECHO)
        return ready, cold, after, records, gone

    with controller(state):
        ready, cold, after, records, gone = run(platform, go())
    assert ready == 2
    assert after == 0
    assert gone is None
    assert cold.method == "scale-to-zero"
    assert cold.cost_s >= 0
    deployment_patches = [c for c in state.calls if c[0] == "PATCH" and "deployments" in c[1]]
    assert len(deployment_patches) == 2  # the apply and the scale to zero
    assert len(records) == 2
    assert all(r.cold for r in records)
    assert state.objects == {}


def test_waiting_for_a_function_that_never_becomes_ready_names_it(
    kube: tuple[FakeKube, str],
) -> None:
    _, server = kube
    platform = platform_for(server, "http")

    async def go() -> None:
        await platform.deploy(ECHO, 1, {})
        await platform.wait_ready(ECHO, timeout_s=0.2)

    with pytest.raises(PlatformError, match=r"function 'echo' not ready after 0\.2 s"):
        run(platform, go())


def test_a_refused_token_is_an_error_without_the_token(kube: tuple[FakeKube, str]) -> None:
    _, server = kube
    platform = platform_for(server, "http", token="not-the-token")
    with pytest.raises(PlatformError, match="HTTP 401") as caught:
        run(platform, platform.deploy(ECHO, 1, {}))
    assert "not-the-token" not in str(caught.value)


def test_limits_name_the_confounds_and_the_natural_cold_start(kube: tuple[FakeKube, str]) -> None:
    _, server = kube
    http = platform_for(server, "http")
    http.configure(Scaling(cooldown_s=90))
    limits = http.limits()
    assert limits.platform == "KEDA 2.20.2, HTTP add-on 0.15.0 on k8s"
    assert limits.scale_to_zero
    assert limits.natural_cold_start_idle_s == 90
    assert any("interceptor" in c for c in limits.confounds)
    queue = platform_for(server, "queue")
    queue.configure(Scaling(cooldown_s=90, polling_interval_s=10, min_replicas=0))
    assert queue.limits().natural_cold_start_idle_s == 100
    assert any("polling interval" in c for c in queue.limits().confounds)
    queue.configure(Scaling(min_replicas=1))
    assert queue.limits().natural_cold_start_idle_s is None
    asyncio.run(http.aclose())
    asyncio.run(queue.aclose())


def test_make_platform_refuses_a_keda_stack_without_what_it_needs(
    kube: tuple[FakeKube, str],
) -> None:
    _, server = kube
    with pytest.raises(PlatformError, match="function image"):
        make_platform(outputs(server, "http"), None)
    broken = outputs(server, "http").model_copy(update={"keda": None})
    with pytest.raises(PlatformError, match="no keda or kubeconfig"):
        make_platform(broken, IMAGE)
