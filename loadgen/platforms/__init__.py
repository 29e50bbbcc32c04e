"""Serverless platforms behind one interface: deploy, scale, force cold starts, read records."""

from __future__ import annotations

from stacks.outputs import StackOutputs

from .base import (
    ColdStart,
    FunctionSpec,
    InvokeTarget,
    LimitExceeded,
    Platform,
    PlatformError,
    PlatformLimits,
    PlatformRecord,
)
from .openwhisk import OpenWhiskPlatform

__all__ = [
    "ColdStart",
    "FunctionSpec",
    "InvokeTarget",
    "LimitExceeded",
    "OpenWhiskPlatform",
    "Platform",
    "PlatformError",
    "PlatformLimits",
    "PlatformRecord",
    "make_platform",
]


def make_platform(outputs: StackOutputs, image: str | None = None) -> Platform:
    """The platform a stack runs, from its `framework` and `orchestrator` outputs.

    `image` is the suite's function image, needed by OpenFaaS only.
    """
    if outputs.framework == "openwhisk":
        if outputs.openwhisk is None:
            raise PlatformError("the stack outputs have framework openwhisk but no openwhisk key")
        return OpenWhiskPlatform(outputs.openwhisk)
    raise PlatformError(f"no platform for framework {outputs.framework!r}")
