"""The local gateway's asynchronous invocations: `/async-function/<name>` as OpenFaaS runs them.

OpenFaaS puts an asynchronous request on a queue and answers 202 with its `X-Call-Id`; a queue
worker later invokes the function and POSTs the result to the request's `X-Callback-Url`: the
function's body and headers, plus `X-Call-Id`, `X-Duration-Seconds`, `X-Function-Status` and
`X-Function-Name`. Here the queue is a bounded in-memory queue served by a configurable number
of queue workers (Community Edition's queue worker processes one message at a time), so what
queueing does to completion latency shows on loopback too.

Nothing is dropped silently: a full queue answers 429 at submission, and every accepted call
ends as completed (its callback delivered, or no callback asked for) or as failed (the callback
was refused or could not be delivered), each counted and exported in `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from loadgen.completions.addresses import absolute_http_url

log = logging.getLogger("loadgen.local.gateway")

#: Headers the queue worker sets on a callback, over the function's own.
CALLBACK_HEADERS = ("X-Call-Id", "X-Duration-Seconds", "X-Function-Status", "X-Function-Name")
#: How long a callback receiver may take to answer before the callback counts as failed.
CALLBACK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class AsyncCall:
    """An accepted asynchronous call, as the queue holds it."""

    name: str
    method: str
    #: The request's path and query below `/async-function/<name>`, raw.
    tail: str
    body: bytes
    headers: dict[str, str]
    call_id: str
    callback_url: str | None
    #: When the gateway accepted it (time.time_ns()), the `X-Start-Time` it answered with.
    accepted_ns: int


@dataclass(frozen=True)
class Forwarded:
    """What the function answered (or the gateway in its place: 404, 429, 502, 503)."""

    status: int
    body: bytes
    headers: dict[str, str]
    duration_s: float


Invoke = Callable[[AsyncCall], Awaitable[Forwarded]]


def callback_url(value: str | None) -> str | None:
    """`X-Callback-Url` checked: an absolute http(s) URL, else ValueError naming the header."""
    if value is None or value == "":
        return None
    try:
        return absolute_http_url(value)
    except ValueError as exc:
        raise ValueError(f"X-Callback-Url {exc}") from None


class AsyncQueue:
    """A bounded queue of asynchronous calls and the queue workers that run them."""

    def __init__(self, capacity: int, workers: int, invoke: Invoke) -> None:
        if capacity < 1 or workers < 1:
            raise ValueError("an async queue needs a capacity and at least one worker")
        self.capacity = capacity
        self.workers = workers
        self._invoke = invoke
        self._queue: asyncio.Queue[AsyncCall] = asyncio.Queue(maxsize=capacity)
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self.accepted = 0
        self.rejected = 0
        self.completed = 0
        self.failed = 0
        self.in_progress = 0

    def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=CALLBACK_TIMEOUT_S)
        self._session = aiohttp.ClientSession(timeout=timeout, trust_env=False)
        self._tasks = [
            asyncio.create_task(self._work(), name=f"queue-worker-{i}") for i in range(self.workers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def depth(self) -> int:
        """Calls waiting for a queue worker (not those being run)."""
        return self._queue.qsize()

    def submit(self, call: AsyncCall) -> bool:
        """Queue `call`; False (and counted as rejected) when the queue is full."""
        try:
            self._queue.put_nowait(call)
        except asyncio.QueueFull:
            self.rejected += 1
            return False
        self.accepted += 1
        return True

    async def _work(self) -> None:
        while True:
            call = await self._queue.get()
            self.in_progress += 1
            try:
                result = await self._invoke(call)
                delivered = await self._callback(call, result)
            except Exception:  # a queue worker outlives any one call, as OpenFaaS's does
                log.exception("async call %s to %s failed", call.call_id, call.name)
                delivered = False
            finally:
                self.in_progress -= 1
                self._queue.task_done()
            if delivered:
                self.completed += 1
            else:
                self.failed += 1

    async def _callback(self, call: AsyncCall, result: Forwarded) -> bool:
        if call.callback_url is None:
            return True
        assert self._session is not None, "start() first"
        headers = dict(result.headers)
        headers.update(
            {
                "X-Call-Id": call.call_id,
                "X-Duration-Seconds": f"{result.duration_s:f}",
                "X-Function-Status": str(result.status),
                "X-Function-Name": call.name,
            }
        )
        try:
            async with self._session.post(
                call.callback_url, data=result.body, headers=headers
            ) as response:
                await response.read()
                if response.status >= 400:
                    log.warning(
                        "callback for %s: %s answered %d",
                        call.call_id, call.callback_url, response.status,
                    )  # fmt: skip
                    return False
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("callback for %s to %s failed: %r", call.call_id, call.callback_url, exc)
            return False
        return True

    def metrics(self) -> str:
        """The queue's series in Prometheus text format (faasbench's own names: OpenFaaS's
        queue worker exports none of these)."""
        counters = {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "completed": self.completed,
            "failed": self.failed,
        }
        lines = [
            "# HELP faasbench_async_calls_total Asynchronous calls by outcome.",
            "# TYPE faasbench_async_calls_total counter",
            *(f'faasbench_async_calls_total{{outcome="{k}"}} {v}' for k, v in counters.items()),
            "# HELP faasbench_async_queue_depth Calls waiting for a queue worker.",
            "# TYPE faasbench_async_queue_depth gauge",
            f"faasbench_async_queue_depth {self.depth}",
            "# HELP faasbench_async_in_progress Calls a queue worker is running.",
            "# TYPE faasbench_async_in_progress gauge",
            f"faasbench_async_in_progress {self.in_progress}",
        ]
        return "\n".join(lines) + "\n"
