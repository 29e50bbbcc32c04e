"""OpenWhisk's non-blocking and web invocations, against a fake controller that follows the
swagger spec (every request and response is checked against it): a non-blocking invoke answers
202 with the activation id, `poll_completions` finds each one's end in the activation listing,
and a web action answers without the API key only when exported."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.openwhisk_spec import SwaggerSpec

from contract.outputs import OpenWhisk
from loadgen.platforms import FunctionSpec, OpenWhiskPlatform, PlatformError
from loadgen.platforms.openwhisk_activations import activation_completion, poll_completions

AUTH = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:" + "k" * 64


@pytest.fixture(scope="module")
def spec() -> SwaggerSpec:
    return SwaggerSpec.load()


@pytest.fixture
def fake(spec: SwaggerSpec) -> Iterator[Any]:
    from support.fake_openwhisk import running_openwhisk

    with running_openwhisk(spec, AUTH) as server:
        yield server
    assert server.violations == []


def platform_for(url: str) -> OpenWhiskPlatform:
    config = OpenWhisk(
        api_host=url, auth=AUTH, namespace="guest", insecure_tls=False, idle_timeout_s=600
    )
    return OpenWhiskPlatform(config, poll_interval_s=0.05)


async def send(client: httpx.AsyncClient, platform: OpenWhiskPlatform, target: Any) -> Any:
    return await client.request(
        target.method, target.url, headers=list(target.headers), content=target.body
    )


def test_non_blocking_calls_are_accepted_then_followed_to_their_end(fake: Any) -> None:
    function = FunctionSpec(function="sleep", name="fb-sleep", timeout_s=5)

    async def scenario() -> tuple[list[str], Any, Any]:
        platform = platform_for(fake.url)
        try:
            since = time.time_ns()
            await platform.deploy(function, 1, {})
            target = platform.invoke_target(function, {"ms": 150}, "async")
            assert "blocking=false" in target.url
            ids = []
            submitted = time.monotonic_ns()
            async with httpx.AsyncClient() as client:
                for _ in range(3):
                    response = await send(client, platform, target)
                    assert response.status_code == 202
                    assert (
                        response.json()["activationId"] == response.headers[platform.capture_header]
                    )
                    ids.append(response.headers[platform.capture_header])
            completions, stats = await platform.poll_completions(function, set(ids), since, 30)
            return ids, (submitted, completions), stats
        finally:
            await platform.aclose()

    ids, (submitted, completions), stats = asyncio.run(scenario())
    by_id = {c.call_id: c for c in completions}
    assert set(by_id) == set(ids)
    assert all(c.source == "activation" and c.function_status == 200 for c in completions)
    assert all(c.duration_s is not None and c.duration_s >= 0.15 for c in completions)
    assert all(c.wait_ms is not None for c in completions)
    assert by_id[ids[0]].cold is True  # the action's first container starts for it
    # Each ended, on this machine's clock, at least its 150 ms sleep after the submissions began
    # (the clocks are one here; 10 ms for the activation record's millisecond rounding).
    assert all(c.received_ns - submitted >= 140_000_000 for c in completions)
    assert stats.polls >= 1
    assert stats.requests >= stats.polls
    # Polls are spaced by at least the minimum interval (1 s by default).
    assert stats.elapsed_s >= (stats.polls - 1) * stats.min_interval_s


def test_an_activation_that_never_ends_is_left_out_by_the_deadline(fake: Any) -> None:
    function = FunctionSpec(function="echo", name="fb-echo")

    async def scenario() -> tuple[list[Any], Any]:
        platform = platform_for(fake.url)
        try:
            await platform.deploy(function, 1, {})
            return await platform.poll_completions(
                function, {"0" * 32}, time.time_ns(), deadline_s=0.5
            )
        finally:
            await platform.aclose()

    completions, stats = asyncio.run(scenario())
    assert completions == []
    assert stats.elapsed_s >= 0.5


def test_polls_are_spaced_and_their_cost_recorded() -> None:
    calls: list[float] = []
    document = {"activationId": "a", "name": "f", "start": 1, "end": 2, "duration": 1}

    async def page(since_ms: int, skip: int) -> list[dict[str, Any]]:
        calls.append(time.monotonic())
        return [document] if len(calls) >= 3 else []

    completions, stats = asyncio.run(
        poll_completions(page, {"a"}, 0, deadline_s=30, min_interval_s=0.2)
    )
    assert [c.call_id for c in completions] == ["a"]
    assert (stats.polls, stats.requests) == (3, 3)
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert all(gap >= 0.2 for gap in gaps)


def test_an_activation_is_mapped_onto_this_machines_clock() -> None:
    document = {
        "activationId": "x",
        "name": "f",
        "start": 1_000,
        "end": 1_500,
        "duration": 400,
        "response": {"success": False},
        "annotations": [{"key": "waitTime", "value": 90}, {"key": "initTime", "value": 300}],
    }
    # Read at wall 2.0 s = monotonic 50.0 s: the end (wall 1.5 s) was monotonic 49.5 s.
    completion = activation_completion(document, mono_ns=50_000_000_000, wall_ns=2_000_000_000)
    assert completion.received_ns == 49_500_000_000
    assert completion.received_wall_ns == 1_500_000_000
    assert (completion.function_status, completion.duration_s) == (502, 0.4)
    assert (completion.cold, completion.wait_ms, completion.init_ms) == (True, 90.0, 300.0)


def test_web_actions_answer_without_the_key_only_when_exported(fake: Any) -> None:
    exported = FunctionSpec(function="echo", name="fb-web", web=True)
    hidden = FunctionSpec(function="echo", name="fb-hidden")

    async def scenario() -> tuple[Any, Any]:
        platform = platform_for(fake.url)
        try:
            await platform.deploy(exported, 1, {})
            await platform.deploy(hidden, 1, {})
            target = platform.invoke_target(exported, {"x": 2}, "web")
            assert all(name.lower() != "authorization" for name, _ in target.headers)
            assert target.url.endswith("/api/v1/web/guest/default/fb-web.json")
            with pytest.raises(PlatformError, match="web action"):
                platform.invoke_target(hidden, {}, "web")
            async with httpx.AsyncClient() as client:
                ok = await send(client, platform, target)
                refused = await client.post(
                    f"{fake.url}/api/v1/web/guest/default/fb-hidden.json", json={}
                )
            return ok, refused
        finally:
            await platform.aclose()

    ok, refused = asyncio.run(scenario())
    assert ok.status_code == 200
    assert ok.json()["result"]["x"] == 2
    assert ok.headers["x-openwhisk-activation-id"]
    assert refused.status_code == 404
