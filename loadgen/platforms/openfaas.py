"""OpenFaaS through its gateway: one adapter, small per-orchestrator differences.

The gateway's `/system` API (basic auth) deploys, scales and removes functions the same way on
faas-netes (k8s), faas-swarm, faas-nomad and the local target; what differs is captured by a
`Flavour` (openfaas_flavour.py): the edition's name for messages, whether scaling to zero exists
(else a forced cold start removes and redeploys the function) and the known confounds. Function
traffic goes to `/function/{name}`, which is not behind auth; the gateway answers with
`X-Call-Id`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from contract.outputs import OpenFaas, Orchestrator
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
from .languages import image_for
from .openfaas_flavour import Flavour, flavour
from .openfaas_types import (
    DeleteFunctionRequest,
    FunctionDeployment,
    FunctionResources,
    FunctionStatus,
    ScaleServiceRequest,
)

PLATFORM = "OpenFaaS"
CALL_ID_HEADER = "X-Call-Id"
#: faas-netes, faas-swarm and faas-nomad read the initial replica count from this label.
SCALE_MIN_LABEL = "com.openfaas.scale.min"
#: With min = max the autoscaler has nothing to change: fixed replicas for a sweep.
SCALE_MAX_LABEL = "com.openfaas.scale.max"
FUNCTION_LABEL = "faasbench.function"
#: The implementation's language, set for every language but Python (whose deployments are
#: unchanged); the local target reads it to run that language's toolchain.
LANGUAGE_LABEL = "faasbench.language"
#: With the OpenFaaS Pro idler, functions opt in with these labels; 15 minutes is its default.
SCALE_ZERO_LABEL = "com.openfaas.scale.zero"
SCALE_ZERO_DURATION_LABEL = "com.openfaas.scale.zero-duration"
IDLE_DURATION_S = 900


class RecordSource(Protocol):
    """Where platform-side records of OpenFaaS come from (Kubernetes pod events)."""

    async def records(
        self, function: str, since_ns: int, until_ns: int
    ) -> list[PlatformRecord]: ...

    async def aclose(self) -> None: ...


class OpenFaasPlatform:
    """The `Platform` for OpenFaaS, from the stack's `openfaas` outputs and the suite image."""

    INVOCATIONS: tuple[Invocation, ...] = ("sync", "async")

    capture_header = CALL_ID_HEADER

    def __init__(
        self,
        config: OpenFaas,
        orchestrator: Orchestrator,
        image: str,
        *,
        images: Mapping[str, str] | None = None,
        record_source: RecordSource | None = None,
        poll_interval_s: float = 0.5,
        timeout_s: float = 30.0,
    ) -> None:
        self._config = config
        self._url = config.url.rstrip("/")
        self._image = image
        self._images = dict(images or {})
        self._namespace = config.namespace
        self._flavour = flavour(orchestrator, config.limits.scale_to_zero)
        self._orchestrator = orchestrator
        self._password = config.password.get_secret_value()
        self._records = record_source
        self._poll_interval_s = poll_interval_s
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(config.username, self._password), timeout=timeout_s
        )
        # Probes go to the function route, which is open: no credentials reach the function.
        self._probe = httpx.AsyncClient(timeout=timeout_s)
        self._deployed: dict[str, tuple[FunctionSpec, int, dict[str, str]]] = {}

    def __repr__(self) -> str:
        return f"OpenFaasPlatform(url={self._url!r}, edition={self._flavour.edition!r})"

    @property
    def flavour(self) -> Flavour:
        return self._flavour

    async def _call(
        self, method: str, path: str, action: str, function: str, **kwargs: Any
    ) -> httpx.Response:
        return await call(
            self._client,
            method,
            self._url + path,
            platform=PLATFORM,
            action=action,
            function=function,
            secrets=[self._password],
            **kwargs,
        )

    def _query(self) -> dict[str, str]:
        return {"namespace": self._namespace} if self._namespace else {}

    def _check_replicas(self, function: FunctionSpec, replicas: int) -> None:
        limits = self._config.limits
        name = function.deployed_name
        if replicas < 0:
            raise LimitExceeded(f"{PLATFORM}: replicas {replicas} < 0 for function {name!r}")
        if limits.max_replicas is not None and replicas > limits.max_replicas:
            raise LimitExceeded(
                f"{PLATFORM}: function {name!r}: replicas {replicas} > max_replicas "
                f"{limits.max_replicas} ({self._flavour.edition})"
            )
        if replicas == 0 and not limits.scale_to_zero:
            raise LimitExceeded(
                f"{PLATFORM}: function {name!r}: replicas 0 needs scale to zero, which "
                f"{self._flavour.edition} does not have (limits.scale_to_zero is false)"
            )

    def deployment(
        self, function: FunctionSpec, replicas: int, env: dict[str, str]
    ) -> FunctionDeployment:
        """The `FunctionDeployment` of a function: its language's image, `FUNCTION` choosing
        the function in it."""
        image = image_for(PLATFORM, function, self._image, self._images)
        labels = {SCALE_MIN_LABEL: str(max(replicas, 1)), FUNCTION_LABEL: function.function}
        if function.language != "python":
            labels[LANGUAGE_LABEL] = function.language
        if not function.autoscaling:
            labels[SCALE_MAX_LABEL] = str(max(replicas, 1))
        if self._config.limits.idler:
            labels |= {SCALE_ZERO_LABEL: "true", SCALE_ZERO_DURATION_LABEL: f"{IDLE_DURATION_S}s"}
        return FunctionDeployment(
            service=function.deployed_name,
            image=image,
            namespace=self._namespace,
            envVars={**env, "FUNCTION": function.function},
            labels=labels,
            limits=FunctionResources(memory=f"{function.memory_mb}Mi", cpu=function.cpu),
        )

    async def status(self, function: FunctionSpec) -> FunctionStatus | None:
        """The gateway's view of the function, None when it is not deployed."""
        response = await self._call(
            "GET",
            f"/system/function/{function.deployed_name}",
            "status check",
            function.deployed_name,
            params=self._query(),
            accept=(404,),
        )
        if response.status_code == 404:
            return None
        return FunctionStatus.model_validate(response.json())

    async def _check_function_count(self, function: FunctionSpec) -> None:
        limit = self._config.limits.max_functions
        if limit is None:
            return
        response = await self._call(
            "GET",
            "/system/functions",
            "listing functions",
            function.deployed_name,
            params=self._query(),
        )
        names = {FunctionStatus.model_validate(item).name for item in response.json()}
        if function.deployed_name not in names and len(names) + 1 > limit:
            raise LimitExceeded(
                f"{PLATFORM}: cannot deploy function {function.deployed_name!r}: functions "
                f"{len(names) + 1} > max_functions {limit} ({self._flavour.edition})"
            )

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        self._check_replicas(function, replicas)
        await self._check_function_count(function)
        body = self.deployment(function, replicas, env).body()
        exists = await self.status(function) is not None
        await self._call(
            "PUT" if exists else "POST",
            "/system/functions",
            "update" if exists else "deploy",
            function.deployed_name,
            json=body,
        )
        self._deployed[function.deployed_name] = (function, replicas, dict(env))
        if replicas != 1:
            await self.scale(function, replicas)

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        raise LimitExceeded(
            f"{PLATFORM}: cannot deploy function {function.deployed_name!r} as a sequence: "
            "native sequences exist on OpenWhisk only (OpenFaaS chains by nested calls)"
        )

    async def scale(self, function: FunctionSpec, n: int) -> None:
        self._check_replicas(function, n)
        body = ScaleServiceRequest(
            serviceName=function.deployed_name, namespace=self._namespace, replicas=n
        )
        await self._call(
            "POST",
            f"/system/scale-function/{function.deployed_name}",
            f"scaling to {n}",
            function.deployed_name,
            json=body.body(),
        )
        if function.deployed_name in self._deployed:
            spec, _, env = self._deployed[function.deployed_name]
            self._deployed[function.deployed_name] = (spec, n, env)

    def _desired(self, function: FunctionSpec) -> int:
        deployed = self._deployed.get(function.deployed_name)
        return deployed[1] if deployed else 1

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        """Scale to zero where the provider can (the next request scales from zero), else
        remove and redeploy, waiting until the new instance is ready (its cost is `cost_s`)."""
        started = time.perf_counter()
        if self._flavour.cold_start_method == "scale-to-zero":
            await self.scale(function, 0)
            await self._wait_available(function, 0, timeout_s=120.0, exact=True)
        else:
            deployed = self._deployed.get(function.deployed_name)
            if deployed is None:
                raise PlatformError(
                    f"{PLATFORM}: cannot redeploy function {function.deployed_name!r}: it was "
                    "not deployed through this adapter, so its settings are unknown"
                )
            spec, replicas, env = deployed
            await self.remove(function)
            await self._wait_gone(function, timeout_s=120.0)
            await self.deploy(spec, replicas, env)
            await self.wait_ready(function, timeout_s=600.0)
        return ColdStart(
            method=self._flavour.cold_start_method,
            effective_ns=time.time_ns(),
            cost_s=time.perf_counter() - started,
        )

    async def _wait_gone(self, function: FunctionSpec, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while await self.status(function) is not None:
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {function.deployed_name!r} still present "
                    f"{timeout_s:g} s after removal"
                )
            await asyncio.sleep(self._poll_interval_s)

    async def _wait_available(
        self, function: FunctionSpec, replicas: int, timeout_s: float, exact: bool = False
    ) -> None:
        deadline = time.monotonic() + timeout_s
        seen: FunctionStatus | None = None
        while True:
            seen = await self.status(function)
            if seen is not None:
                available = seen.availableReplicas
                if available == replicas if exact else available >= replicas:
                    return
            if time.monotonic() >= deadline:
                state = "not deployed" if seen is None else f"{seen.availableReplicas} available"
                raise PlatformError(
                    f"{PLATFORM}: function {function.deployed_name!r} not ready after "
                    f"{timeout_s:g} s: {state}, {replicas} wanted"
                )
            await asyncio.sleep(self._poll_interval_s)

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        """`availableReplicas` reaches the wanted count, then (with replicas) the function's
        own `/_/health` answers through the gateway: a probe, never an invocation."""
        deadline = time.monotonic() + timeout_s
        replicas = self._desired(function)
        await self._wait_available(function, replicas, timeout_s)
        if replicas == 0:
            return
        url = f"{self._url}/function/{function.deployed_name}/_/health"
        while True:
            try:
                response = await self._probe.get(url)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {function.deployed_name!r} not ready after "
                    f"{timeout_s:g} s: its /_/health does not answer 200 through the gateway"
                )
            await asyncio.sleep(self._poll_interval_s)

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: Invocation = "sync"
    ) -> InvokeTarget:
        """sync: `/function/NAME`; async: `/async-function/NAME` (202 and an `X-Call-Id`; the
        result goes to the `X-Callback-Url` the campaign loop adds)."""
        if invocation == "web":
            raise LimitExceeded("OpenFaaS: has no web-action path (invocation: web is OpenWhisk's)")
        path = "async-function" if invocation == "async" else "function"
        return InvokeTarget(
            url=f"{self._url}/{path}/{function.deployed_name}",
            method="POST",
            headers=(("Content-Type", "application/json"), ("Accept", "application/json")),
            body=json.dumps(params, separators=(",", ":")).encode(),
        )

    async def records(
        self, function: FunctionSpec, since_ns: int, until_ns: int
    ) -> list[PlatformRecord]:
        """Kubernetes pod events where a kubeconfig is known; OpenFaaS itself keeps none."""
        if self._records is None:
            return []
        return await self._records.records(function.deployed_name, since_ns, until_ns)

    async def remove(self, function: FunctionSpec) -> None:
        body = DeleteFunctionRequest(functionName=function.deployed_name, namespace=self._namespace)
        await self._call(
            "DELETE",
            "/system/functions",
            "remove",
            function.deployed_name,
            json=body.body(),
            accept=(404,),
        )

    def limits(self) -> PlatformLimits:
        limits = self._config.limits
        idle: float | None
        if limits.idler:
            idle = float(IDLE_DURATION_S)
            reason = (
                f"the OpenFaaS Pro idler scales functions idle for {IDLE_DURATION_S} s to zero "
                f"({SCALE_ZERO_DURATION_LABEL} label); the next call scales from zero"
            )
        else:
            idle = None
            reason = (
                f"{self._flavour.edition} has no idler: functions are never scaled to zero "
                "on their own, so cold starts happen only when forced"
            )
        return PlatformLimits(
            platform=f"{self._flavour.edition} ({self._orchestrator})",
            max_functions=limits.max_functions,
            max_replicas=limits.max_replicas,
            scale_to_zero=limits.scale_to_zero,
            cold_start_method=self._flavour.cold_start_method,
            natural_cold_start_idle_s=idle,
            natural_cold_start_reason=reason,
            confounds=self._flavour.confounds,
            invocations=self.INVOCATIONS,
            async_queue=self._flavour.async_queue,
        )

    def completion_lookup(self) -> None:
        """Asynchronous calls' completions are not looked up here."""

    async def poll_completions(
        self, function: FunctionSpec, call_ids: set[str], since_ns: int, deadline_s: float
    ) -> tuple[list[Completion], PollStats]:
        raise LimitExceeded(
            "OpenFaaS: asynchronous calls complete by callback (X-Callback-Url), not by listing"
        )

    def ok(self, status: int, body: bytes) -> bool:
        return 200 <= status < 300

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._probe.aclose()
        if self._records is not None:
            await self._records.aclose()
