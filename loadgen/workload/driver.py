"""What workload drivers promise and what they feed.

A driver is the engine's result sink: it passes every result on to a `Recorder` and decides,
from the result, whether and when the next request goes out.
"""

import asyncio
from typing import Protocol

from loadgen.engine.interface import Engine, ResultSink


class Recorder(ResultSink, Protocol):
    """Result sink that also learns about requests the workload chose not to send."""

    def on_drop(self, intended_ns: int, at_ns: int) -> None:
        """An open-loop arrival found `max_inflight` requests outstanding and was dropped."""


class Driver(ResultSink, Protocol):
    sent: int
    """Requests handed to the engine so far."""

    dropped: int
    """Arrivals not sent because `max_inflight` requests were outstanding."""

    queued_max: int
    """Most arrivals ever waiting for a free slot at once (open loop, `queue`)."""

    def bind(self, engine: Engine) -> None:
        """Attach the engine this driver sends through (the engine reports back to it)."""

    def start(self, t0_ns: int) -> asyncio.Future[None]:
        """Begin at CLOCK_MONOTONIC `t0_ns`; the future resolves when the last result is in."""

    def stop(self) -> None:
        """Send nothing more; the future still waits for requests in flight."""

    def abandon(self) -> None:
        """Resolve the future now, without waiting for requests still in flight (their
        results are not recorded): the end of a stop's grace period."""
