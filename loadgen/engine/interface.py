"""The small interface between workloads and engines.

A workload decides *when* requests go out and calls `Engine.send(intended_ns)`; the engine
sends one request and reports its outcome once, to the `ResultSink` it was built with.
Everything is a plain call with plain arguments: this sits on the hot path.
"""

from typing import Protocol

Captured = list[tuple[int, bytes]] | None
"""Captured response headers as (index into the capture list, raw value) pairs."""


class ResultSink(Protocol):
    """Receives one call per request, ok or not."""

    def on_result(
        self,
        intended_ns: int,
        send_ns: int,
        end_ns: int,
        status: int,
        nbytes: int,
        error: int,
        new_connection: bool,
        captured: Captured,
        meta: bytes | None,
    ) -> None:
        """Times are CLOCK_MONOTONIC ns; `error` is an `ErrorKind`; `meta` is compact JSON."""


class Engine(Protocol):
    """Sends requests on behalf of a workload; never retries, never raises per request."""

    inflight: int
    """Requests sent whose result has not been reported yet."""

    connections_opened: int
    """Connections opened so far (0 where the engine cannot tell)."""

    @property
    def resolve_error(self) -> str | None:
        """Why the target's name could not be resolved, if it could not."""

    async def start(self) -> None:
        """Resolve the target and get ready; no request is sent."""

    async def prewarm(self, count: int) -> int:
        """Open up to `count` idle connections ahead of the run; returns how many are open."""

    def send(self, intended_ns: int) -> None:
        """Send one request now; `intended_ns` is when the schedule wanted it sent."""

    async def aclose(self) -> None:
        """Close every connection; results of requests still in flight are not reported."""
