"""Knative Serving, as both sides of the contract see it: the stack's `knative` output section,
the autoscaling knobs a campaign sets per function, and the Knative Service object the load
generator applies (rendered here, so the tests check the very object against its CRD).

Knative routes by Host header: a Service `echo` in namespace `knative-fn` answers at
`echo.knative-fn.<domain>` through Kourier, whatever address the request goes to. HAProxy
fronts Kourier's NodePort on every node, so clients send to the stack's `gateway_url` with that
Host header.

Annotation names and bounds are Knative Serving's own (knative/serving knative-v1.23.0,
pkg/apis/autoscaling/register.go and pkg/autoscaler/config/config.go): windows 6 s .. 1 h at
second precision; a target of at least 0.01; target-burst-capacity -1 (activator always in the path)
or >= 0 (0: only while scaled to zero).

This module imports nothing from Pulumi or the load generator.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

API_VERSION = "serving.knative.dev/v1"
#: Where the load generator deploys functions (the stack creates it).
FUNCTION_NAMESPACE = "knative-fn"
#: The domain of every Service's URL (config-domain). `.test` never resolves (RFC 6761): the
#: name only travels in Host headers.
DOMAIN = "knative.faasbench.test"
#: Knative labels every revision's pods with their Service's name.
SERVICE_LABEL = "serving.knative.dev/service"
FUNCTION_LABEL = "faasbench.function"
#: The one autoscaler class serving-core installs (HPA needs serving-hpa.yaml, not installed).
KPA_CLASS = "kpa.autoscaling.knative.dev"
_AUTOSCALING = "autoscaling.knative.dev"
WINDOW_MIN_S = 6
WINDOW_MAX_S = 3600
#: The container port of the suite's image (functions/Dockerfile); Knative sets PORT itself.
CONTAINER_PORT = 8080
HEALTH_PATH = "/_/health"
#: config-defaults `max-revision-timeout-seconds` (config/core/configmaps/defaults.yaml): the
#: longest request timeout a revision may have.
MAX_TIMEOUT_S = 600


class KnativeKnobs(BaseModel):
    """One function's autoscaling, as Knative Service annotations and revision fields.

    Unset knobs leave Knative's cluster defaults (config-autoscaler) in force.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    autoscaling_class: Literal["kpa"] = Field(
        "kpa", alias="class", description="KPA, Knative's own autoscaler (the one installed)"
    )
    min_scale: int | None = Field(None, ge=0, le=1000, description="0 allows scale to zero")
    max_scale: int | None = Field(None, ge=0, le=1000, description="0: no upper bound")
    target: float | None = Field(
        None, ge=0.01, le=10_000, description="concurrent requests per pod the autoscaler aims at"
    )
    container_concurrency: int | None = Field(
        None, ge=0, le=1000, description="hard limit of requests in a pod at once; 0: none"
    )
    stable_window_s: int | None = Field(None, ge=WINDOW_MIN_S, le=WINDOW_MAX_S)
    target_burst_capacity: float | None = Field(
        None,
        ge=-1,
        description="-1: the activator is always in the path; 0: only while scaled to zero",
    )

    @model_validator(mode="after")
    def _ordered(self) -> KnativeKnobs:
        if self.min_scale is not None and self.max_scale and self.min_scale > self.max_scale:
            raise ValueError(f"min_scale {self.min_scale} is above max_scale {self.max_scale}")
        if self.target_burst_capacity is not None and -1 < self.target_burst_capacity < 0:
            raise ValueError("target_burst_capacity is -1 or at least 0")
        return self

    def annotations(self) -> dict[str, str]:
        """The revision template's annotations (values are strings, as Kubernetes wants)."""
        values: dict[str, str] = {f"{_AUTOSCALING}/class": KPA_CLASS}
        for key, value in (
            ("min-scale", self.min_scale),
            ("max-scale", self.max_scale),
            ("target", self.target),
            ("target-burst-capacity", self.target_burst_capacity),
        ):
            if value is not None:
                values[f"{_AUTOSCALING}/{key}"] = _number(value)
        if self.stable_window_s is not None:
            values[f"{_AUTOSCALING}/window"] = f"{self.stable_window_s}s"
        return values


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def service_host(name: str, namespace: str = FUNCTION_NAMESPACE, domain: str = DOMAIN) -> str:
    """The Host header that reaches a Service through Kourier."""
    return f"{name}.{namespace}.{domain}"


def render_service(
    name: str,
    *,
    image: str,
    function: str,
    env: dict[str, str],
    knobs: KnativeKnobs,
    timeout_s: float,
    memory_mb: int,
    cpu: str | None = None,
    namespace: str = FUNCTION_NAMESPACE,
) -> dict[str, Any]:
    """The Knative Service of one suite function: the suite image, `FUNCTION` choosing it."""
    limits: dict[str, str] = {"memory": f"{memory_mb}Mi"}
    if cpu is not None:
        limits["cpu"] = cpu
    variables = {**env, "FUNCTION": function}
    variables.pop("PORT", None)  # Knative reserves PORT and sets it to the container port
    revision: dict[str, Any] = {
        "timeoutSeconds": max(1, round(timeout_s)),
        "containers": [
            {
                "name": "function",
                "image": image,
                "env": [{"name": key, "value": value} for key, value in sorted(variables.items())],
                "ports": [{"containerPort": CONTAINER_PORT}],
                "readinessProbe": {"httpGet": {"path": HEALTH_PATH}},
                "resources": {"limits": limits, "requests": {"memory": f"{memory_mb}Mi"}},
            }
        ],
    }
    if knobs.container_concurrency is not None:
        revision["containerConcurrency"] = knobs.container_concurrency
    return {
        "apiVersion": API_VERSION,
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {FUNCTION_LABEL: function}},
        "spec": {
            "template": {
                "metadata": {
                    "labels": {FUNCTION_LABEL: function},
                    "annotations": knobs.annotations(),
                },
                "spec": revision,
            }
        },
    }


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class KnativeVersions(_Section):
    serving: str
    kourier: str


class Knative(_Section):
    """The stack's `knative` output: where Kourier is fronted and the cluster-wide settings a
    campaign manifest records (they change what a cold start is)."""

    url: str = Field(description="HAProxy's front of Kourier; send the Service's Host header")
    domain: str
    namespace: str = Field(description="where functions are deployed")
    ingress: Literal["kourier"] = "kourier"
    scale_to_zero_grace_period_s: float = Field(
        description="config-autoscaler: how long an idle revision keeps its last pod"
    )
    stable_window_s: float = Field(description="config-autoscaler's default stable window")
    max_scale_limit: int = Field(description="config-autoscaler: per-Service cap; 0: none")
    versions: KnativeVersions
    manifests: dict[str, str] = Field(
        description="release file (serving-crds, serving-core, kourier) -> sha256 applied"
    )
