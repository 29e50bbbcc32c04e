"""The OpenFaaS adapter against a local gateway whose replicas are real function processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.fake_openfaas import FakeGateway, running_gateway

from components.openfaas_nomad import NOMAD_LIMITS
from components.openfaas_swarm import SWARM_LIMITS
from contract.outputs import OpenFaas, StackOutputs
from loadgen.platforms import (
    FunctionSpec,
    LimitExceeded,
    OpenFaasPlatform,
    PlatformError,
    make_platform,
)
from loadgen.platforms.openfaas_flavour import CE_IMAGE_PULL, SWARM_IMAGE_PULL, SWARM_PROXY, flavour
from loadgen.platforms.openfaas_types import FunctionStatus

PASSWORD = "s3cret-gateway-password"
IMAGE = "registry.example/faasbench/functions:1"
CE_LIMITS = {"max_functions": 15, "max_replicas": 5, "scale_to_zero": False, "idler": False}
OPEN_LIMITS = {"max_functions": None, "max_replicas": None, "scale_to_zero": True, "idler": False}


def config(
    url: str,
    limits: dict[str, Any],
    namespace: str | None = "openfaas-fn",
    password: str = PASSWORD,
) -> OpenFaas:
    return OpenFaas(
        url=url,
        username="admin",
        password=password,
        namespace=namespace,
        limits=limits,
        versions={"gateway": "0.27.13", "provider": "0.18.17"},
    )


@pytest.fixture
def swarm() -> Iterator[FakeGateway]:
    with running_gateway("admin", PASSWORD, community_edition=False) as gateway:
        yield gateway
    assert gateway.violations == []


@pytest.fixture
def ce() -> Iterator[FakeGateway]:
    with running_gateway("admin", PASSWORD, community_edition=True) as gateway:
        yield gateway
    assert gateway.violations == []


async def invoke(platform: OpenFaasPlatform, function: FunctionSpec) -> tuple[httpx.Response, bool]:
    target = platform.invoke_target(function, {"n": 1})
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.request(
            target.method, target.url, headers=list(target.headers), content=target.body
        )
    assert platform.ok(response.status_code, response.content)
    assert response.headers[platform.capture_header]
    return response, response.json()["meta"]["cold"]


def test_flavours_pick_the_cold_start_method() -> None:
    assert flavour("k8s", False).cold_start_method == "redeploy"
    assert flavour("k8s", False).confounds == (CE_IMAGE_PULL,)
    assert flavour("k8s", True).cold_start_method == "scale-to-zero"
    for orchestrator in ("swarm", "nomad", "local"):
        assert flavour(orchestrator, True).cold_start_method == "scale-to-zero"
        assert flavour(orchestrator, False).cold_start_method == "redeploy"
    assert flavour("swarm", False).confounds == (SWARM_PROXY, SWARM_IMAGE_PULL)
    assert flavour("nomad", False).confounds == ()


def test_status_parses_omitted_zero_counts() -> None:
    status = FunctionStatus.model_validate({"name": "f", "image": "i", "usage": {"cpu": 1}})
    assert status.availableReplicas == 0
    assert status.replicas == 0


def test_scale_to_zero_cold_start_where_the_provider_allows_it(swarm: FakeGateway) -> None:
    function = FunctionSpec(function="echo", name="fb-echo", memory_mb=128)

    async def scenario() -> None:
        platform = OpenFaasPlatform(
            config(swarm.url, OPEN_LIMITS, None), "local", IMAGE, poll_interval_s=0.05
        )
        await platform.deploy(function, 2, {"GREETING": "hi"})
        await platform.wait_ready(function, 20)
        assert swarm.functions["fb-echo"].deployment == {
            "service": "fb-echo",
            "image": IMAGE,
            "envVars": {"GREETING": "hi", "FUNCTION": "echo"},
            "labels": {"com.openfaas.scale.min": "2", "faasbench.function": "echo"},
            "limits": {"memory": "128Mi"},
        }
        assert len(swarm.functions["fb-echo"].replicas) == 2
        # Probes went through /_/health: no replica's cold flag was taken.
        colds = [(await invoke(platform, function))[1] for _ in range(3)]
        assert colds == [True, True, False]
        cold = await platform.force_cold(function)
        assert cold.method == "scale-to-zero"
        assert swarm.functions["fb-echo"].replicas == []
        await platform.wait_ready(function, 5)  # zero wanted: ready without waking it
        assert swarm.functions["fb-echo"].replicas == []
        assert (await invoke(platform, function))[1] is True
        assert await platform.records(function, 0, time.time_ns()) == []
        await platform.remove(function)
        await platform.remove(function)
        assert swarm.functions == {}
        await platform.aclose()

    asyncio.run(scenario())


def test_community_edition_redeploys_and_refuses_limits(ce: FakeGateway) -> None:
    function = FunctionSpec(function="echo", name="fb-echo")

    async def scenario() -> None:
        platform = OpenFaasPlatform(config(ce.url, CE_LIMITS), "k8s", IMAGE, poll_interval_s=0.05)
        with pytest.raises(LimitExceeded, match=r"replicas 10 > max_replicas 5 \(OpenFaaS Comm"):
            await platform.deploy(function, 10, {})
        with pytest.raises(LimitExceeded, match="replicas 0 needs scale to zero"):
            await platform.deploy(function, 0, {})
        await platform.deploy(function, 1, {})
        await platform.wait_ready(function, 20)
        with pytest.raises(LimitExceeded, match="replicas 6 > max_replicas 5"):
            await platform.scale(function, 6)
        assert (await invoke(platform, function))[1] is True
        assert (await invoke(platform, function))[1] is False
        started = ce.started
        cold = await platform.force_cold(function)
        assert cold.method == "redeploy"
        assert cold.cost_s > 0
        assert ce.started == started + 1
        assert (await invoke(platform, function))[1] is True
        limits = platform.limits()
        assert limits.max_replicas == 5
        assert limits.natural_cold_start_idle_s is None
        assert "no idler" in limits.natural_cold_start_reason
        assert CE_IMAGE_PULL in limits.confounds
        await platform.remove(function)
        await platform.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("orchestrator", "limits", "namespace"),
    [("swarm", SWARM_LIMITS, None), ("nomad", NOMAD_LIMITS, "openfaas-fn")],
)
def test_swarm_and_nomad_stay_within_their_community_edition_gateway(
    ce: FakeGateway, orchestrator: str, limits: dict[str, Any], namespace: str | None
) -> None:
    """The limits these stacks export: the gateway clamps scale requests to 1..5, so the
    adapter refuses 0 and 6 up front and forces cold starts by removing and redeploying."""
    function = FunctionSpec(function="echo", name="fb-echo")

    async def scenario() -> None:
        platform = OpenFaasPlatform(
            config(ce.url, limits, namespace), orchestrator, IMAGE, poll_interval_s=0.05
        )
        with pytest.raises(LimitExceeded, match="replicas 6 > max_replicas 5"):
            await platform.deploy(function, 6, {})
        with pytest.raises(LimitExceeded, match="replicas 0 needs scale to zero"):
            await platform.deploy(function, 0, {})
        await platform.deploy(function, 5, {})
        await platform.wait_ready(function, 30)
        started = ce.started
        cold = await platform.force_cold(function)
        assert cold.method == "redeploy"
        assert ce.started == started + 5, "the redeployed function came back with 5 replicas"
        assert platform.limits().scale_to_zero is False
        await platform.remove(function)
        await platform.aclose()

    asyncio.run(scenario())


def test_max_functions_is_refused_up_front(ce: FakeGateway) -> None:
    limits = {**CE_LIMITS, "max_functions": 1}

    async def scenario() -> None:
        platform = OpenFaasPlatform(config(ce.url, limits), "k8s", IMAGE, poll_interval_s=0.05)
        await platform.deploy(FunctionSpec(function="echo", name="one"), 1, {})
        await platform.deploy(FunctionSpec(function="echo", name="one"), 1, {})  # an update
        with pytest.raises(LimitExceeded, match="functions 2 > max_functions 1"):
            await platform.deploy(FunctionSpec(function="echo", name="two"), 1, {})
        await platform.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "unauthorized"), (404, "not found"), (429, "too many"), (500, "server error")],
)
def test_errors_name_function_and_status_without_the_password(
    swarm: FakeGateway, status: int, words: str
) -> None:
    async def scenario() -> str:
        platform = OpenFaasPlatform(config(swarm.url, OPEN_LIMITS, None), "swarm", IMAGE)
        swarm.fail_next = status
        try:
            with pytest.raises(PlatformError) as caught:
                await platform.scale(FunctionSpec(function="echo", name="fb-x"), 2)
        finally:
            await platform.aclose()
        return str(caught.value)

    message = asyncio.run(scenario())
    assert "'fb-x'" in message
    assert f"HTTP {status}" in message
    assert words in message
    assert PASSWORD not in message


def test_wrong_password_is_unauthorized(swarm: FakeGateway) -> None:
    async def scenario() -> str:
        platform = OpenFaasPlatform(config(swarm.url, OPEN_LIMITS, None, "wrong"), "swarm", IMAGE)
        try:
            with pytest.raises(PlatformError) as caught:
                await platform.deploy(FunctionSpec(function="echo"), 1, {})
        finally:
            await platform.aclose()
        return str(caught.value)

    assert "HTTP 401 (unauthorized" in asyncio.run(scenario())


def test_wait_ready_times_out_with_what_it_saw(swarm: FakeGateway) -> None:
    async def scenario() -> None:
        platform = OpenFaasPlatform(
            config(swarm.url, OPEN_LIMITS, None), "swarm", IMAGE, poll_interval_s=0.05
        )
        with pytest.raises(PlatformError, match=r"'nope' not ready after 0\.2 s: not deployed"):
            await platform.wait_ready(FunctionSpec(function="echo", name="nope"), 0.2)
        await platform.aclose()

    asyncio.run(scenario())


def test_secrets_stay_out_of_repr() -> None:
    platform = OpenFaasPlatform(config("http://127.0.0.1:9", CE_LIMITS), "k8s", IMAGE)
    assert PASSWORD not in repr(platform)
    assert PASSWORD not in repr(platform.invoke_target(FunctionSpec(function="echo"), {}))
    asyncio.run(platform.aclose())


def test_make_platform_needs_the_image_and_picks_openfaas() -> None:
    outputs = StackOutputs(
        cloud="aws",
        orchestrator="nomad",
        framework="openfaas",
        openfaas=config("http://10.0.0.5:8080/", NOMAD_LIMITS),
    )
    with pytest.raises(PlatformError, match="image"):
        make_platform(outputs, None)
    platform = make_platform(outputs, IMAGE)
    assert isinstance(platform, OpenFaasPlatform)
    assert platform.limits().cold_start_method == "redeploy"
    target = platform.invoke_target(FunctionSpec(function="echo", name="e"), {"a": 1})
    assert target.url == "http://10.0.0.5:8080/function/e"
    assert target.body == b'{"a":1}'
    asyncio.run(platform.aclose())


def test_fixed_replicas_pin_the_autoscaler_with_equal_min_and_max() -> None:
    platform = OpenFaasPlatform(config("http://127.0.0.1:9", OPEN_LIMITS, None), "swarm", IMAGE)
    pinned = FunctionSpec(function="matrix", autoscaling=False)
    labels = platform.deployment(pinned, 3, {}).labels
    assert labels["com.openfaas.scale.min"] == labels["com.openfaas.scale.max"] == "3"
    free = platform.deployment(FunctionSpec(function="matrix"), 3, {}).labels
    assert "com.openfaas.scale.max" not in free
    asyncio.run(platform.aclose())
