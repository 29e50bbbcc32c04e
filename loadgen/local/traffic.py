"""The local gateway's function traffic: `/function/<name>` proxied to the replicas,
`/async-function/<name>` through the async queue, and `/metrics` counting both."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import aiohttp
from aiohttp import web

from loadgen.local import exporter
from loadgen.local.async_calls import AsyncCall, AsyncQueue, Forwarded, callback_url
from loadgen.local.deployments import ApiError, GatewayConfig
from loadgen.local.fleet import Fleet
from loadgen.local.procs import read_stat, resident_bytes

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip


class Traffic:
    """Invocations of the fleet's functions, and what the gateway counts of them."""

    def __init__(self, config: GatewayConfig, fleet: Fleet) -> None:
        self.fleet = fleet
        self.functions = fleet.functions
        self.invocations: Counter[tuple[str, str]] = Counter()
        self.durations: dict[tuple[str, str], exporter.Histogram] = {}
        self.async_queue = AsyncQueue(config.async_queue_size, config.async_workers, self.forward)

    def invocation_count(self, name: str) -> int:
        return sum(v for (function, _), v in self.invocations.items() if function == name)

    async def invoke(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        call_id = request.headers.get("X-Call-Id") or str(uuid.uuid4())
        if name not in self.functions:
            return web.Response(
                status=404, text=f"function {name} not found\n", headers={"X-Call-Id": call_id}
            )
        call = AsyncCall(
            name=name,
            method=request.method,
            tail=request.raw_path[len(f"/function/{name}") :],
            body=await request.read(),
            headers=forwardable(request),
            call_id=call_id,
            callback_url=None,
            accepted_ns=time.time_ns(),
        )
        result = await self.forward(call)
        return web.Response(status=result.status, body=result.body, headers=result.headers)

    async def invoke_async(self, request: web.Request) -> web.StreamResponse:
        """`/async-function/<name>`: 202 and the call's id now, the result to its callback."""
        name = request.match_info["name"]
        call_id = request.headers.get("X-Call-Id") or str(uuid.uuid4())
        if name not in self.functions:
            return web.Response(
                status=404, text=f"function {name} not found\n", headers={"X-Call-Id": call_id}
            )
        try:
            callback = callback_url(request.headers.get("X-Callback-Url"))
        except ValueError as exc:
            return web.Response(status=400, text=f"{exc}\n", headers={"X-Call-Id": call_id})
        accepted_ns = time.time_ns()
        call = AsyncCall(
            name=name,
            method=request.method,
            tail=request.raw_path[len(f"/async-function/{name}") :],
            body=await request.read(),
            headers=forwardable(request),
            call_id=call_id,
            callback_url=callback,
            accepted_ns=accepted_ns,
        )
        headers = {"X-Call-Id": call_id, "X-Start-Time": str(accepted_ns)}
        if not self.async_queue.submit(call):
            return web.Response(
                status=429,
                text=f"the async queue is full ({self.async_queue.capacity} calls waiting)\n",
                headers=headers,
            )
        return web.Response(status=202, headers=headers)

    async def forward(self, call: AsyncCall) -> Forwarded:
        """`call` proxied to a ready replica of its function (held until one is ready)."""
        name = call.name
        function = self.functions.get(name)
        if function is None:
            self._record(name, 404, 0.0)
            return Forwarded(
                404, f"function {name} not found\n".encode(), {"X-Call-Id": call.call_id}, 0.0
            )
        try:
            replica, held_s = await self.fleet.ready_replica(function)
        except ApiError as exc:
            self._record(name, exc.status, 0.0)
            return Forwarded(exc.status, f"{exc}\n".encode(), {"X-Call-Id": call.call_id}, 0.0)
        upstream = replica.url + "/" + call.tail.lstrip("/")
        headers = dict(call.headers)
        headers["X-Call-Id"] = call.call_id
        headers["X-Start-Time"] = str(time.time_ns())
        started = time.perf_counter()
        try:
            async with self.fleet.session.request(
                call.method,
                aiohttp.client.URL(upstream, encoded=True),
                data=call.body or None,
                headers=headers,
                allow_redirects=False,
            ) as upstream_response:
                payload = await upstream_response.read()
                status = upstream_response.status
                response_headers = {
                    k: v
                    for k, v in upstream_response.headers.items()
                    if k.lower() not in _HOP_BY_HOP and k.lower() != "date"
                }
        except (aiohttp.ClientError, OSError) as exc:
            duration = time.perf_counter() - started
            self._record(name, 502, duration)
            return Forwarded(
                502,
                f"replica {replica.instance_id} of {name} failed: {exc!r}\n".encode(),
                {"X-Call-Id": call.call_id, "X-Duration-Seconds": f"{duration:.6f}"},
                duration,
            )
        duration = time.perf_counter() - started
        self._record(name, status, duration)
        response_headers["X-Call-Id"] = call.call_id
        response_headers["X-Duration-Seconds"] = f"{duration:.6f}"
        if held_s > 0.001:
            response_headers["X-Hold-Seconds"] = f"{held_s:.6f}"
        return Forwarded(status, payload, response_headers, duration)

    def _record(self, name: str, status: int, duration: float) -> None:
        key = (name, str(status))
        self.invocations[key] += 1
        self.durations.setdefault(key, exporter.Histogram()).observe(duration)

    async def metrics(self, request: web.Request) -> web.Response:
        samples = []
        for function in self.functions.values():
            for replica in function.replicas:
                stat = read_stat(replica.pid)
                memory = resident_bytes(replica.pid)
                if stat is None or memory is None:
                    continue
                samples.append(
                    exporter.ReplicaSample(
                        function.name, replica.instance_id, replica.pid, stat.cpu_seconds, memory
                    )
                )
        text = exporter.render(
            dict(self.invocations),
            self.durations,
            {name: len(f.replicas) for name, f in self.functions.items()},
            samples,
        )
        text += self.async_queue.metrics()
        return web.Response(text=text, content_type="text/plain", charset="utf-8")


def forwardable(request: web.Request) -> dict[str, str]:
    """The request's headers a replica gets (hop-by-hop ones dropped), with the host it asked."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
    headers["X-Forwarded-Host"] = request.host
    return headers
