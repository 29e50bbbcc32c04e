"""OpenWhisk's activation records: the platform records of a window, and non-blocking
invocations followed to their end.

A non-blocking invoke answers 202 with the activation id (in the body and in
`X-Openwhisk-Activation-Id`, which the engine captures); the activation's record appears in
the controller's listing once it has ended. `poll_completions` lists the function's activations
since the segment began (`docs=true`, pages of 200) until every accepted id has a record or the
deadline passes, and turns each record into a `Completion`: its end (the invoker's clock) mapped
onto this machine's CLOCK_MONOTONIC, its status, duration, `waitTime` (queueing) and `initTime`
(present: a cold start).

A closed loop's users wait on one activation each (`ActivationLookup`: `GET
.../activations/{id}`, 404 until it has ended), looked up by the completion service at a bounded
rate (`loadgen.completions.receiver`).

Listing costs the controller a database query per page, so polls are spaced: at least
`min_interval_s` apart and at least twice as long as the last poll took, so the poller never
keeps the controller busy more than a third of the time. `PollStats` records what it cost.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx

from loadgen.results.completions import Completion, PollStats
from loadgen.results.models import PlatformRecord

from .openwhisk_types import Activation

#: One page of the listing: (since ms, skip) → the page's activation documents.
ListPage = Callable[[int, int], Awaitable[list[dict[str, Any]]]]
PAGE_LIMIT = 200


def activation_record(activation: Activation) -> PlatformRecord:
    """The platform record of one activation: `initTime` present means a cold start."""
    wait = _number(activation.annotation("waitTime"))
    init = _number(activation.annotation("initTime"))
    run = float(activation.duration) if activation.duration is not None else None
    phases = {
        key: value
        for key, value in (("wait", wait), ("init", init), ("duration", run))
        if value is not None
    }
    return PlatformRecord(
        id=activation.activationId,
        cold=init is not None,
        wait_ms=wait,
        init_ms=init,
        run_ms=run,
        phases=phases,
    )


def activation_completion(document: dict[str, Any], mono_ns: int, wall_ns: int) -> Completion:
    """The completion of one ended activation; `mono_ns`/`wall_ns` are a simultaneous reading
    of this machine's two clocks, which maps the activation's end onto the monotonic one."""
    end_wall_ns = int(document["end"]) * 1_000_000
    annotations = {a.get("key"): a.get("value") for a in document.get("annotations") or []}
    response = document.get("response") or {}
    success = response.get("success")
    duration = document.get("duration")
    init = _number(annotations.get("initTime"))
    return Completion(
        call_id=str(document["activationId"]),
        received_ns=mono_ns - (wall_ns - end_wall_ns),
        received_wall_ns=end_wall_ns,
        function=document.get("name"),
        function_status=None if success is None else (200 if success else 502),
        duration_s=duration / 1000 if isinstance(duration, int | float) else None,
        cold=init is not None,
        source="activation",
        wait_ms=_number(annotations.get("waitTime")),
        init_ms=init,
    )


async def poll_completions(
    list_page: ListPage,
    expected: set[str],
    since_ms: int,
    deadline_s: float,
    *,
    min_interval_s: float = 1.0,
) -> tuple[list[Completion], PollStats]:
    """Completions of the `expected` activation ids, found by listing until all are found or
    `deadline_s` has passed (those never found are left to the caller to count as lost)."""
    found: dict[str, Completion] = {}
    started = time.monotonic()
    deadline = started + deadline_s
    polls = requests = 0
    while True:
        poll_started = time.monotonic()
        polls += 1
        skip = 0
        while True:
            page = await list_page(since_ms, skip)
            requests += 1
            mono_ns, wall_ns = time.monotonic_ns(), time.time_ns()
            for document in page:
                activation_id = str(document.get("activationId", ""))
                if activation_id in expected and activation_id not in found and document.get("end"):
                    found[activation_id] = activation_completion(document, mono_ns, wall_ns)
            if len(page) < PAGE_LIMIT:
                break
            skip += len(page)
        now = time.monotonic()
        if len(found) == len(expected) or now >= deadline:
            break
        interval = max(min_interval_s, 2 * (now - poll_started))
        await asyncio.sleep(max(0.0, min(interval, deadline - now)))
    elapsed = time.monotonic() - started
    stats = PollStats(
        polls=polls,
        requests=requests,
        elapsed_s=round(elapsed, 3),
        rate_per_s=round(requests / elapsed, 3) if elapsed > 0 else float(requests),
        min_interval_s=min_interval_s,
    )
    return list(found.values()), stats


class ActivationLookup:
    """One activation's completion by id (`CompletionLookup`), on connections of its own,
    opened on the event loop that first uses it."""

    def __init__(
        self, base: str, auth: tuple[str, str], *, verify: bool, timeout_s: float = 10.0
    ) -> None:
        self._base, self._auth, self._verify, self._timeout_s = base, auth, verify, timeout_s
        self._client: httpx.AsyncClient | None = None
        self.requests = 0

    async def completion(self, call_id: str) -> Completion | None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                auth=httpx.BasicAuth(*self._auth),
                verify=self._verify,
                timeout=self._timeout_s,
                headers={"Accept": "application/json"},
            )
        self.requests += 1
        response = await self._client.get(f"{self._base}/activations/{quote(call_id, safe='')}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not document.get("end"):
            return None
        return activation_completion(document, time.monotonic_ns(), time.time_ns())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _number(value: Any) -> float | None:
    """A JSON number as float; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
