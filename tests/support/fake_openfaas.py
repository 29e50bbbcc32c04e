"""A small OpenFaaS gateway on 127.0.0.1 whose replicas are real `functions.serve` processes.

It implements the `/system` API the adapter uses (basic auth), and `/function/{name}/...`
proxying with `X-Call-Id` and scale from zero, so forced cold starts are real: a new process
that has never served a request. `community_edition=True` behaves like faas-netes CE: scaling to
0 is refused with 400 and replica counts are clamped to 5. Request bodies are checked against
JSON schemas written from the gateway's OpenAPI description (required fields and types),
independently of the adapter's models; `violations` collects what does not conform.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
_RESOURCES = {
    "type": "object",
    "properties": {"memory": {"type": "string"}, "cpu": {"type": "string"}},
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "FunctionDeployment": {
        "type": "object",
        "required": ["service", "image"],
        "properties": {
            "service": {"type": "string"},
            "image": {"type": "string"},
            "namespace": {"type": "string"},
            "envProcess": {"type": "string"},
            "envVars": _STRINGS,
            "labels": _STRINGS,
            "annotations": _STRINGS,
            "constraints": {"type": "array", "items": {"type": "string"}},
            "secrets": {"type": "array", "items": {"type": "string"}},
            "limits": _RESOURCES,
            "requests": _RESOURCES,
            "readOnlyRootFilesystem": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "ScaleServiceRequest": {
        "type": "object",
        "required": ["serviceName", "replicas"],
        "properties": {
            "serviceName": {"type": "string"},
            "namespace": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": False,
    },
    "DeleteFunctionRequest": {
        "type": "object",
        "required": ["functionName"],
        "properties": {"functionName": {"type": "string"}, "namespace": {"type": "string"}},
        "additionalProperties": False,
    },
}
CE_MAX_REPLICAS = 5


class Replica:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        await self.process.wait()


class Function:
    def __init__(self, deployment: dict[str, Any]) -> None:
        self.deployment = deployment
        self.replicas: list[Replica] = []
        self.desired = int((deployment.get("labels") or {}).get("com.openfaas.scale.min", 1))
        self.invocations = 0
        self.next = 0


class FakeGateway:
    def __init__(self, user: str, password: str, *, community_edition: bool) -> None:
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.ce = community_edition
        self.functions: dict[str, Function] = {}
        self.violations: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.started = 0
        self.fail_next: int | None = None
        self.url = ""
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/system/functions", self.list_functions)
        app.router.add_post("/system/functions", self.deploy)
        app.router.add_put("/system/functions", self.update)
        app.router.add_delete("/system/functions", self.delete)
        app.router.add_get("/system/function/{name}", self.status)
        app.router.add_post("/system/scale-function/{name}", self.scale)
        app.router.add_route("*", "/function/{name}{tail:(/.*)?}", self.proxy)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        if request.path.startswith("/system/"):
            if request.headers.get("Authorization") != self.auth:
                return web.Response(status=401, text="Unauthorized")
            if self.fail_next is not None:
                status, self.fail_next = self.fail_next, None
                return web.Response(status=status, text="injected failure")
        elif "Authorization" in request.headers:
            self.violations.append("credentials were sent to a function")
        return await handler(request)

    async def _body(self, request: web.Request, schema: str) -> dict[str, Any] | None:
        body = await request.json()
        errors = [e.message for e in jsonschema.Draft4Validator(SCHEMAS[schema]).iter_errors(body)]
        self.violations += [f"{schema}: {e}" for e in errors]
        return None if errors else body

    async def _spawn(self, function: Function) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        env = {k: v for k, v in os.environ.items() if k not in ("FUNCTION", "PORT", "HOST")}
        env |= function.deployment.get("envVars") or {}
        env |= {"PORT": str(port), "HOST": "127.0.0.1", "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "functions.serve",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self._session is not None
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with self._session.get(f"http://127.0.0.1:{port}/_/health") as response:
                    if response.status == 200:
                        break
            await asyncio.sleep(0.05)
        self.started += 1
        function.replicas.append(Replica(process, port))

    async def _reconcile(self, function: Function) -> None:
        while len(function.replicas) > function.desired:
            await function.replicas.pop().stop()
        while len(function.replicas) < function.desired:
            await self._spawn(function)

    def _status(self, name: str) -> dict[str, Any]:
        function = self.functions[name]
        d = function.deployment
        status = {
            "name": name,
            "image": d["image"],
            "namespace": d.get("namespace", "openfaas-fn"),
            "envVars": d.get("envVars"),
            "labels": d.get("labels"),
            "replicas": function.desired,
            "availableReplicas": len(function.replicas),
            "invocationCount": function.invocations,
        }
        # Upstream marks these omitempty: zero counts are left out.
        return {k: v for k, v in status.items() if v not in (0, None)}

    async def list_functions(self, request: web.Request) -> web.Response:
        return web.json_response([self._status(name) for name in self.functions])

    async def deploy(self, request: web.Request) -> web.Response:
        body = await self._body(request, "FunctionDeployment")
        if body is None:
            return web.Response(status=400, text="bad deployment")
        if body["service"] in self.functions:
            return web.Response(status=400, text="function already exists")
        function = Function(body)
        if self.ce:
            function.desired = min(max(function.desired, 1), CE_MAX_REPLICAS)
        self.functions[body["service"]] = function
        await self._reconcile(function)
        return web.Response(status=202)

    async def update(self, request: web.Request) -> web.Response:
        body = await self._body(request, "FunctionDeployment")
        if body is None or body["service"] not in self.functions:
            return web.Response(status=404 if body else 400, text="not found")
        function = self.functions[body["service"]]
        for replica in function.replicas:
            await replica.stop()
        function.replicas.clear()
        function.deployment = body
        await self._reconcile(function)
        return web.Response(status=200)

    async def delete(self, request: web.Request) -> web.Response:
        body = await self._body(request, "DeleteFunctionRequest")
        if body is None or body["functionName"] not in self.functions:
            return web.Response(status=404, text="not found")
        function = self.functions.pop(body["functionName"])
        for replica in function.replicas:
            await replica.stop()
        return web.Response(status=200)

    async def status(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.functions:
            return web.Response(status=404, text="not found")
        return web.json_response(self._status(name))

    async def scale(self, request: web.Request) -> web.Response:
        body = await self._body(request, "ScaleServiceRequest")
        name = request.match_info["name"]
        if body is None or name not in self.functions:
            return web.Response(status=404 if body else 400, text="not found")
        replicas = body["replicas"]
        if self.ce and replicas == 0:
            return web.Response(status=400, text="scale to zero is not available in CE")
        function = self.functions[name]
        function.desired = min(replicas, CE_MAX_REPLICAS) if self.ce else replicas
        await self._reconcile(function)
        return web.Response(status=202)

    async def proxy(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.functions:
            return web.Response(status=404, text="function not found")
        function = self.functions[name]
        if not function.replicas:
            function.desired = 1  # scale from zero
            await self._reconcile(function)
        replica = function.replicas[function.next % len(function.replicas)]
        function.next += 1
        tail = request.match_info["tail"] or "/"
        if not tail.startswith("/_/"):
            function.invocations += 1
        assert self._session is not None
        async with self._session.request(
            request.method, f"http://127.0.0.1:{replica.port}{tail}", data=await request.read()
        ) as upstream:
            body = await upstream.read()
            response = web.Response(
                status=upstream.status, body=body, content_type=upstream.content_type
            )
        response.headers["X-Call-Id"] = str(uuid.uuid4())
        return response

    async def close(self) -> None:
        for function in self.functions.values():
            for replica in function.replicas:
                await replica.stop()
        if self._session is not None:
            await self._session.close()


@contextlib.contextmanager
def running_gateway(user: str, password: str, *, community_edition: bool) -> Iterator[FakeGateway]:
    loop = asyncio.new_event_loop()
    gateway = FakeGateway(user, password, community_edition=community_edition)
    runner = web.AppRunner(gateway.app())

    async def start() -> None:
        gateway._session = aiohttp.ClientSession()
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        gateway.url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield gateway
    finally:
        asyncio.run_coroutine_threadsafe(gateway.close(), loop).result(30)
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
