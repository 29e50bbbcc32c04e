"""The platform interface: what an experiment needs from a serverless platform.

Every platform (OpenFaaS on k8s, Swarm, Nomad or the local target; Apache OpenWhisk) deploys,
scales, cold-starts and removes a benchmark function through its control plane, and tells the
engine what request invokes it. Keeping that behind one interface lets the campaign loop treat
platforms alike and keeps control-plane HTTP out of the engine's hot path.

Times in this module are wall-clock nanoseconds (`time.time_ns()`): platform records carry
wall-clock timestamps, so that is the clock they can be joined on.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract.knative import KnativeKnobs
from functions._registry import FUNCTION_NAMES, LANGUAGE_FUNCTIONS, Language
from loadgen.engine.request import RequestSpec
from loadgen.results.completions import Completion, PollStats
from loadgen.results.models import ColdStartEvent, PlatformRecord

ColdMethod = Literal["scale-to-zero", "redeploy", "action-update", "delete-pods"]
"""How a cold start was forced: scaling to zero (the next request wakes the function), removing
and redeploying it, updating an OpenWhisk action (a new revision gets new containers), or
deleting a Knative revision's pods (new pods start at once; the next request waits for them)."""

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_REDACTED = "<redacted>"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class PlatformError(RuntimeError):
    """A control-plane call failed or was refused; the message names the function and why."""


class LimitExceeded(PlatformError):
    """A request the platform cannot honour, refused before any call is made."""


class FunctionSpec(BaseModel):
    """A benchmark function as deployed: which suite function, under what name, with what size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    function: str = Field(description="the suite function (functions/<function>.py)")
    language: Language = Field(
        "python", description="the implementation deployed: python (functions/), node, go, java"
    )
    name: str | None = Field(None, description="deployed name; defaults to `function`")
    memory_mb: int = Field(256, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    concurrency: int = Field(1, ge=1, description="OpenWhisk: activations per container")
    cpu: str | None = Field(None, description="OpenFaaS CPU limit, e.g. '500m' or '0.5'")
    autoscaling: bool = Field(
        True, description="false pins the replicas deployed: the autoscaler may not change them"
    )
    web: bool = Field(
        False, description="OpenWhisk: also exported as a web action, invoked without the API key"
    )
    knative: KnativeKnobs | None = Field(
        None, description="Knative: the Service's autoscaling knobs; None: the cluster's defaults"
    )

    @field_validator("function")
    @classmethod
    def _known(cls, function: str) -> str:
        if function not in FUNCTION_NAMES:
            raise ValueError(f"unknown function {function!r}; known: {', '.join(FUNCTION_NAMES)}")
        return function

    @model_validator(mode="after")
    def _written_in(self) -> FunctionSpec:
        written = LANGUAGE_FUNCTIONS[self.language]
        if self.function not in written:
            raise ValueError(
                f"function {self.function!r} has no {self.language} implementation; "
                f"{self.language} has {', '.join(written)}"
            )
        return self

    @field_validator("name")
    @classmethod
    def _dns_label(cls, name: str | None) -> str | None:
        # Kubernetes object names, Swarm services, Nomad jobs and OpenWhisk actions all accept
        # a DNS label, so one rule serves every platform.
        if name is not None and not _NAME.match(name):
            raise ValueError(f"function name {name!r} is not a DNS label (a-z, 0-9, '-')")
        return name

    @property
    def deployed_name(self) -> str:
        return self.name or self.function


class ColdStart(ColdStartEvent):
    """What forcing a cold start did: the method, when it took effect and what it cost.

    The campaign loop writes it as a segment's `cold_start` in `summary.json`; its shape is the
    results model's (`loadgen.results.models.ColdStartEvent`), which reads back any method, while an
    adapter may only report one of `ColdMethod`.
    """

    method: ColdMethod


#: How a cell invokes its function: blocking for the result (sync), submitted for later
#: completion (async: OpenFaaS /async-function/ with a callback, OpenWhisk non-blocking), or
#: through OpenWhisk's web action path (web).
Invocation = Literal["sync", "async", "web"]


class InvokeTarget(BaseModel):
    """The request the engine sends to invoke a function. The repr never shows credentials."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def request_spec(self) -> RequestSpec:
        """The engine's request for this target."""
        return RequestSpec(url=self.url, method=self.method, headers=self.headers, body=self.body)

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            if key == "headers":
                value = tuple(
                    (name, _REDACTED if name.lower() in _SECRET_HEADERS else v) for name, v in value
                )
            yield key, value


class PlatformLimits(BaseModel):
    """What a platform allows, and whether cold starts happen on their own (idle timeout)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str = Field(description="e.g. 'OpenFaaS Community Edition on k8s'")
    max_functions: int | None = Field(description="null: no limit")
    max_replicas: int | None = Field(description="per function; null: no limit or no replicas")
    replicas_supported: bool = True
    scale_to_zero: bool
    cold_start_method: ColdMethod
    natural_cold_start_idle_s: float | None = Field(
        description="idle time after which the platform itself removes instances; null: never"
    )
    natural_cold_start_reason: str = Field(description="why, or why not, cold starts happen")
    confounds: tuple[str, ...] = Field(
        (), description="known effects that bias measurements on this platform"
    )
    invocations: tuple[Invocation, ...] = Field(
        ("sync",), description="how its functions can be invoked (campaign key `invocation`)"
    )
    async_queue: str | None = Field(
        None, description="what holds asynchronous calls and its limits; validate warns with it"
    )
    completions: Literal["callback", "listing"] = Field(
        "callback",
        description="how asynchronous calls' ends are known: a callback to the loader, or "
        "the platform's listing of its records (`poll_completions`)",
    )


class CompletionLookup(Protocol):
    """One asynchronous call's completion by its id, from the platform's own record (listing
    platforms): what a closed loop's users wait on. It opens its own connections on the event
    loop that first uses it (the completion service's), never the campaign's."""

    requests: int
    """Look-ups sent so far."""

    async def completion(self, call_id: str) -> Completion | None:
        """The call's completion once the platform has recorded its end; None before."""

    async def aclose(self) -> None:
        """Close its connections."""


@runtime_checkable
class Platform(Protocol):
    """A serverless platform's control plane, as the campaign loop uses it."""

    capture_header: str
    """Response header the engine captures to join requests with `records()`."""

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        """Create or update the function with `replicas` instances (where replicas exist)."""

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        """Create or update `function` as the platform's native sequence of `components`
        (already deployed); refused (`LimitExceeded`) where the platform has none."""

    async def scale(self, function: FunctionSpec, n: int) -> None:
        """Ask for `n` instances; refused where the platform cannot."""

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        """Make the next request start a new instance, by the platform's cheapest sure method."""

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        """Return once the platform reports the function ready; never invokes it."""

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: Invocation = "sync"
    ) -> InvokeTarget:
        """The request that invokes the function with `params`, the way `invocation` says (one
        of `limits().invocations`)."""

    async def records(
        self, function: FunctionSpec, since_ns: int, until_ns: int
    ) -> list[PlatformRecord]:
        """Platform-side records of the window, keyed by correlation id."""

    async def poll_completions(
        self, function: FunctionSpec, call_ids: set[str], since_ns: int, deadline_s: float
    ) -> tuple[list[Completion], PollStats]:
        """Where `limits().completions` is "listing": the ends of the asynchronous calls
        `call_ids` (submitted since `since_ns`, Unix ns), from the platform's own records, until
        all are found or `deadline_s` has passed; refused elsewhere (`LimitExceeded`)."""

    def completion_lookup(self) -> CompletionLookup | None:
        """Where `limits().completions` is "listing": a look-up of one call's completion by id,
        for closed-loop users waiting on their calls; None elsewhere (callbacks tell)."""

    async def remove(self, function: FunctionSpec) -> None:
        """Delete the function; removing a missing function is not an error."""

    def limits(self) -> PlatformLimits:
        """What the platform allows and how cold starts come about."""

    def ok(self, status: int, body: bytes) -> bool:
        """Whether a response is a successful invocation."""

    async def aclose(self) -> None:
        """Close control-plane connections."""


_MEANINGS = {
    400: "bad request",
    401: "unauthorized: check the credentials in the stack outputs",
    403: "forbidden: the credentials lack the permission",
    404: "not found",
    408: "timed out",
    409: "conflict",
    413: "request too large",
    429: "too many requests: the platform is throttling",
}


def http_error(
    platform: str, action: str, function: str, status: int, detail: str = ""
) -> PlatformError:
    """A `PlatformError` for an HTTP failure; `detail` must already be free of secrets."""
    meaning = _MEANINGS.get(status) or ("server error" if status >= 500 else "unexpected status")
    message = f"{platform}: {action} of function {function!r} failed: HTTP {status} ({meaning})"
    if detail:
        message += f": {detail}"
    return PlatformError(message)


def scrub(text: str, secrets: list[str], limit: int = 200) -> str:
    """Upstream error text, shortened and with any secret replaced, fit for a message."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
