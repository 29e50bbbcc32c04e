"""Serverless platforms behind one interface: deploy, scale, force cold starts, read records."""

from __future__ import annotations

from contract.outputs import StackOutputs

from .base import (
    ColdStart,
    FunctionSpec,
    InvokeTarget,
    LimitExceeded,
    Platform,
    PlatformError,
    PlatformLimits,
)
from .k8s_events import PodEvents, parse_kubeconfig
from .knative import KnativePlatform
from .openfaas import OpenFaasPlatform
from .openwhisk import OpenWhiskPlatform

__all__ = [
    "ColdStart",
    "FunctionSpec",
    "InvokeTarget",
    "KnativePlatform",
    "LimitExceeded",
    "OpenFaasPlatform",
    "OpenWhiskPlatform",
    "Platform",
    "PlatformError",
    "PlatformLimits",
    "make_platform",
]


def make_platform(outputs: StackOutputs, image: str | None = None) -> Platform:
    """The platform a stack runs, from its `framework` and `orchestrator` outputs.

    `image` is the suite's function image, needed by OpenFaaS and Knative. OpenFaaS on
    Kubernetes with a `kubeconfig` also reads its new pods' events as platform records;
    Knative applies its Services with the `kubeconfig`.
    """
    if outputs.framework == "knative":
        if outputs.knative is None:
            raise PlatformError("the stack outputs have framework knative but no knative key")
        if outputs.kubeconfig is None:
            raise PlatformError("Knative needs the stack's kubeconfig, which the outputs lack")
        if not image:
            raise PlatformError("Knative needs the suite's function image: pass image=...")
        access = parse_kubeconfig(outputs.kubeconfig.get_secret_value())
        return KnativePlatform(outputs.knative, access, image)
    if outputs.framework == "openwhisk":
        if outputs.openwhisk is None:
            raise PlatformError("the stack outputs have framework openwhisk but no openwhisk key")
        return OpenWhiskPlatform(outputs.openwhisk)
    if outputs.openfaas is None:
        raise PlatformError("the stack outputs have framework openfaas but no openfaas key")
    if not image:
        raise PlatformError("OpenFaaS needs the suite's function image: pass image=...")
    records = None
    if outputs.orchestrator == "k8s" and outputs.kubeconfig is not None:
        access = parse_kubeconfig(outputs.kubeconfig.get_secret_value())
        records = PodEvents(access, outputs.openfaas.namespace or "openfaas-fn")
    return OpenFaasPlatform(outputs.openfaas, outputs.orchestrator, image, record_source=records)
