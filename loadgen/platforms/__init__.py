"""Serverless platforms behind one interface: deploy, scale, force cold starts, read records."""

from __future__ import annotations

from contract.outputs import StackOutputs

from .base import (
    ColdStart,
    FunctionSpec,
    Invocation,
    InvokeTarget,
    LimitExceeded,
    Platform,
    PlatformError,
    PlatformLimits,
)
from .k8s_events import PodEvents, parse_kubeconfig
from .keda import KedaPlatform
from .knative import KnativePlatform
from .languages import LOCAL_IMAGES
from .openfaas import OpenFaasPlatform
from .openfaas_flavour import flavour
from .openwhisk import OpenWhiskPlatform

__all__ = [
    "ColdStart",
    "FunctionSpec",
    "Invocation",
    "InvokeTarget",
    "KedaPlatform",
    "KnativePlatform",
    "LimitExceeded",
    "OpenFaasPlatform",
    "OpenWhiskPlatform",
    "Platform",
    "PlatformError",
    "PlatformLimits",
    "invocations",
    "make_platform",
]


def invocations(outputs: StackOutputs) -> tuple[tuple[Invocation, ...], str | None]:
    """How the stack's platform invokes functions, and what queues its asynchronous calls
    (None: nothing to warn about), as its adapter's `limits()` says, without connecting."""
    if outputs.framework == "openwhisk":
        return OpenWhiskPlatform.INVOCATIONS, None
    if outputs.framework == "openfaas" and outputs.openfaas is not None:
        scale_to_zero = outputs.openfaas.limits.scale_to_zero
        return OpenFaasPlatform.INVOCATIONS, flavour(
            outputs.orchestrator, scale_to_zero
        ).async_queue
    return ("sync",), None


def make_platform(outputs: StackOutputs, image: str | None = None) -> Platform:
    """The platform a stack runs, from its `framework` and `orchestrator` outputs.

    `image` is the suite's function image, needed by OpenFaaS, KEDA and Knative; the images of
    the other languages come from `registry.images` (the local target runs every language from
    its sources). OpenFaaS on Kubernetes with a `kubeconfig` also reads its new pods' events as
    platform records; KEDA and Knative deploy through that `kubeconfig`.
    """
    images: dict[str, str] = dict(outputs.registry.images) if outputs.registry else {}
    if outputs.cloud == "local":
        images = {**LOCAL_IMAGES, **images}
    if outputs.framework == "keda":
        if outputs.keda is None or outputs.kubeconfig is None:
            raise PlatformError("the stack outputs have framework keda but no keda or kubeconfig")
        if not image:
            raise PlatformError("KEDA needs the suite's function image: pass image=...")
        access = parse_kubeconfig(outputs.kubeconfig.get_secret_value())
        return KedaPlatform(
            outputs.keda, access, image, images=images, gateway_url=outputs.gateway_url
        )
    if outputs.framework == "knative":
        if outputs.knative is None:
            raise PlatformError("the stack outputs have framework knative but no knative key")
        if outputs.kubeconfig is None:
            raise PlatformError("Knative needs the stack's kubeconfig, which the outputs lack")
        if not image:
            raise PlatformError("Knative needs the suite's function image: pass image=...")
        access = parse_kubeconfig(outputs.kubeconfig.get_secret_value())
        return KnativePlatform(outputs.knative, access, image, images=images)
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
    return OpenFaasPlatform(
        outputs.openfaas, outputs.orchestrator, image, images=images, record_source=records
    )
