"""Knative Serving: each function is a Knative Service (`serving.knative.dev/v1`) of the suite's
image, applied through the Kubernetes API with the stack's kubeconfig, and invoked through
the stack's front of Kourier with the Service's Host header.

- deploy: the Service as `contract.knative.render_service` renders it, with the function's
  knobs (`FunctionSpec.knative`); pinned replicas (`autoscaling: false`) set min-scale and
  max-scale to the count; with autoscaling, a count above 1 is the floor (min-scale).
- wait_ready: the Service's `Ready` condition for its current generation, then the function's
  `/_/health` answering through the front (a probe, never an invocation).
- force_cold (`delete-pods`): the latest ready revision's pods are deleted (grace 0); the
  revision's ReplicaSet starts replacements at once, and the call returns once the old pods
  are gone and a new one is Ready. As with a redeploy, the new pod's boot is in the event's
  cost (deploy/scale → ready) and the next request is the first one on a fresh process (its
  `meta.cold`). Whether the activator is in the path then is read from the revision's
  ServerlessService (`spec.mode: Proxy`) and recorded with the event.
  Natural cold starts (the campaign idles past `knative.scale_to_zero_grace_period_s`, then
  the stable window) meet a revision scaled to zero, always through the activator.
- records: pod events of the function's pods created in the window (`PodEvents`, label
  `serving.knative.dev/service`), the cross-check of the functions' own meta envelope.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from contract.knative import (
    API_VERSION,
    HEALTH_PATH,
    MAX_TIMEOUT_S,
    SERVICE_LABEL,
    KnativeKnobs,
    render_service,
    service_host,
)
from contract.outputs import Knative
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
from .knative_api import KnativeApi
from .languages import image_for

PLATFORM = "Knative"
CALL_ID_HEADER = "X-Call-Id"
REVISION_LABEL = "serving.knative.dev/revision"
_SKS_API = "networking.internal.knative.dev/v1alpha1"


def ready_condition(service: dict[str, Any]) -> tuple[bool, str]:
    """Whether a Service is Ready for its current spec, and what its status says if not."""
    status = service.get("status") or {}
    generation = (service.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration") != generation:
        return False, "the controller has not observed the latest spec yet"
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return True, ""
            reason = condition.get("reason") or "not ready"
            message = condition.get("message") or ""
            return False, f"{reason}: {message}".rstrip(": ")
    return False, "no Ready condition yet"


class KnativePlatform:
    """The `Platform` for Knative Serving, from the stack's `knative` outputs and kubeconfig."""

    capture_header = CALL_ID_HEADER

    def __init__(
        self,
        config: Knative,
        access: KubeAccess,
        image: str,
        *,
        images: Mapping[str, str] | None = None,
        poll_interval_s: float = 1.0,
        timeout_s: float = 30.0,
        cold_timeout_s: float = 600.0,
    ) -> None:
        self._config = config
        self._url = config.url.rstrip("/")
        self._namespace = config.namespace
        self._image = image
        self._images = dict(images or {})
        self._poll_interval_s = poll_interval_s
        self._cold_timeout_s = cold_timeout_s
        self._kube = KnativeApi(access, PLATFORM, timeout_s=timeout_s)
        self._events = PodEvents(access, config.namespace, timeout_s=timeout_s, label=SERVICE_LABEL)
        self._probe = httpx.AsyncClient(timeout=timeout_s)
        #: What each function was deployed with, so `scale` keeps its environment.
        self._deployed: dict[str, tuple[FunctionSpec, dict[str, str]]] = {}

    def __repr__(self) -> str:
        return f"KnativePlatform(url={self._url!r}, namespace={self._namespace!r})"

    @property
    def _services(self) -> str:
        return f"/apis/{API_VERSION}/namespaces/{self._namespace}/services"

    def service(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> dict:
        """The Knative Service deployed for `function` with `replicas` instances."""
        knobs = function.knative or KnativeKnobs()
        if function.timeout_s > MAX_TIMEOUT_S:
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r}: timeout "
                f"{function.timeout_s:g} s > Knative's max-revision-timeout-seconds "
                f"{MAX_TIMEOUT_S}"
            )
        if replicas < 1 and not function.autoscaling:
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r} cannot be pinned to "
                f"{replicas} pods (max-scale 0 means unbounded); an idle Service with "
                "min_scale 0 scales to zero by itself"
            )
        if not function.autoscaling:
            knobs = knobs.model_copy(update={"min_scale": replicas, "max_scale": replicas})
        elif replicas > 1:
            floor = max(knobs.min_scale or 0, replicas)
            if knobs.max_scale and floor > knobs.max_scale:
                raise LimitExceeded(
                    f"{PLATFORM}: {replicas} replicas for function {function.deployed_name!r} "
                    f"exceed its knative.max_scale {knobs.max_scale}"
                )
            knobs = knobs.model_copy(update={"min_scale": floor})
        limit = self._config.max_scale_limit
        if limit and knobs.max_scale == 0:
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r}: max_scale 0 (unbounded) is "
                f"refused under the cluster's max-scale-limit {limit} (knativeMaxScaleLimit)"
            )
        if limit and max(replicas, knobs.max_scale or 0) > limit:
            raise LimitExceeded(
                f"{PLATFORM}: function {function.deployed_name!r} would scale past the "
                f"cluster's max-scale-limit {limit} (knativeMaxScaleLimit)"
            )
        return render_service(
            function.deployed_name,
            image=image_for(PLATFORM, function, self._image, self._images),
            function=function.function,
            env=env,
            knobs=knobs,
            timeout_s=function.timeout_s,
            memory_mb=function.memory_mb,
            cpu=function.cpu,
            namespace=self._namespace,
        )

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        body = self.service(function, replicas, env)
        await self._kube.apply(
            self._services,
            function.deployed_name,
            body,
            action="deploy",
            function=function.deployed_name,
        )
        self._deployed[function.deployed_name] = (function, dict(env))

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        raise LimitExceeded(
            f"{PLATFORM}: function {function.deployed_name!r}: Knative Serving has no native "
            "sequences (chain calls its callee through the gateway)"
        )

    async def scale(self, function: FunctionSpec, n: int) -> None:
        """Pin the Service to `n` pods (min-scale = max-scale = n): a new revision."""
        deployed, env = self._deployed.get(function.deployed_name, (function, {}))
        pinned = deployed.model_copy(update={"autoscaling": False})
        await self.deploy(pinned, n, env)
        self._deployed[function.deployed_name] = (deployed, env)

    async def _service_status(self, function: FunctionSpec) -> dict[str, Any]:
        name = function.deployed_name
        found = await self._kube.get(
            f"{self._services}/{name}", action="reading the Service", function=name
        )
        if found is None:
            raise PlatformError(f"{PLATFORM}: function {name!r} is not deployed")
        return found

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        name = function.deployed_name
        deadline = time.monotonic() + timeout_s
        why = ""
        while time.monotonic() < deadline:
            ready, why = ready_condition(await self._service_status(function))
            if ready:
                break
            await asyncio.sleep(self._poll_interval_s)
        else:
            raise PlatformError(
                f"{PLATFORM}: function {name!r} not ready after {timeout_s:g} s ({why})"
            )
        headers = {"Host": service_host(name, self._namespace, self._config.domain)}
        while True:
            try:
                response = await self._probe.get(f"{self._url}{HEALTH_PATH}", headers=headers)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {name!r} not ready after {timeout_s:g} s: its "
                    f"{HEALTH_PATH} does not answer 200 through Kourier"
                )
            await asyncio.sleep(self._poll_interval_s)

    async def _revision_pods(self, function: FunctionSpec, revision: str) -> dict[str, bool]:
        """The revision's pods, each with whether it is Ready."""
        pods = await self._kube.items(
            f"/api/v1/namespaces/{self._namespace}/pods",
            action="listing the revision's pods",
            function=function.deployed_name,
            labelSelector=f"{REVISION_LABEL}={revision}",
        )
        return {
            pod["metadata"]["name"]: any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (pod.get("status") or {}).get("conditions") or ()
            )
            for pod in pods
        }

    async def activator_in_path(self, function: FunctionSpec, revision: str) -> bool | None:
        """Whether the revision's ServerlessService routes through the activator (`Proxy`)."""
        sks = await self._kube.get(
            f"/apis/{_SKS_API}/namespaces/{self._namespace}/serverlessservices/{revision}",
            action="reading the ServerlessService",
            function=function.deployed_name,
        )
        if sks is None:
            return None
        return (sks.get("spec") or {}).get("mode") == "Proxy"

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        """Delete the latest ready revision's pods, wait until they are gone and a replacement
        is Ready (a revision already at zero has none to delete: the next request wakes it)."""
        name = function.deployed_name
        started = time.monotonic()
        deadline = started + self._cold_timeout_s
        status = (await self._service_status(function)).get("status") or {}
        revision = status.get("latestReadyRevisionName")
        if not revision:
            raise PlatformError(f"{PLATFORM}: function {name!r} has no ready revision")
        old = set(await self._revision_pods(function, revision))
        for pod in sorted(old):
            await self._kube.delete(
                f"/api/v1/namespaces/{self._namespace}/pods/{pod}",
                action="deleting a pod",
                function=name,
                json={"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0},
            )
        while old:
            pods = await self._revision_pods(function, revision)
            if not old & set(pods) and any(ready for pod, ready in pods.items()):
                break
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {name!r}: no new pod of revision {revision} was "
                    f"Ready {self._cold_timeout_s:g} s after its pods were deleted"
                )
            await asyncio.sleep(self._poll_interval_s)
        return ColdStart(
            method="delete-pods",
            effective_ns=time.time_ns(),
            cost_s=time.monotonic() - started,
            activator_in_path=await self.activator_in_path(function, revision),
        )

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: Invocation = "sync"
    ) -> InvokeTarget:
        if invocation != "sync":
            raise LimitExceeded(
                f"{PLATFORM}: Services are invoked synchronously (invocation: sync)"
            )
        host = service_host(function.deployed_name, self._namespace, self._config.domain)
        return InvokeTarget(
            url=f"{self._url}/",
            method="POST",
            headers=(
                ("Host", host),
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ),
            body=json.dumps(params, separators=(",", ":")).encode(),
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
        raise LimitExceeded(f"{PLATFORM}: no asynchronous invocations")

    async def remove(self, function: FunctionSpec) -> None:
        """Delete the Service and wait until it is gone, so a new one of that name can follow."""
        name = function.deployed_name
        path = f"{self._services}/{name}"
        self._deployed.pop(name, None)
        if not await self._kube.delete(path, action="remove", function=name):
            return
        deadline = time.monotonic() + self._cold_timeout_s
        while await self._kube.get(path, action="remove", function=name) is not None:
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{PLATFORM}: function {name!r} still exists {self._cold_timeout_s:g} s "
                    "after it was deleted"
                )
            await asyncio.sleep(self._poll_interval_s)

    def limits(self) -> PlatformLimits:
        grace = self._config.scale_to_zero_grace_period_s
        window = self._config.stable_window_s
        limit = self._config.max_scale_limit
        return PlatformLimits(
            platform=f"Knative Serving {self._config.versions.serving} with Kourier",
            max_functions=None,
            max_replicas=limit or None,
            replicas_supported=True,
            scale_to_zero=True,
            cold_start_method="delete-pods",
            # The autoscaler sees no traffic once the stable window has passed, then keeps
            # the last pod for the grace period.
            natural_cold_start_idle_s=float(window + grace),
            natural_cold_start_reason=(
                f"an idle revision scales to zero after the stable window ({window:g} s) and "
                f"the scale-to-zero grace period ({grace:g} s, knativeScaleToZeroGracePeriodS), "
                "where its min-scale is 0"
            ),
            confounds=(
                "forced cold starts (delete-pods) boot the replacement pod inside force_cold "
                "(as a redeploy does); only natural cold starts scale from zero in the request",
                "the activator buffers requests while the revision is at zero or has too "
                "little burst capacity (target_burst_capacity); recorded per cold start",
                "requests cross HAProxy, Kourier (Envoy) and each pod's queue-proxy",
                "changing a knob or scaling creates a new revision with new pods",
            ),
        )

    def ok(self, status: int, body: bytes) -> bool:
        return 200 <= status < 300

    async def aclose(self) -> None:
        await self._kube.aclose()
        await self._events.aclose()
        await self._probe.aclose()
