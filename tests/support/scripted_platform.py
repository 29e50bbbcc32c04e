"""A platform adapter for campaign tests: functions are paths of a `ScriptedServer`, and every
control-plane call succeeds at once. Tests subclass it and override what they script."""

from __future__ import annotations

from typing import Any

from loadgen.platforms.base import (
    ColdStart,
    FunctionSpec,
    InvokeTarget,
    PlatformLimits,
)
from loadgen.results.models import PlatformRecord
from support.loadgen_servers import ScriptedServer


class ScriptedPlatform:
    """Deploys nothing, is ready at once, reports no records; `invoke_target` is the test's."""

    capture_header = "x-call-id"

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.deployed: list[str] = []

    async def deploy(self, function: FunctionSpec, replicas: int, env: dict[str, str]) -> None:
        self.deployed.append(function.function)

    async def deploy_sequence(self, function: FunctionSpec, components: list[FunctionSpec]) -> None:
        self.deployed.append(function.function)

    async def scale(self, function: FunctionSpec, n: int) -> None:
        return None

    async def force_cold(self, function: FunctionSpec) -> ColdStart:
        raise NotImplementedError("this scripted platform forces no cold starts")

    async def wait_ready(self, function: FunctionSpec, timeout_s: float) -> None:
        return None

    def invoke_target(
        self, function: FunctionSpec, params: dict[str, Any], invocation: str = "sync"
    ) -> InvokeTarget:
        raise NotImplementedError("a scripted platform names its own targets")

    async def records(
        self, function: FunctionSpec, start_ns: int, end_ns: int
    ) -> list[PlatformRecord]:
        return []

    async def remove(self, function: FunctionSpec) -> None:
        return None

    def limits(self) -> PlatformLimits:
        return PlatformLimits(
            platform="scripted", max_functions=None, max_replicas=None, scale_to_zero=False,
            cold_start_method="redeploy", natural_cold_start_idle_s=None,
            natural_cold_start_reason="never",
        )  # fmt: skip

    def ok(self, status: int, body: bytes) -> bool:
        return 200 <= status < 300

    async def aclose(self) -> None:
        return None
