"""The local target's gateway: the subset of the OpenFaaS gateway API that faasbench uses, in
front of `functions.serve` replicas on loopback.

    python -m loadgen.local.gateway STATE_DIR/gateway.json

`/system/*` (behind basic auth) deploys, updates, scales, lists and deletes functions; each
replica is its own process, so a new replica is a new instance with a cold first call.
`/function/<name>[/path][?query]` is proxied round robin to the ready replicas over keep-alive
connections. A call for a function without a ready replica is held until one is ready (and a
function at zero replicas is scaled to one first, as OpenFaaS scales from zero), so a cold start
measures a process start, not a polling interval. With CE limits on, the gateway refuses what
OpenFaaS Community Edition on Kubernetes refuses: a 16th function, a 6th replica, zero replicas.

The listening address is written to `STATE_DIR/gateway.addr` once the gateway serves; SIGTERM or
SIGINT stops every replica and exits.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import re
import signal
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.package import function_names
from loadgen.local import metrics
from loadgen.local.limits import CE_MAX_FUNCTIONS, CE_MAX_REPLICAS
from loadgen.local.procs import read_stat, resident_bytes, write_json
from loadgen.local.replicas import Replica, ReplicaError, replica_env, start_replica

log = logging.getLogger("loadgen.local.gateway")

#: Names the suite's function when a deployment's envVars do not (`FUNCTION`).
FUNCTION_LABEL = "com.openfaas.faasbench.function"
#: OpenFaaS's label for a function's initial (minimum) replica count.
SCALE_MIN_LABEL = "com.openfaas.scale.min"
#: Kubernetes object names (DNS-1123 labels), which OpenFaaS requires of function names.
_SERVICE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
#: Request bodies the gateway accepts; above the replicas' own limit so they answer 413.
MAX_BODY = 32 * 1024 * 1024


class GatewayConfig(BaseModel):
    """What `up` hands the gateway (a 0600 file, as it holds the password)."""

    model_config = ConfigDict(frozen=True)

    state_dir: Path
    username: str
    password: str
    ce_limits: bool = True
    default_replicas: int = Field(1, ge=1)
    hold_timeout_s: float = Field(60.0, gt=0)
    host: str = "127.0.0.1"
    port: int = 0


class Deployment(BaseModel):
    """OpenFaaS's FunctionDeployment; fields the local target has no use for are kept and echoed
    back in the function's status."""

    model_config = ConfigDict(extra="allow")

    service: str
    image: str
    namespace: str | None = None
    envProcess: str | None = None  # the API's spelling
    envVars: dict[str, str] | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class Function:
    """A deployed function: its spec, desired replica count and the replicas that serve it."""

    name: str
    spec: Deployment
    suite_function: str
    desired: int
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    replicas: list[Replica] = field(default_factory=list)
    #: Replaced by PUT: replicas started for an older spec are stopped once they come up.
    generation: int = 0
    deleted: bool = False
    #: Reconciliations scheduled or running; a held call starts one only when there is none.
    pending: int = 0
    start_error: str | None = None
    next_replica: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.functions: dict[str, Function] = {}
        self.invocations: Counter[tuple[str, str]] = Counter()
        self.durations: dict[tuple[str, str], metrics.Histogram] = {}
        self.replica_dir = config.state_dir / "replicas"
        self.replica_dir.mkdir(parents=True, exist_ok=True)
        self.self_url = ""
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._expected_auth = "Basic " + base64.b64encode(
            f"{config.username}:{config.password}".encode()
        ).decode("ascii")

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
                auto_decompress=False,
            )
        return self._session

    # Application ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors, self._auth])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/system/info", self._info)
        app.router.add_get("/system/functions", self._list)
        app.router.add_post("/system/functions", self._deploy)
        app.router.add_put("/system/functions", self._update)
        app.router.add_delete("/system/functions", self._delete)
        app.router.add_get("/system/function/{name}", self._status)
        app.router.add_post("/system/scale-function/{name}", self._scale)
        app.router.add_route("*", "/function/{name}", self._invoke)
        app.router.add_route("*", "/function/{name}/{tail:.*}", self._invoke)
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

    async def _cleanup(self, app: web.Application) -> None:
        await self.shutdown()

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
        spec = await self._deployment(request)
        if spec.service in self.functions:
            raise ApiError(409, f"function {spec.service} already exists; PUT updates it")
        if self.config.ce_limits and len(self.functions) >= CE_MAX_FUNCTIONS:
            raise ApiError(
                400,
                f"OpenFaaS Community Edition allows at most {CE_MAX_FUNCTIONS} functions "
                f"(CE limits are on); delete one before deploying {spec.service}",
            )
        suite_function = self._suite_function(spec)
        desired = self._initial_replicas(spec)
        function = Function(spec.service, spec, suite_function, desired)
        self.functions[spec.service] = function
        log.info("deployed %s (%s), %d replica(s)", spec.service, suite_function, desired)
        self._kick(function)
        return web.Response(status=202, text=f"deployed {spec.service}\n")

    async def _update(self, request: web.Request) -> web.Response:
        spec = await self._deployment(request)
        function = self._get(spec.service)
        suite_function = self._suite_function(spec)
        desired = self._initial_replicas(spec) if _has_min_label(spec) else function.desired
        async with function.changed:
            old, function.replicas = function.replicas, []
            function.spec, function.suite_function = spec, suite_function
            function.desired = desired
            function.generation += 1
        for replica in old:
            self._schedule(replica.stop())
        log.info("updated %s: %d new replica(s)", spec.service, desired)
        self._kick(function)
        return web.Response(status=200, text=f"updated {spec.service}\n")

    async def _delete(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
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
        body = await _json_body(request)
        replicas = body.get("replicas") if isinstance(body, dict) else None
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ApiError(400, 'the body must be {"serviceName": ..., "replicas": N >= 0}')
        self._check_replicas(replicas, function.name)
        async with function.changed:
            function.desired = replicas
        log.info("scaling %s to %d", function.name, replicas)
        self._kick(function)
        return web.Response(status=202, text=f"scaling {function.name} to {replicas}\n")

    def _get(self, name: str) -> Function:
        function = self.functions.get(name)
        if function is None:
            raise ApiError(404, f"function {name} not found")
        return function

    async def _deployment(self, request: web.Request) -> Deployment:
        body = await _json_body(request)
        try:
            spec = Deployment.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
            )
            raise ApiError(400, f"not a FunctionDeployment: {problems}") from None
        if not _SERVICE_NAME.match(spec.service):
            raise ApiError(400, f"bad function name {spec.service!r} (lowercase DNS label)")
        return spec

    def _suite_function(self, spec: Deployment) -> str:
        """Which function of the suite the deployment runs: envVars FUNCTION, else the label."""
        from_env = (spec.envVars or {}).get("FUNCTION")
        from_label = (spec.labels or {}).get(FUNCTION_LABEL)
        if from_env and from_label and from_env != from_label:
            raise ApiError(400, f"envVars FUNCTION={from_env} but {FUNCTION_LABEL}={from_label}")
        name = from_env or from_label
        known = function_names()
        if not name:
            raise ApiError(
                400,
                f"name the suite's function in envVars FUNCTION or the label {FUNCTION_LABEL} "
                f"(the image is not run locally); one of: {', '.join(known)}",
            )
        if name not in known:
            raise ApiError(400, f"unknown function {name!r}; one of: {', '.join(known)}")
        return name

    def _initial_replicas(self, spec: Deployment) -> int:
        text = (spec.labels or {}).get(SCALE_MIN_LABEL)
        if text is None:
            replicas = self.config.default_replicas
        else:
            try:
                replicas = int(text)
            except ValueError:
                raise ApiError(400, f"{SCALE_MIN_LABEL}={text!r} is not a number") from None
            if replicas < 0:
                raise ApiError(400, f"{SCALE_MIN_LABEL}={text!r} is negative")
        self._check_replicas(replicas, spec.service)
        return replicas

    def _check_replicas(self, replicas: int, name: str) -> None:
        if not self.config.ce_limits:
            return
        if replicas == 0:
            raise ApiError(
                400,
                f"OpenFaaS Community Edition does not scale to zero (CE limits are on); "
                f"{name} keeps at least 1 replica",
            )
        if replicas > CE_MAX_REPLICAS:
            raise ApiError(
                400,
                f"OpenFaaS Community Edition allows at most {CE_MAX_REPLICAS} replicas per "
                f"function (CE limits are on); asked for {replicas} of {name}",
            )

    def _function_status(self, function: Function) -> dict[str, Any]:
        spec = function.spec.model_dump(exclude_none=True, exclude={"service"})
        invocations = sum(v for (name, _), v in self.invocations.items() if name == function.name)
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

    # Replicas ---------------------------------------------------------------------------------

    def _schedule(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _kick(self, function: Function) -> None:
        function.pending += 1
        self._schedule(self._reconcile(function))

    async def _reconcile(self, function: Function) -> None:
        """Start or stop replicas until the function has `desired` of its current spec."""
        async with function.lock:
            try:
                while not function.deleted:
                    missing = function.desired - len(function.replicas)
                    if missing < 0:
                        async with function.changed:
                            extra = function.replicas[function.desired :]
                            del function.replicas[function.desired :]
                        for replica in extra:
                            self._schedule(replica.stop())
                        continue
                    if missing == 0:
                        break
                    if not await self._start(function, missing):
                        break
            finally:
                function.pending -= 1
                async with function.changed:
                    function.changed.notify_all()

    async def _start(self, function: Function, count: int) -> bool:
        """Start `count` replicas at once; False when one failed (its error is kept)."""
        generation = function.generation
        defaults = {"GATEWAY_URL": self.self_url} if self.self_url else {}
        env = replica_env(function.suite_function, function.spec.envVars or {}, defaults)
        async with function.changed:
            function.start_error = None
        results = await asyncio.gather(
            *(
                start_replica(
                    function.name, function.suite_function, env, self.replica_dir,
                    self.session, generation,
                )
                for _ in range(count)
            ),
            return_exceptions=True,
        )  # fmt: skip
        ok = True
        for result in results:
            if isinstance(result, BaseException):
                ok = False
                message = str(result) if isinstance(result, ReplicaError) else repr(result)
                log.error("%s: %s", function.name, message)
                async with function.changed:
                    function.start_error = message
                    function.changed.notify_all()
                continue
            if function.deleted or function.generation != generation:
                self._schedule(result.stop())
                continue
            async with function.changed:
                function.replicas.append(result)
                function.changed.notify_all()
            self._schedule(self._watch(function, result))
        return ok

    async def _watch(self, function: Function, replica: Replica) -> None:
        """A replica that exits on its own is taken out of rotation and replaced."""
        code = await replica.process.wait()
        if replica.stopping:
            return
        log.error("%s: replica %d exited with %s", function.name, replica.pid, code)
        replica.forget()
        async with function.changed:
            if replica in function.replicas:
                function.replicas.remove(replica)
        if not function.deleted:
            self._kick(function)

    async def _ready_replica(self, function: Function) -> tuple[Replica, float]:
        """A ready replica, round robin; waits for one (scaling from zero if need be). Returns
        it with the seconds the call was held."""
        started = time.monotonic()
        deadline = started + self.config.hold_timeout_s
        async with function.changed:
            if not function.replicas and not function.pending:
                function.start_error = None  # a new call retries a replica that failed
            while not function.replicas:
                if function.deleted:
                    raise ApiError(404, f"function {function.name} was deleted")
                if function.start_error:
                    raise ApiError(502, f"no replica of {function.name}: {function.start_error}")
                if not function.pending:
                    if function.desired == 0:
                        log.info("scaling %s from zero", function.name)
                        function.desired = 1
                    self._kick(function)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ApiError(
                        504,
                        f"no replica of {function.name} was ready within "
                        f"{self.config.hold_timeout_s:g} s",
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(function.changed.wait(), remaining)
            function.next_replica += 1
            replica = function.replicas[function.next_replica % len(function.replicas)]
        return replica, time.monotonic() - started

    async def shutdown(self) -> None:
        """Stop every replica (requests in flight finish first) and close upstream connections."""
        replicas = [r for f in self.functions.values() for r in f.replicas]
        for function in self.functions.values():
            function.deleted = True
            function.replicas = []
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(r.stop() for r in replicas), return_exceptions=True)
        for leftover in self.replica_dir.glob("*.json"):
            leftover.unlink(missing_ok=True)
        if self._session is not None:
            await self._session.close()

    # /function and /metrics -------------------------------------------------------------------

    async def _invoke(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        function = self.functions.get(name)
        call_id = request.headers.get("X-Call-Id") or str(uuid.uuid4())
        if function is None:
            return web.Response(
                status=404, text=f"function {name} not found\n", headers={"X-Call-Id": call_id}
            )
        try:
            replica, held_s = await self._ready_replica(function)
        except ApiError as exc:
            self._record(name, exc.status, 0.0)
            return web.Response(status=exc.status, text=f"{exc}\n", headers={"X-Call-Id": call_id})
        body = await request.read()
        prefix = f"/function/{name}"
        upstream = replica.url + "/" + request.raw_path[len(prefix) :].lstrip("/")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Call-Id"] = call_id
        headers["X-Forwarded-Host"] = request.host
        headers["X-Start-Time"] = str(time.time_ns())
        started = time.perf_counter()
        try:
            async with self.session.request(
                request.method,
                aiohttp.client.URL(upstream, encoded=True),
                data=body or None,
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
            return web.Response(
                status=502,
                text=f"replica {replica.instance_id} of {name} failed: {exc!r}\n",
                headers={"X-Call-Id": call_id, "X-Duration-Seconds": f"{duration:.6f}"},
            )
        duration = time.perf_counter() - started
        self._record(name, status, duration)
        response_headers["X-Call-Id"] = call_id
        response_headers["X-Duration-Seconds"] = f"{duration:.6f}"
        if held_s > 0.001:
            response_headers["X-Hold-Seconds"] = f"{held_s:.6f}"
        return web.Response(status=status, body=payload, headers=response_headers)

    def _record(self, name: str, status: int, duration: float) -> None:
        key = (name, str(status))
        self.invocations[key] += 1
        self.durations.setdefault(key, metrics.Histogram()).observe(duration)

    async def _metrics(self, request: web.Request) -> web.Response:
        samples = []
        for function in self.functions.values():
            for replica in function.replicas:
                stat = read_stat(replica.pid)
                memory = resident_bytes(replica.pid)
                if stat is None or memory is None:
                    continue
                samples.append(
                    metrics.ReplicaSample(
                        function.name, replica.instance_id, replica.pid, stat.cpu_seconds, memory
                    )
                )
        text = metrics.render(
            dict(self.invocations),
            self.durations,
            {name: len(f.replicas) for name, f in self.functions.items()},
            samples,
        )
        return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json(loads=json.loads)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None


def _has_min_label(spec: Deployment) -> bool:
    return SCALE_MIN_LABEL in (spec.labels or {})


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
    gateway.self_url = f"http://{host}:{port}"
    write_json(config.state_dir / "gateway.addr", {"host": host, "port": port})
    log.info("gateway on %s (CE limits %s)", gateway.self_url, "on" if config.ce_limits else "off")
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
