"""The Kubernetes objects of one KEDA function, from plain values: the loader's adapter creates
them through the API, and the tests validate them against Kubernetes and KEDA's CRDs.

A function is a Deployment of the suite's image (one function per pod, user 10001, read-only
root) and, by mode:

- http: a Service on the server's port and an HTTPScaledObject (`http.keda.sh/v1alpha1`) that
  routes `Host: <function>.fn.faasbench` through the HTTP add-on's interceptor and scales the
  Deployment on concurrent requests, from zero;
- queue: the consumer entry point (`python -m functions.consumer`) and a ScaledObject
  (`keda.sh/v1alpha1`) with a `redis` trigger on the function's jobs list, scaling 0 → N on
  its length (the `TriggerAuthentication` of the queue's password is shared).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contract.keda import (
    FUNCTION_NAMESPACE,
    PASSWORD_KEY,
    QUEUE_SECRET,
    TRIGGER_AUTHENTICATION,
    KedaMode,
    function_host,
    jobs_key,
)

SERVER_PORT = 8080
LABEL = "faasbench/function"
USER_ID = 10001


class Scaling(BaseModel):
    """How KEDA scales one function (a cell's parameters, recorded in its manifest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    polling_interval_s: int = Field(
        5, ge=1, le=3600, description="queue: how often KEDA reads the list's length"
    )
    cooldown_s: int = Field(
        60, ge=0, le=86_400, description="idle time before scaling back to zero"
    )
    target: int = Field(
        5, ge=1, le=100_000, description="queue: jobs per replica; http: concurrent requests"
    )
    min_replicas: int = Field(0, ge=0, le=1000)
    max_replicas: int = Field(10, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> Scaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas {self.min_replicas} is greater than max_replicas {self.max_replicas}"
            )
        return self


def _labels(name: str) -> dict[str, str]:
    return {LABEL: name, "app.kubernetes.io/part-of": "faasbench"}


def _metadata(name: str) -> dict[str, Any]:
    return {"name": name, "namespace": FUNCTION_NAMESPACE, "labels": _labels(name)}


def deployment(
    mode: KedaMode,
    name: str,
    *,
    function: str,
    image: str,
    replicas: int,
    memory_mb: int,
    cpu: str | None,
    env: dict[str, str],
    queue_address: str | None = None,
) -> dict[str, Any]:
    """The function's Deployment (queue mode needs the queue's in-cluster `queue_address`)."""
    variables: list[dict[str, Any]] = [{"name": "FUNCTION", "value": function}]
    container: dict[str, Any] = {"name": "function", "image": image}
    if mode == "queue":
        if queue_address is None:
            raise ValueError("a queue consumer needs the queue's address")
        variables += [
            {"name": "QUEUE_ADDRESS", "value": queue_address},
            {"name": "QUEUE_KEY", "value": name},
            {
                "name": "QUEUE_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": QUEUE_SECRET, "key": PASSWORD_KEY}},
            },
        ]
        container["command"] = ["python", "-m", "functions.consumer"]
    else:
        container["ports"] = [{"name": "http", "containerPort": SERVER_PORT}]
        container["readinessProbe"] = {
            "httpGet": {"path": "/_/ready", "port": "http"},
            "periodSeconds": 1,
        }
    variables += [{"name": key, "value": value} for key, value in sorted(env.items())]
    limits = {"memory": f"{memory_mb}Mi"}
    if cpu is not None:
        limits["cpu"] = cpu
    container["env"] = variables
    container["resources"] = {"requests": {"memory": f"{memory_mb}Mi"}, "limits": limits}
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(name),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {LABEL: name}},
            "template": {
                "metadata": {"labels": _labels(name)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [container],
                },
            },
        },
    }


def service(name: str) -> dict[str, Any]:
    """http: the Service the interceptor forwards to."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name),
        "spec": {
            "selector": {LABEL: name},
            "ports": [{"name": "http", "port": SERVER_PORT, "targetPort": "http"}],
        },
    }


def http_scaled_object(name: str, scaling: Scaling) -> dict[str, Any]:
    """http: routes the function's Host to its Service and scales it on concurrency."""
    return {
        "apiVersion": "http.keda.sh/v1alpha1",
        "kind": "HTTPScaledObject",
        "metadata": _metadata(name),
        "spec": {
            "hosts": [function_host(name)],
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
                "service": name,
                "port": SERVER_PORT,
            },
            "replicas": {"min": scaling.min_replicas, "max": scaling.max_replicas},
            "scaledownPeriod": scaling.cooldown_s,
            "scalingMetric": {"concurrency": {"targetValue": scaling.target}},
        },
    }


def scaled_object(name: str, scaling: Scaling, queue_address: str) -> dict[str, Any]:
    """queue: scales the consumer Deployment on the length of its jobs list."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _metadata(name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "pollingInterval": scaling.polling_interval_s,
            "cooldownPeriod": scaling.cooldown_s,
            "minReplicaCount": scaling.min_replicas,
            "maxReplicaCount": scaling.max_replicas,
            "triggers": [
                {
                    "type": "redis",
                    "metadata": {
                        "address": queue_address,
                        "listName": jobs_key(name),
                        "listLength": str(scaling.target),
                        "activationListLength": "0",
                    },
                    "authenticationRef": {"name": TRIGGER_AUTHENTICATION},
                }
            ],
        },
    }


def trigger_authentication() -> dict[str, Any]:
    """queue: the password KEDA's redis scaler authenticates with."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": TRIGGER_AUTHENTICATION, "namespace": FUNCTION_NAMESPACE},
        "spec": {
            "secretTargetRef": [
                {"parameter": "password", "name": QUEUE_SECRET, "key": PASSWORD_KEY}
            ]
        },
    }


def function_objects(
    mode: KedaMode,
    name: str,
    *,
    function: str,
    image: str,
    replicas: int,
    memory_mb: int,
    cpu: str | None,
    env: dict[str, str],
    scaling: Scaling,
    queue_address: str | None = None,
) -> list[dict[str, Any]]:
    """Every object of one function, in the order they are created."""
    workload = deployment(
        mode,
        name,
        function=function,
        image=image,
        replicas=replicas,
        memory_mb=memory_mb,
        cpu=cpu,
        env=env,
        queue_address=queue_address,
    )
    if mode == "http":
        return [workload, service(name), http_scaled_object(name, scaling)]
    assert queue_address is not None  # deployment() refused it already
    return [workload, scaled_object(name, scaling, queue_address)]
