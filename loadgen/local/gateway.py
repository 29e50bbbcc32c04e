"""The local target's gateway: the subset of the OpenFaaS gateway API that faasbench uses, in
front of `functions.serve` replicas on loopback.

    python -m loadgen.local.gateway STATE_DIR/gateway.json

`/system/*` (behind basic auth) deploys, updates, scales, lists and deletes functions; each
replica is its own process, so a new replica is a new instance with a cold first call.
`/function/<name>[/path][?query]` is proxied round robin to the ready replicas over keep-alive
connections. A call for a function without a ready replica is held until one is ready (and a
function at zero replicas is scaled to one first, as OpenFaaS scales from zero), so a cold start
measures a process start, not a polling interval. `/async-function/<name>` answers 202 with the
call's `X-Call-Id` and runs it later from a bounded queue, POSTing the result to its
`X-Callback-Url` (`loadgen.local.async_calls`). With CE limits on, the gateway refuses what
OpenFaaS Community Edition on Kubernetes refuses: a 16th function, a 6th replica, zero replicas.

The listening address is written to `STATE_DIR/gateway.addr` once the gateway serves; SIGTERM or
SIGINT stops every replica and exits. This module serves HTTP (routes, auth, the `/system` API);
the API's rules are `loadgen.local.deployments`, the replicas `loadgen.local.fleet`, function
traffic and `/metrics` `loadgen.local.traffic`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from functions._registry import Language
from loadgen.local.deployments import (
    ApiError,
    Deployment,
    GatewayConfig,
    check_function_count,
    check_replicas,
    has_min_label,
    initial_replicas,
    json_body,
    read_deployment,
    suite_function,
    suite_language,
)
from loadgen.local.fleet import Fleet, Function
from loadgen.local.procs import resident_bytes, write_json
from loadgen.local.runtimes import SUITE_ROOT, LanguageUnavailable, Runtimes
from loadgen.local.traffic import Traffic

log = logging.getLogger("loadgen.local.gateway")

#: Request bodies the gateway accepts; above the replicas' own limit so they answer 413.
MAX_BODY = 32 * 1024 * 1024


class Gateway:
    """The aiohttp application: `/system` over the fleet, `/function` proxied to it."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.runtimes = Runtimes(
            functions_root=config.functions_root or SUITE_ROOT,
            cache_dir=config.state_dir / "builds",
        )
        self.fleet = Fleet(config.state_dir / "replicas", config.hold_timeout_s, self.runtimes)
        self.functions = self.fleet.functions
        self.traffic = Traffic(config, self.fleet)
        self._expected_auth = "Basic " + base64.b64encode(
            f"{config.username}:{config.password}".encode()
        ).decode("ascii")

    # Application ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors, self._auth])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self.traffic.metrics)
        app.router.add_get("/system/info", self._info)
        app.router.add_get("/system/functions", self._list)
        app.router.add_post("/system/functions", self._deploy)
        app.router.add_put("/system/functions", self._update)
        app.router.add_delete("/system/functions", self._delete)
        app.router.add_get("/system/function/{name}", self._status)
        app.router.add_post("/system/scale-function/{name}", self._scale)
        app.router.add_route("*", "/function/{name}", self.traffic.invoke)
        app.router.add_route("*", "/function/{name}/{tail:.*}", self.traffic.invoke)
        app.router.add_route("*", "/async-function/{name}", self.traffic.invoke_async)
        app.router.add_route("*", "/async-function/{name}/{tail:.*}", self.traffic.invoke_async)
        app.on_startup.append(self._startup)
        app.on_cleanup.append(self._cleanup)
        return app

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return web.Response(status=exc.status, text=str(exc) + "\n")

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Basic auth on `/system/*`, as the OpenFaaS gateway guards its API."""
        if request.path.startswith("/system/"):
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), self._expected_auth.encode()):
                return web.Response(
                    status=401,
                    text="unauthorized: the /system API needs basic auth\n",
                    headers={"WWW-Authenticate": 'Basic realm="faasbench-local"'},
                )
        return await handler(request)

    async def _startup(self, app: web.Application) -> None:
        self.traffic.async_queue.start()

    async def _cleanup(self, app: web.Application) -> None:
        await self.traffic.async_queue.stop()
        await self.fleet.shutdown()

    # /system ----------------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def _info(self, request: web.Request) -> web.Response:
        version = {"release": _faasbench_version(), "sha": ""}
        return web.json_response(
            {
                "provider": {
                    "provider": "faasbench-local",
                    "orchestration": "local",
                    "version": version,
                },
                "version": version,
                "arch": _arch(),
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([self._function_status(f) for f in self.functions.values()])

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self._function_status(self._get(request.match_info["name"])))

    async def _deploy(self, request: web.Request) -> web.Response:
        spec = await read_deployment(request)
        if spec.service in self.functions:
            raise ApiError(409, f"function {spec.service} already exists; PUT updates it")
        check_function_count(self.config, len(self.functions), spec.service)
        suite = suite_function(spec)
        language = self._language(spec, suite)
        function = Function(
            spec.service, spec, suite, initial_replicas(self.config, spec), language=language
        )
        self.functions[spec.service] = function
        log.info(
            "deployed %s (%s, %s), %d replica(s)", spec.service, function.suite_function,
            language, function.desired,
        )  # fmt: skip
        self.fleet.kick(function)
        return web.Response(status=202, text=f"deployed {spec.service}\n")

    async def _update(self, request: web.Request) -> web.Response:
        spec = await read_deployment(request)
        function = self._get(spec.service)
        suite = suite_function(spec)
        language = self._language(spec, suite)
        desired = initial_replicas(self.config, spec) if has_min_label(spec) else function.desired
        async with function.changed:
            old, function.replicas = function.replicas, []
            function.spec, function.suite_function = spec, suite
            function.language = language
            function.desired = desired
            function.generation += 1
        for replica in old:
            self.fleet.schedule(replica.stop())
        log.info("updated %s: %d new replica(s)", spec.service, desired)
        self.fleet.kick(function)
        return web.Response(status=200, text=f"updated {spec.service}\n")

    async def _delete(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        name = body.get("functionName") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise ApiError(400, 'the body must be {"functionName": ...}')
        function = self._get(name)
        del self.functions[name]
        async with function.changed:
            function.deleted = True
            old, function.replicas = function.replicas, []
            function.changed.notify_all()
        await asyncio.gather(*(replica.stop() for replica in old))
        log.info("deleted %s", name)
        return web.Response(status=200, text=f"deleted {name}\n")

    async def _scale(self, request: web.Request) -> web.Response:
        function = self._get(request.match_info["name"])
        body = await json_body(request)
        replicas = body.get("replicas") if isinstance(body, dict) else None
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ApiError(400, 'the body must be {"serviceName": ..., "replicas": N >= 0}')
        check_replicas(self.config, replicas, function.name)
        async with function.changed:
            function.desired = replicas
        log.info("scaling %s to %d", function.name, replicas)
        self.fleet.kick(function)
        return web.Response(status=202, text=f"scaling {function.name} to {replicas}\n")

    def _language(self, spec: Deployment, function: str) -> Language:
        """The deployment's language, refused (400) when this machine cannot run it."""
        language = suite_language(spec, function)
        try:
            self.runtimes.check(language)
        except LanguageUnavailable as exc:
            raise ApiError(400, f"cannot deploy {spec.service}: {exc}") from None
        return language

    def _get(self, name: str) -> Function:
        function = self.functions.get(name)
        if function is None:
            raise ApiError(404, f"function {name} not found")
        return function

    def _function_status(self, function: Function) -> dict[str, Any]:
        spec = function.spec.model_dump(exclude_none=True, exclude={"service"})
        invocations = self.traffic.invocation_count(function.name)
        memory = sum(resident_bytes(r.pid) or 0 for r in function.replicas)
        return {
            **spec,
            "name": function.name,
            "image": function.spec.image,
            "envProcess": function.spec.envProcess or "",
            "envVars": function.spec.envVars or {},
            "labels": function.spec.labels or {},
            "annotations": function.spec.annotations or {},
            "replicas": function.desired,
            "availableReplicas": len(function.replicas),
            "invocationCount": invocations,
            "createdAt": function.created_at,
            "usage": {"totalMemoryBytes": memory},
        }


def _faasbench_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("faasbench")
    except PackageNotFoundError:
        return "unknown"


def _arch() -> str:
    import platform

    return platform.machine()


async def serve(config: GatewayConfig) -> None:
    """Serve until SIGTERM or SIGINT, then stop the replicas."""
    gateway = Gateway(config)
    runner = web.AppRunner(gateway.app(), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    host, port = sock.getsockname()[:2]
    gateway.fleet.self_url = f"http://{host}:{port}"
    write_json(config.state_dir / "gateway.addr", {"host": host, "port": port})
    log.info(
        "gateway on %s (CE limits %s)", gateway.fleet.self_url, "on" if config.ce_limits else "off"
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    await stopped.wait()
    log.info("stopping")
    await runner.cleanup()
    (config.state_dir / "gateway.addr").unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m loadgen.local.gateway CONFIG.json", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    try:
        config = GatewayConfig.model_validate_json(Path(args[0]).read_text())
    except (OSError, ValidationError) as exc:
        print(f"gateway: bad configuration {args[0]}: {exc}", file=sys.stderr)
        return 2
    try:
        import uvloop

        uvloop.run(serve(config))
    except OSError as exc:
        print(f"gateway: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
