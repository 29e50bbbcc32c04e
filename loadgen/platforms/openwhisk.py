"""Apache OpenWhisk: actions through the controller's REST API (`/api/v1`).

Deploy is `PUT .../actions/{name}?overwrite=true` with the suite's zip action (a jar for
Java) on the runtime kind of its language; the engine
invokes `POST .../actions/{name}?blocking=true&result=true`, whose response carries the
activation id in the `X-Openwhisk-Activation-Id` header (the controller adds it to every
invoke response, blocking or not, result-only or not) and the function's own document, `meta`
included, at the top of the body; `records()` reads the activation records back by id. Forced
cold starts update the action: a new revision never reuses the old revision's containers.

OpenWhisk has no replicas: containers follow load, so `scale()` is refused.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import time
from pathlib import Path
from typing import Any

import httpx

from contract.outputs import OpenWhisk
from functions._registry import Language
from functions.package import ACTION_MAIN, NoAction, openwhisk_zip
from loadgen.results.completions import Completion, PollStats
from loadgen.results.models import PlatformRecord

from ._http import call
from .base import (
    ColdStart,
    FunctionSpec,
    Invocation,
    InvokeTarget,
    LimitExceeded,
    PlatformError,
    PlatformLimits,
)
from .openwhisk_activations import (
    PAGE_LIMIT,
    ActivationLookup,
    activation_record,
    poll_completions,
)
from .openwhisk_types import ActionExec, ActionLimits, ActionPut, Activation, KeyValue

PLATFORM = "OpenWhisk"
ACTIVATION_HEADER = "X-Openwhisk-Activation-Id"
#: The runtime kind of the chart's runtimes.json (openwhisk-deploy-kube 1.0.1): `python:3`.
DEFAULT_KIND = "python:3"
#: The kind of each other language's action, from the same runtimes.json: nodejs:16, not the
#: default nodejs:14, which alone carries stem cells there (a cold start of it would be a
#: prewarmed one unless openwhiskPrewarm is set, unlike python:3's); go:1.17, which compiles
#: the Go source zip at init; java:8, which loads the jar and calls the class `main` names.
LANGUAGE_KINDS: dict[Language, str] = {"node": "nodejs:16", "go": "go:1.17", "java": "java:8"}
_REVISION_ANNOTATION = "faasbench-revision"


def env_parameters(function: str, env: dict[str, str]) -> list[KeyValue]:
    """Actions have no environment: the deployment's variables become default parameters.

    A function that maps parameters to environment variables (`ENVIRONMENT`, as `ftp` has)
    gets them under their parameter names; any other variable is passed under its own name.
    """
    module = importlib.import_module(f"functions.{function}")
    by_env = {env_name: param for param, env_name in getattr(module, "ENVIRONMENT", {}).items()}
    return [KeyValue(key=by_env.get(name, name), value=value) for name, value in env.items()]


class OpenWhiskPlatform:
    """The `Platform` for Apache OpenWhisk, from the stack's `openwhisk` outputs."""

    capture_header = ACTIVATION_HEADER
    INVOCATIONS: tuple[Invocation, ...] = ("sync", "async", "web")

    def __init__(
        self,
        config: OpenWhisk,
        *,
        kind: str = DEFAULT_KIND,
        functions_dir: Path | None = None,
        poll_interval_s: float = 0.25,
        timeout_s: float = 70.0,
    ) -> None:
        api = config.api_host.rstrip("/")
        api = api.removesuffix("/api/v1")
        self._api = api
        self._base = f"{api}/api/v1/namespaces/_"
        self._auth = config.auth.get_secret_value()
        user, _, key = self._auth.partition(":")
        if not user or not key:
            raise PlatformError("OpenWhisk: openwhisk.auth is not of the form uuid:key")
        self._authorization = "Basic " + base64.b64encode(self._auth.encode()).decode()
        self._kind = kind
        self._functions_dir = functions_dir
        self._namespace = config.namespace
        self._idle_timeout_s = config.idle_timeout_s
        self._poll_interval_s = poll_interval_s
        # Each function's deployment variables, so an update (forced cold start) keeps them.
        self._envs: dict[str, dict[str, str]] = {}
        self._sequences: dict[str, list[FunctionSpec]] = {}
        # Each (function, language)'s archive, built once: a forced cold start (an update)
        # sends the same code again, without compiling the Java jar each time.
        self._archives: dict[tuple[str, Language], bytes] = {}
        # verify=False only where the stack says its certificate is self-signed.
        self._client_verify = not config.insecure_tls
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(user, key),
            verify=self._client_verify,
            timeout=timeout_s,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"OpenWhiskPlatform(api={self._api!r})"

    async def _call(
        self, method: str, path: str, action: str, function: str, **kwargs: Any
    ) -> httpx.Response:
        return await call(
            self._client,
            method,
            self._base + path,
            platform=PLATFORM,
            action=action,
            function=function,
            secrets=[self._auth, self._auth.partition(":")[2]],
            **kwargs,
        )

    def action_body(self, function: FunctionSpec, env: dict[str, str], revision: str) -> ActionPut:
        """The `ActionPut` that creates or updates the action at `revision`: the zip (Java: the
        jar) of the function's language, run by that language's runtime kind from the entry
        the packager names (`ACTION_MAIN`)."""
        kind = self.kind(function)
        code = base64.b64encode(self._archive(function)).decode()
        main = ACTION_MAIN[function.language]
        return ActionPut(
            exec=ActionExec(kind=kind, code=code, main=main, binary=True),
            limits=ActionLimits(
                timeout=int(function.timeout_s * 1000),
                memory=function.memory_mb,
                concurrency=function.concurrency,
            ),
            annotations=[
                KeyValue(key=_REVISION_ANNOTATION, value=revision),
                *([KeyValue(key="web-export", value=True)] if function.web else []),
            ],
            parameters=env_parameters(function.function, env) or None,
        )

    def _archive(self, function: FunctionSpec) -> bytes:
        key = (function.function, function.language)
        if key not in self._archives:
            try:
                if self._functions_dir is None:
                    archive = openwhisk_zip(*key)
                else:
                    archive = openwhisk_zip(*key, self._functions_dir)
            except NoAction as exc:
                raise PlatformError(
                    f"{PLATFORM}: cannot package function {function.deployed_name!r} in "
                    f"{function.language}: {exc}"
                ) from None
            self._archives[key] = archive
        return self._archives[key]

    def kind(self, function: FunctionSpec) -> str:
        """The runtime kind of `function`'s language."""
        if function.language == "python":
            return self._kind
        return LANGUAGE_KINDS[function.language]

    async def _put(self, function: FunctionSpec, env: dict[str, str], action: str) -> None:
        body = self.action_body(function, env, revision=str(time.time_ns()))
        await self._call(
            "PUT",
            f"/actions/{function.deployed_name}",
            action,
            function.deployed_name,
            params={"overwrite": "true"},
            json=body.body(),
        )

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        if replicas != 1:
            raise LimitExceeded(
                f"OpenWhisk: cannot deploy function {function.deployed_name!r} with {replicas} "
                "replicas: OpenWhisk has no replicas (containers follow load); pass 1"
            )
        self._envs[function.deployed_name] = dict(env)
        await self._put(function, env, "deploy")

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        """`function` as a native sequence of already deployed actions (seed 000 compared it
        with nested calls): OpenWhisk passes each result to the next action itself."""
        body = ActionPut(
            exec=ActionExec(
                kind="sequence",
                components=[f"/_/{component.deployed_name}" for component in components],
            ),
            annotations=[KeyValue(key=_REVISION_ANNOTATION, value=str(time.time_ns()))],
        )
        self._envs.pop(function.deployed_name, None)
        self._sequences[function.deployed_name] = list(components)
        await self._call(
            "PUT",
            f"/actions/{function.deployed_name}",
            "deploy of a sequence",
            function.deployed_name,
            params={"overwrite": "true"},
            json=body.body(),
        )

    async def scale(self, function: FunctionSpec, n: int) -> None:
        raise LimitExceeded(
            f"OpenWhisk: cannot scale function {function.deployed_name!r} to {n}: OpenWhisk has "
            "no replicas (replicas_supported is false); containers are created per load"
        )

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        """Update the action: the new revision gets new containers, so the next call is cold
        (a sequence: every action it runs)."""
        started = time.perf_counter()
        for action in self._sequences.get(function.deployed_name, [function]):
            await self._put(action, self._envs.get(action.deployed_name, {}), "update")
        return ColdStart(
            method="action-update",
            effective_ns=time.time_ns(),
            cost_s=time.perf_counter() - started,
        )

    async def exists(self, function: FunctionSpec) -> bool:
        """Whether the action exists (fetched without its code)."""
        response = await self._call(
            "GET",
            f"/actions/{function.deployed_name}",
            "readiness check",
            function.deployed_name,
            params={"code": "false"},
            accept=(404,),
        )
        return response.status_code == 200

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        """The action exists and can be fetched; OpenWhisk creates containers on demand."""
        deadline = time.monotonic() + timeout_s
        while True:
            if await self.exists(function):
                return
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"OpenWhisk: function {function.deployed_name!r} not ready after "
                    f"{timeout_s:g} s: the action is not found"
                )
            await asyncio.sleep(self._poll_interval_s)

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: Invocation = "sync"
    ) -> InvokeTarget:
        """sync: a blocking invoke returning the result; async: a non-blocking one (202 and the
        activation id; `completions()` finds its end); web: the web action, without the key."""
        body = json.dumps(params, separators=(",", ":")).encode()
        json_headers = (("Content-Type", "application/json"), ("Accept", "application/json"))
        if invocation == "web":
            if not function.web:
                raise PlatformError(
                    f"OpenWhisk: function {function.deployed_name!r} is not exported as a web "
                    "action (deploy it with web: true)"
                )
            url = f"{self._api}/api/v1/web/{self._namespace}/default/{function.deployed_name}.json"
            return InvokeTarget(url=url, method="POST", headers=json_headers, body=body)
        query = "blocking=false" if invocation == "async" else "blocking=true&result=true"
        return InvokeTarget(
            url=f"{self._base}/actions/{function.deployed_name}?{query}",
            method="POST",
            headers=(("Authorization", self._authorization), *json_headers),
            body=body,
        )

    async def records(
        self, function: FunctionSpec, since_ns: int, until_ns: int
    ) -> list[PlatformRecord]:
        """Activation records of the window, page by page (the controller caps pages at 200)."""
        records: list[PlatformRecord] = []
        skip = 0
        while True:
            page = await self._activations(
                function.deployed_name, since_ns // 1_000_000, skip, -(-until_ns // 1_000_000)
            )
            records.extend(activation_record(Activation.model_validate(item)) for item in page)
            if len(page) < PAGE_LIMIT:
                return records
            skip += len(page)

    async def poll_completions(
        self, function: FunctionSpec, call_ids: set[str], since_ns: int, deadline_s: float
    ) -> tuple[list[Completion], PollStats]:
        """The ends of the non-blocking activations `call_ids`, from the activation listing."""

        async def page(since_ms: int, skip: int) -> list[dict[str, Any]]:
            return await self._activations(function.deployed_name, since_ms, skip)

        return await poll_completions(page, call_ids, since_ns // 1_000_000, deadline_s)

    def completion_lookup(self) -> ActivationLookup:
        """`GET .../activations/{id}` per call: 404 until the activation has ended."""
        user, _, key = self._auth.partition(":")
        return ActivationLookup(self._base, (user, key), verify=self._client_verify)

    async def _activations(
        self, name: str, since_ms: int, skip: int, upto_ms: int | None = None
    ) -> list[dict[str, Any]]:
        """One page of `name`'s activation records (`docs=true`), newest first."""
        params: dict[str, Any] = {"name": name, "since": since_ms}
        if upto_ms is not None:
            params["upto"] = upto_ms
        params |= {"docs": "true", "limit": PAGE_LIMIT, "skip": skip}
        response = await self._call(
            "GET", "/activations", "listing activations", name, params=params
        )
        documents = response.json()
        if not isinstance(documents, list):
            raise PlatformError(
                f"OpenWhisk: listing activations of function {name!r} returned something other "
                "than a list"
            )
        return [d for d in documents if isinstance(d, dict)]

    async def remove(self, function: FunctionSpec) -> None:
        await self._call(
            "DELETE",
            f"/actions/{function.deployed_name}",
            "remove",
            function.deployed_name,
            accept=(404,),
        )
        self._envs.pop(function.deployed_name, None)
        self._sequences.pop(function.deployed_name, None)

    def limits(self) -> PlatformLimits:
        return PlatformLimits(
            platform="Apache OpenWhisk",
            max_functions=None,
            max_replicas=None,
            replicas_supported=False,
            scale_to_zero=True,
            cold_start_method="action-update",
            natural_cold_start_idle_s=self._idle_timeout_s,
            natural_cold_start_reason=(
                f"invokers remove containers idle for {self._idle_timeout_s:g} s "
                "(openwhisk.idle_timeout_s); the next call after that starts cold"
            ),
            invocations=self.INVOCATIONS,
            completions="listing",
            confounds=(
                "prewarmed stem cells of the runtime kind shorten initTime of cold starts",
                "waitTime includes pod creation under the Kubernetes container factory",
                "namespace throttles (invocations per minute, concurrent) answer 429",
            ),
        )

    def ok(self, status: int, body: bytes) -> bool:
        """200 only: 202 means the blocking wait ran out, 502 an application error."""
        return status == 200

    async def aclose(self) -> None:
        await self._client.aclose()
