"""KEDA on Kubernetes: functions as Deployments of the suite's image, scaled from zero by KEDA,
deployed through the Kubernetes API with the stack's kubeconfig.

Two modes, as the stack installed them (`keda.mode`):

- http: each function has a Service and an HTTPScaledObject; requests go to the stack's
  `gateway_url` (HAProxy before the HTTP add-on's interceptors) with `Host:
  <function>.fn.faasbench`, and the interceptor holds a request for a function at zero
  replicas until a pod is ready. The interceptor is in every request's path: a confound.
- queue: each function is a consumer Deployment with a ScaledObject on its Redis jobs list;
  it takes jobs, not requests (`loadgen.workload.enqueue`), so `invoke_target` is refused.

How KEDA scales (`contract.keda_objects.Scaling`: polling interval, cooldown, target,
replicas) is the campaign file's `keda:` mapping, given at construction (`scaling`), so it is
part of every cell's manifest. A forced cold start scales the Deployment to zero and waits
until no pod is left; KEDA leaves it there until a request or a job comes. Platform records
are the function's new pods (`PodEvents`, by the label `faasbench/function`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

from contract.keda import Keda, function_host
from contract.keda_objects import LABEL, Scaling, function_objects
from loadgen.results.completions import Completion, PollStats
from loadgen.results.models import PlatformRecord

from .base import (
    ColdStart,
    FunctionSpec,
    Invocation,
    InvokeTarget,
    LimitExceeded,
    PlatformError,
    PlatformLimits,
)
from .k8s_events import KubeAccess, PodEvents
from .kube_api import KubeApi, object_path, path_of
from .languages import image_for

PLATFORM = "keda"
CALL_ID_HEADER = "X-Call-Id"
HTTP_CONFOUNDS = (
    "the HTTP add-on's interceptor (beta upstream) proxies every request: its routing and "
    "queueing are part of each latency, and it holds requests while a function scales from zero",
)
QUEUE_CONFOUNDS = (
    "a job waits for KEDA's next poll of the list (polling interval) before a first consumer "
    "starts: completion latency from zero includes up to one interval",
)


class KedaPlatform:
    """The `Platform` of a `framework: keda` stack."""

    capture_header = CALL_ID_HEADER

    def __init__(
        self,
        keda: Keda,
        access: KubeAccess,
        image: str,
        *,
        images: Mapping[str, str] | None = None,
        gateway_url: str | None = None,
        scaling: Scaling | None = None,
        poll_interval_s: float = 1.0,
        api: KubeApi | None = None,
    ) -> None:
        if keda.mode == "http" and gateway_url is None:
            raise PlatformError(f"{PLATFORM}: http mode needs the stack's gateway_url")
        if keda.mode == "queue" and keda.queue is None:
            raise PlatformError(f"{PLATFORM}: queue mode needs the stack's keda.queue output")
        self.keda = keda
        self.mode = keda.mode
        self.scaling = scaling or Scaling()
        self._image = image
        self._images = dict(images or {})
        self._gateway_url = (gateway_url or "").rstrip("/")
        self._namespace = keda.namespace
        self._poll_interval_s = poll_interval_s
        self._api = api or KubeApi(access, platform=PLATFORM)
        self._events = PodEvents(access, keda.namespace, label=LABEL)
        self._deployed: dict[str, tuple[FunctionSpec, int, dict[str, str]]] = {}

    def configure(self, scaling: Scaling) -> None:
        """How KEDA scales the functions deployed from now on."""
        self.scaling = scaling

    def _deployment_path(self, function: FunctionSpec) -> str:
        return path_of("apps/v1", "Deployment", self._namespace, function.deployed_name)

    def _objects(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> list[Any]:
        scaling = self.scaling
        if not function.autoscaling:
            # Pinned: KEDA keeps exactly `replicas` (at least one: zero is not pinned).
            pinned = max(replicas, 1)
            scaling = scaling.model_copy(update={"min_replicas": pinned, "max_replicas": pinned})
        if replicas > scaling.max_replicas:
            raise LimitExceeded(
                f"{PLATFORM}: {replicas} replicas of function {function.deployed_name!r} exceed "
                f"the campaign's keda.max_replicas {scaling.max_replicas}"
            )
        if self.mode == "queue" and function.language != "python":
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r} is written in "
                f"{function.language}, and queue mode runs the Python consumer "
                "(functions/consumer.py) only: use the HTTP add-on mode (kedaMode http) or python"
            )
        image = image_for(PLATFORM, function, self._image, self._images)
        queue = self.keda.queue
        return function_objects(
            self.mode,
            function.deployed_name,
            function=function.function,
            image=image,
            replicas=replicas,
            memory_mb=function.memory_mb,
            cpu=function.cpu,
            env=env,
            scaling=scaling,
            queue_address=queue.internal_address if queue is not None else None,
        )

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        for obj in self._objects(function, replicas, env):
            await self._api.apply(obj, function.deployed_name)
        self._deployed[function.deployed_name] = (function, replicas, dict(env))

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        raise LimitExceeded(
            f"{PLATFORM}: cannot deploy function {function.deployed_name!r} as a sequence: "
            "native sequences exist on OpenWhisk only"
        )

    async def scale(self, function: FunctionSpec, n: int) -> None:
        """Pin the function at `n` replicas (KEDA's min and max), as a replica sweep needs."""
        deployed = self._deployed.get(function.deployed_name)
        if deployed is None:
            raise PlatformError(
                f"{PLATFORM}: cannot scale function {function.deployed_name!r}: it was not "
                "deployed through this adapter"
            )
        spec, _, env = deployed
        await self.deploy(spec.model_copy(update={"autoscaling": False}), n, env)

    async def replicas(self, function: FunctionSpec) -> int | None:
        """The Deployment's pods now (`status.replicas`); None when it does not exist."""
        deployment = await self._api.get(
            self._deployment_path(function), "the Deployment", function.deployed_name
        )
        if deployment is None:
            return None
        return int((deployment.get("status") or {}).get("replicas") or 0)

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        started = time.perf_counter()
        await self._api.merge_patch(
            self._deployment_path(function),
            {"spec": {"replicas": 0}},
            "the Deployment's replicas",
            function.deployed_name,
        )
        deadline = time.monotonic() + 120.0
        while (await self.replicas(function)) != 0:
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {function.deployed_name!r} still has pods 120 s "
                    "after scaling to zero"
                )
            await asyncio.sleep(self._poll_interval_s)
        return ColdStart(
            method="scale-to-zero",
            effective_ns=time.time_ns(),
            cost_s=time.perf_counter() - started,
        )

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        """The Deployment has caught up with its spec: every wanted pod ready (none, at zero)."""
        deadline = time.monotonic() + timeout_s
        while True:
            deployment = await self._api.get(
                self._deployment_path(function), "the Deployment", function.deployed_name
            )
            if deployment is not None and _caught_up(deployment):
                return
            if time.monotonic() >= deadline:
                state = "absent" if deployment is None else json.dumps(deployment.get("status"))
                raise PlatformError(
                    f"{PLATFORM}: function {function.deployed_name!r} not ready after "
                    f"{timeout_s:g} s ({state})"
                )
            await asyncio.sleep(self._poll_interval_s)

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: Invocation = "sync"
    ) -> InvokeTarget:
        if invocation != "sync":
            raise LimitExceeded(
                f"{PLATFORM}: functions are invoked synchronously (invocation: sync)"
            )
        if self.mode == "queue":
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r} takes jobs from the queue "
                "(kedaMode queue): use an enqueue experiment"
            )
        return InvokeTarget(
            url=f"{self._gateway_url}/",
            headers=(
                ("Host", function_host(function.deployed_name)),
                ("Content-Type", "application/json"),
            ),
            body=json.dumps(params).encode(),
        )

    async def records(
        self, function: FunctionSpec, since_ns: int, until_ns: int
    ) -> list[PlatformRecord]:
        return await self._events.records(function.deployed_name, since_ns, until_ns)

    def completion_lookup(self) -> None:
        """Asynchronous calls' completions are not looked up here."""

    async def poll_completions(
        self, function: FunctionSpec, call_ids: set[str], since_ns: int, deadline_s: float
    ) -> tuple[list[Completion], PollStats]:
        raise LimitExceeded(
            f"{PLATFORM}: no asynchronous invocations (queued jobs are an enqueue experiment)"
        )

    async def remove(self, function: FunctionSpec) -> None:
        for obj in reversed(self._objects(function, 1, {})):
            await self._api.delete(object_path(obj), obj["kind"], function.deployed_name)
        self._deployed.pop(function.deployed_name, None)

    def limits(self) -> PlatformLimits:
        versions = self.keda.versions
        extra = f", HTTP add-on {versions.http_add_on}" if self.mode == "http" else ", Redis queue"
        idle = self.scaling.cooldown_s + (
            self.scaling.polling_interval_s if self.mode == "queue" else 0
        )
        return PlatformLimits(
            platform=f"KEDA {versions.keda}{extra} on k8s",
            max_functions=None,
            max_replicas=self.scaling.max_replicas,
            scale_to_zero=self.scaling.min_replicas == 0,
            cold_start_method="scale-to-zero",
            natural_cold_start_idle_s=float(idle) if self.scaling.min_replicas == 0 else None,
            natural_cold_start_reason=(
                f"KEDA scales a function to zero after {self.scaling.cooldown_s} s without "
                + ("requests" if self.mode == "http" else "jobs")
                + " (the campaign's keda.cooldown_s)"
                if self.scaling.min_replicas == 0
                else "keda.min_replicas keeps pods running"
            ),
            confounds=HTTP_CONFOUNDS if self.mode == "http" else QUEUE_CONFOUNDS,
        )

    def ok(self, status: int, body: bytes) -> bool:
        return status == 200

    async def aclose(self) -> None:
        await self._api.aclose()
        await self._events.aclose()


def _caught_up(deployment: dict[str, Any]) -> bool:
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    generation = (deployment.get("metadata") or {}).get("generation", 0)
    if status.get("observedGeneration", 0) < generation:
        return False
    wanted = int(spec.get("replicas", 1))
    return int(status.get("readyReplicas") or 0) >= wanted and int(
        status.get("updatedReplicas") or 0
    ) >= min(wanted, 1)
