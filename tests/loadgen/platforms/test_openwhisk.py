"""The OpenWhisk adapter against a local controller that runs the suite's actions for real;
every request and response is checked against OpenWhisk's Swagger spec."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.openwhisk_spec import SwaggerSpec, chart_kinds, swagger_path

from contract.outputs import OpenWhisk, StackOutputs
from loadgen.platforms import (
    FunctionSpec,
    LimitExceeded,
    OpenWhiskPlatform,
    PlatformError,
    make_platform,
)
from loadgen.platforms.openwhisk_activations import activation_record
from loadgen.platforms.openwhisk_types import (
    ActionExec,
    ActionLimits,
    ActionPut,
    Activation,
    KeyValue,
)

AUTH = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:" + "k" * 64
KEY = AUTH.split(":")[1]


@pytest.fixture(scope="module")
def spec() -> SwaggerSpec:
    return SwaggerSpec.load()


@pytest.fixture
def fake(spec: SwaggerSpec) -> Iterator[Any]:
    from support.fake_openwhisk import running_openwhisk

    with running_openwhisk(spec, AUTH) as server:
        yield server
    assert server.violations == []


def config(url: str, auth: str = AUTH, insecure: bool = False) -> OpenWhisk:
    return OpenWhisk(
        api_host=url, auth=auth, namespace="guest", insecure_tls=insecure, idle_timeout_s=600
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_chart_kind_is_missing_from_the_spec_enum_and_added_from_runtimes_json() -> None:
    raw = json.loads(swagger_path().read_text())
    assert "python:3" not in raw["definitions"]["ActionExec"]["properties"]["kind"]["enum"]
    assert "python:3" in chart_kinds()


def test_models_use_the_swagger_field_names(spec: SwaggerSpec) -> None:
    definitions = spec.document["definitions"]
    pairs = [
        (ActionPut, "ActionPut"),
        (ActionExec, "ActionExec"),
        (ActionLimits, "ActionLimits"),
        (KeyValue, "KeyValue"),
        (Activation, "Activation"),
    ]
    for model, name in pairs:
        names = {field.alias or key for key, field in model.model_fields.items()}
        properties = set(definitions[name]["properties"])
        assert names <= properties, (name, names - properties)
    required = set(definitions["ActivationBrief"]["required"]) - {"version", "publish"}
    assert required <= set(Activation.model_fields)


def test_action_body_validates_and_the_validator_is_not_vacuous(spec: SwaggerSpec) -> None:
    platform = OpenWhiskPlatform(config("http://127.0.0.1:9"))
    body = platform.action_body(FunctionSpec(function="echo"), {"A": "1"}, "r1").body()
    url = "http://127.0.0.1:9/api/v1/namespaces/_/actions/echo?overwrite=true"
    assert spec.request_errors("PUT", url, json.dumps(body).encode()) == []
    assert body["exec"] == {**body["exec"], "kind": "python:3", "binary": True, "main": "main"}
    bad = {**body, "exec": {**body["exec"], "kind": "cobol:1"}, "limits": {"memory": "lots"}}
    assert len(spec.request_errors("PUT", url, json.dumps(bad).encode())) == 2
    assert spec.request_errors("PUT", url.replace("true", "yes"), b"{}") != []
    assert spec.request_errors("GET", url.replace("actions", "activations") + "&x=1", None)
    with pytest.raises(AssertionError):
        spec.request_errors("PATCH", url, None)
    run(platform.aclose())


def test_documented_activation_fixture_validates_and_maps(spec: SwaggerSpec) -> None:
    # The activation shown in OpenWhisk's docs/annotations.md, with the fields a list returns.
    fixture = {
        "namespace": "guest",
        "name": "echo",
        "version": "0.0.1",
        "publish": False,
        "subject": "guest",
        "activationId": "a1b2",
        "start": 1000,
        "end": 1170,
        "duration": 170,
        "logs": [],
        "response": {"status": "success", "success": True},
        "annotations": [
            {"key": "path", "value": "guest/echo"},
            {"key": "waitTime", "value": 66},
            {"key": "kind", "value": "nodejs:6"},
            {"key": "initTime", "value": 50},
            {"key": "limits", "value": {"logs": 10, "memory": 256, "timeout": 60000}},
        ],
    }
    path = "/api/v1/namespaces/_/activations"
    assert spec.response_errors("GET", path, 200, json.dumps([fixture]).encode()) == []
    record = activation_record(Activation.model_validate(fixture))
    assert record.model_dump() == {
        "id": "a1b2",
        "cold": True,
        "wait_ms": 66.0,
        "init_ms": 50.0,
        "run_ms": 170.0,
        "phases": {"wait": 66.0, "init": 50.0, "duration": 170.0},
    }
    warm = {**fixture, "annotations": fixture["annotations"][:2]}
    assert activation_record(Activation.model_validate(warm)).cold is False
    assert spec.response_errors("GET", path, 200, b'[{"name": "x"}]') != []


def test_deploy_invoke_update_and_records_for_real(fake: Any) -> None:
    function = FunctionSpec(function="echo", name="fb-echo", memory_mb=128, timeout_s=5)

    async def scenario() -> None:
        platform = OpenWhiskPlatform(config(fake.url), poll_interval_s=0.05)
        since = time.time_ns()
        await platform.deploy(function, 1, {"FTP_HOST": "127.0.0.1"})
        await platform.wait_ready(function, 5)
        target = platform.invoke_target(function, {"x": 1})
        spec = target.request_spec()
        assert spec.method == "POST"
        assert "blocking=true" in spec.url
        ids: list[str] = []
        colds: list[bool] = []
        async with httpx.AsyncClient() as client:
            for _ in range(2):
                response = await client.request(
                    target.method, target.url, headers=list(target.headers), content=target.body
                )
                assert platform.ok(response.status_code, response.content)
                ids.append(response.headers[platform.capture_header])
                document = response.json()
                assert document["result"]["x"] == 1
                colds.append(document["meta"]["cold"])
            cold = await platform.force_cold(function)
            assert cold.method == "action-update"
            assert cold.cost_s >= 0
            assert cold.effective_ns >= since
            response = await client.request(
                target.method, target.url, headers=list(target.headers), content=target.body
            )
            ids.append(response.headers[platform.capture_header])
            colds.append(response.json()["meta"]["cold"])
        assert colds == [True, False, True]
        records = await platform.records(function, since, time.time_ns())
        by_id = {r.id: r for r in records}
        assert set(by_id) == set(ids)
        assert [by_id[i].cold for i in ids] == colds
        assert all(by_id[i].run_ms is not None and by_id[i].wait_ms is not None for i in ids)
        assert by_id[ids[0]].init_ms is not None
        assert by_id[ids[1]].init_ms is None
        # The deployment's environment became default parameters, under ftp's names for ftp.
        action = fake.actions["fb-echo"]
        assert action["parameters"] == [{"key": "FTP_HOST", "value": "127.0.0.1"}]
        assert action["limits"] == {"timeout": 5000, "memory": 128, "concurrency": 1}
        await platform.remove(function)
        await platform.remove(function)  # a missing action is not an error
        assert "fb-echo" not in fake.actions
        await platform.aclose()

    run(scenario())
    methods = {method for method, _ in fake.requests}
    assert methods == {"PUT", "GET", "POST", "DELETE"}


def test_records_page_through_the_list(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from loadgen.platforms import openwhisk

    monkeypatch.setattr(openwhisk, "PAGE_LIMIT", 2)
    function = FunctionSpec(function="echo")
    base = {
        "namespace": "guest",
        "name": "echo",
        "version": "0.0.1",
        "publish": False,
        "subject": "guest",
        "logs": [],
        "response": {},
        "duration": 3,
        "annotations": [{"key": "waitTime", "value": 1}],
    }
    now_ms = time.time_ns() // 1_000_000
    fake.activations += [
        {**base, "activationId": f"id{i}", "start": now_ms - i, "end": now_ms} for i in range(5)
    ]

    async def scenario() -> list[str]:
        platform = OpenWhiskPlatform(config(fake.url))
        records = await platform.records(function, (now_ms - 100) * 1_000_000, time.time_ns())
        await platform.aclose()
        return [r.id for r in records]

    assert sorted(run(scenario())) == [f"id{i}" for i in range(5)]
    skips = [url for method, url in fake.requests if "activations" in url]
    assert len(skips) == 3
    assert "skip=4" in skips[-1]


@pytest.mark.parametrize(
    ("status", "words", "from_proxy"),
    [
        (409, "conflict", False),
        (500, "server error", False),
        (404, "not found", True),
        (429, "too many requests", True),
        (503, "server error", True),
    ],
)
def test_errors_name_the_function_and_status(
    fake: Any, status: int, words: str, from_proxy: bool
) -> None:
    function = FunctionSpec(function="echo", name="fb-echo")

    async def scenario() -> str:
        platform = OpenWhiskPlatform(config(fake.url))
        fake.fail_next["PUT"] = (status, from_proxy)
        try:
            with pytest.raises(PlatformError) as caught:
                await platform.deploy(function, 1, {})
        finally:
            await platform.aclose()
        return str(caught.value)

    message = run(scenario())
    assert "'fb-echo'" in message
    assert f"HTTP {status}" in message
    assert words in message
    assert KEY not in message


def test_unauthorized_says_so_without_the_key(fake: Any) -> None:
    wrong = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:" + "w" * 64

    async def scenario() -> str:
        platform = OpenWhiskPlatform(config(fake.url, auth=wrong))
        try:
            with pytest.raises(PlatformError) as caught:
                await platform.remove(FunctionSpec(function="echo"))
        finally:
            await platform.aclose()
        return str(caught.value)

    message = run(scenario())
    assert "HTTP 401" in message
    assert "unauthorized" in message
    assert "w" * 64 not in message


def test_unreachable_api_is_a_platform_error() -> None:
    async def scenario() -> None:
        platform = OpenWhiskPlatform(config("http://127.0.0.1:9"))
        try:
            with pytest.raises(PlatformError, match="cannot reach the API"):
                await platform.wait_ready(FunctionSpec(function="echo"), 1)
        finally:
            await platform.aclose()

    run(scenario())


def test_wait_ready_times_out_naming_the_function(fake: Any) -> None:
    async def scenario() -> None:
        platform = OpenWhiskPlatform(config(fake.url), poll_interval_s=0.05)
        try:
            with pytest.raises(PlatformError, match=r"'absent' not ready after 0\.2 s"):
                await platform.wait_ready(FunctionSpec(function="echo", name="absent"), 0.2)
        finally:
            await platform.aclose()

    run(scenario())


def test_no_replicas_on_openwhisk() -> None:
    platform = OpenWhiskPlatform(config("http://127.0.0.1:9"))
    with pytest.raises(LimitExceeded, match="no replicas"):
        run(platform.scale(FunctionSpec(function="echo"), 3))
    with pytest.raises(LimitExceeded, match="3 replicas"):
        run(platform.deploy(FunctionSpec(function="echo"), 3, {}))
    limits = platform.limits()
    assert limits.max_replicas is None
    assert limits.replicas_supported is False
    assert limits.natural_cold_start_idle_s == 600
    assert limits.cold_start_method == "action-update"
    run(platform.aclose())


def test_secrets_stay_out_of_reprs() -> None:
    platform = OpenWhiskPlatform(config("http://127.0.0.1:9"))
    target = platform.invoke_target(FunctionSpec(function="echo"), {})
    assert KEY not in repr(platform)
    assert KEY not in repr(target)
    assert KEY not in str(target)
    assert "<redacted>" in repr(target)
    run(platform.aclose())


def test_insecure_tls_only_when_the_stack_says_so() -> None:
    for insecure in (False, True):
        platform = OpenWhiskPlatform(config("https://127.0.0.1:9", insecure=insecure))
        context = platform._client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert (context.verify_mode.name == "CERT_NONE") is insecure
        run(platform.aclose())


def test_make_platform_picks_openwhisk() -> None:
    outputs = StackOutputs(
        cloud="existing",
        orchestrator="k8s",
        framework="openwhisk",
        openwhisk=config("https://h:31001/api/v1"),
    )
    platform = make_platform(outputs, None)
    assert isinstance(platform, OpenWhiskPlatform)
    target = platform.invoke_target(FunctionSpec(function="echo"), {})
    assert target.url.startswith("https://h:31001/api/v1/namespaces/_/actions/echo?")
    run(platform.aclose())


def test_chain_calls_its_callee_through_openwhisks_api(fake: Any) -> None:
    """Nested calls on OpenWhisk: chain invokes matrix by a blocking call with the subject's
    key, taken from the default parameters the deployment's environment became."""
    matrix = FunctionSpec(function="matrix", timeout_s=30)
    chain = FunctionSpec(function="chain", timeout_s=30)
    env = {"GATEWAY_URL": fake.url, "CHAIN_API": "openwhisk", "OPENWHISK_AUTH": AUTH}

    async def scenario() -> dict[str, Any]:
        platform = OpenWhiskPlatform(config(fake.url), poll_interval_s=0.05)
        for function in (matrix, chain):
            await platform.deploy(function, 1, env)
            await platform.wait_ready(function, 5)
        target = platform.invoke_target(chain, {"n": 4, "seed": 1})
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.request(
                target.method, target.url, headers=list(target.headers), content=target.body
            )
        await platform.aclose()
        assert response.status_code == 200, response.text
        return dict(response.json())

    document = run(scenario())
    result = document["result"]
    assert result["callee"] == "matrix"
    assert result["url"].endswith("/actions/matrix?blocking=true&result=true")
    assert result["response"]["result"]["n"] == 4
    assert result["response"]["meta"]["function"] == "matrix"
    # The key went in as a default parameter under chain's own name, never on a command line.
    keys = {kv["key"] for kv in fake.actions["chain"]["parameters"]}
    assert keys == {"gateway", "api", "auth"}
    nested = "/api/v1/namespaces/_/actions/matrix?blocking=true&result=true"
    assert [path for method, path in fake.requests if method == "POST"].count(nested) == 1


def test_a_native_sequence_runs_its_components_and_cold_starts_them(fake: Any) -> None:
    """Seed 000's other composition: `chain` as an OpenWhisk sequence of matrix."""
    matrix = FunctionSpec(function="matrix", timeout_s=30)
    chain = FunctionSpec(function="chain", timeout_s=30)

    async def scenario() -> list[dict[str, Any]]:
        platform = OpenWhiskPlatform(config(fake.url), poll_interval_s=0.05)
        await platform.deploy(matrix, 1, {})
        await platform.deploy_sequence(chain, [matrix])
        await platform.wait_ready(chain, 5)
        target = platform.invoke_target(chain, {"n": 3})
        documents = []
        async with httpx.AsyncClient(timeout=30) as client:
            for force in (False, False, True):
                if force:
                    cold = await platform.force_cold(chain)
                    assert cold.method == "action-update"
                response = await client.request(
                    target.method, target.url, headers=list(target.headers), content=target.body
                )
                assert response.status_code == 200, response.text
                assert platform.capture_header in response.headers
                documents.append(response.json())
        await platform.remove(chain)
        await platform.aclose()
        return documents

    documents = run(scenario())
    assert fake.actions["matrix"]["revision"] == 2  # forcing a cold start updated the component
    assert [d["meta"]["function"] for d in documents] == ["matrix"] * 3
    assert [d["meta"]["cold"] for d in documents] == [True, False, True]
    assert documents[0]["result"]["n"] == 3
