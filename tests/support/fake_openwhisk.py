"""A small OpenWhisk controller on 127.0.0.1 that runs the suite's zip actions for real.

It implements what the adapter uses: create/update/get/delete actions, blocking invocation and
the activation list. Each action revision gets its own "container", a Python process that
loads the zip the way the python:3 runtime does and serves activations one at a time, so
cold starts (initTime) happen exactly when a revision is first invoked. Every request and every
response is checked against the Swagger spec; `violations` collects what does not conform.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from support.openwhisk_spec import SwaggerSpec

_RUNNER = r"""
import json, runpy, sys
sys.path.insert(0, sys.argv[1])
main = runpy.run_path(sys.argv[1], run_name="action")["main"]
print("ready", flush=True)
for line in sys.stdin:
    print(json.dumps(main(json.loads(line))), flush=True)
"""


class Container:
    """One action revision's process; activations run one at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lock = asyncio.Lock()

    @classmethod
    async def start(cls, zip_path: Path) -> Container:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-c",
            _RUNNER,
            str(zip_path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=zip_path.parent,
        )
        assert process.stdout is not None
        line = await process.stdout.readline()
        assert line.strip() == b"ready", line
        return cls(process)

    async def run(self, args: dict[str, Any]) -> Any:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(args).encode() + b"\n")
        await self.process.stdin.drain()
        return json.loads(await self.process.stdout.readline())

    async def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class FakeOpenWhisk:
    """State and handlers; `url` is the API host (`http://127.0.0.1:PORT`)."""

    namespace = "guest"

    def __init__(self, spec: SwaggerSpec, auth: str, workdir: Path) -> None:
        self.spec = spec
        self.auth = "Basic " + base64.b64encode(auth.encode()).decode()
        self.workdir = workdir
        self.actions: dict[str, dict[str, Any]] = {}
        self.containers: dict[tuple[str, int], Container] = {}
        self.activations: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        # method -> (status, from_proxy): a failure to answer with instead of handling the next
        # request of that method; from_proxy marks answers of the proxy in front of the
        # controller (nginx, HAProxy), which the controller's spec does not describe.
        self.fail_next: dict[str, tuple[int, bool]] = {}
        self.url = ""
        self._background: set[asyncio.Task[Any]] = set()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        base = "/api/v1/namespaces/{namespace}"
        app.router.add_put(base + "/actions/{name}", self.put_action)
        app.router.add_get(base + "/actions/{name}", self.get_action)
        app.router.add_delete(base + "/actions/{name}", self.delete_action)
        app.router.add_post(base + "/actions/{name}", self.invoke)
        app.router.add_get(base + "/activations", self.list_activations)
        app.router.add_get(base + "/activations/{activationid}", self.get_activation)
        app.router.add_route(
            "*", "/api/v1/web/{namespace}/{package}/{action}.{extension}", self.web_action
        )
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        url = str(request.rel_url)
        self.requests.append((request.method, url))
        self.violations += [
            f"request {request.method} {url}: {e}"
            for e in self.spec.request_errors(request.method, url, body)
        ]
        if request.path.startswith("/api/v1/web/"):
            response = await handler(request)  # web actions take no API key
        elif request.headers.get("Authorization") != self.auth:
            response = _error(401, "The supplied authentication is invalid.")
        elif request.method in self.fail_next:
            status, from_proxy = self.fail_next.pop(request.method)
            response = _error(status, "injected failure")
            if from_proxy:
                return response
        else:
            response = await handler(request)
        assert isinstance(response, web.Response)
        payload = response.body if isinstance(response.body, bytes) else b""
        self.violations += [
            f"response {request.method} {request.path} {response.status}: {e}"
            for e in self.spec.response_errors(
                request.method, request.path, response.status, payload
            )
        ]
        return response

    def _action_document(self, name: str) -> dict[str, Any]:
        action = self.actions[name]
        exec_ = {k: v for k, v in action["exec"].items() if k != "code"}
        return {
            "namespace": self.namespace,
            "name": name,
            "version": f"0.0.{action['revision']}",
            "publish": False,
            "exec": {**exec_, "binary": exec_["kind"] != "sequence"},
            "annotations": [*action.get("annotations", []), {"key": "exec", "value": "python:3"}],
            "parameters": action.get("parameters", []),
            "limits": {
                "timeout": 60000,
                "memory": 256,
                "logs": 10,
                "concurrency": 1,
                **action.get("limits", {}),
            },
            "updated": action["updated"],
        }

    async def put_action(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.json()
        if name in self.actions and request.query.get("overwrite") != "true":
            return _error(409, "resource already exists")
        revision = self.actions[name]["revision"] + 1 if name in self.actions else 1
        zip_path = self.workdir / f"{name}-{revision}.zip"
        if body["exec"]["kind"] != "sequence":
            zip_path.write_bytes(base64.b64decode(body["exec"]["code"]))
        self.actions[name] = {
            **body,
            "revision": revision,
            "zip": zip_path,
            "updated": int(time.time() * 1000),
        }
        return web.json_response(self._action_document(name))

    async def get_action(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.actions:
            return _error(404, "The requested resource does not exist.")
        return web.json_response(self._action_document(name))

    async def delete_action(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.actions:
            return _error(404, "The requested resource does not exist.")
        document = self._action_document(name)
        del self.actions[name]
        return web.json_response(document)

    async def invoke(self, request: web.Request) -> web.Response:
        received = time.time()
        name = request.match_info["name"]
        if name not in self.actions:
            return _error(404, "The requested resource does not exist.")
        action = self.actions[name]
        payload = await request.json() if await request.read() else {}
        if action["exec"]["kind"] == "sequence":
            return await self._invoke_sequence(request, name, action, payload)
        activation_id = uuid.uuid4().hex
        if request.query.get("blocking") != "true":
            # Non-blocking: 202 with the id now; the activation record appears once it ends.
            task = asyncio.create_task(self._activate(name, payload, received, activation_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            response = web.json_response({"activationId": activation_id}, status=202)
            response.headers["X-Openwhisk-Activation-Id"] = activation_id
            return response
        activation, result = await self._activate(name, payload, received, activation_id)
        success = activation["response"]["success"]
        document = result if request.query.get("result") == "true" else activation
        response = web.json_response(document, status=200 if success else 502)
        response.headers["X-Openwhisk-Activation-Id"] = activation_id
        return response

    async def _activate(
        self, name: str, payload: dict[str, Any], received: float, activation_id: str
    ) -> tuple[dict[str, Any], Any]:
        """Run one activation of `name` in its container; its record is listed once it ends."""
        action = self.actions[name]
        args = {kv["key"]: kv["value"] for kv in action.get("parameters", [])} | payload
        key = (name, action["revision"])
        annotations: list[dict[str, Any]] = [{"key": "path", "value": f"guest/{name}"}]
        start = time.time()
        init_ms = None
        if key not in self.containers:
            self.containers[key] = await Container.start(action["zip"])
            init_ms = int((time.time() - start) * 1000)
        container = self.containers[key]
        async with container.lock:
            ready = time.time()
            result = await container.run(args)
        end = time.time()
        annotations.append({"key": "waitTime", "value": int((start - received) * 1000)})
        if init_ms is not None:
            annotations.append({"key": "initTime", "value": init_ms})
        success = not (isinstance(result, dict) and "error" in result)
        activation = {
            "namespace": self.namespace,
            "name": name,
            "version": f"0.0.{action['revision']}",
            "publish": False,
            "subject": self.namespace,
            "activationId": activation_id,
            "start": int(start * 1000),
            "end": int(end * 1000),
            "duration": int((end - (start if init_ms is not None else ready)) * 1000),
            "response": {
                "status": "success" if success else "application error",
                "success": success,
                "result": result,
            },
            "logs": [],
            "annotations": annotations,
            "statusCode": 0 if success else 1,
        }
        self.activations.append(activation)
        return activation, result

    async def get_activation(self, request: web.Request) -> web.Response:
        wanted = request.match_info["activationid"]
        for activation in self.activations:
            if activation["activationId"] == wanted:
                return web.json_response(activation)
        return _error(404, "The requested resource does not exist.")

    async def web_action(self, request: web.Request) -> web.Response:
        """`/api/v1/web/<namespace>/default/<action>.json`: no API key; only actions annotated
        `web-export: true` answer, with their result as the body."""
        name, extension = request.match_info["action"], request.match_info["extension"]
        action = self.actions.get(name)
        exported = action is not None and any(
            a.get("key") == "web-export" and a.get("value") is True
            for a in action.get("annotations", [])
        )
        if not exported or extension != "json" or request.match_info["package"] != "default":
            return _error(404, "The requested resource does not exist.")
        assert action is not None
        body = await request.read()
        payload = json.loads(body) if body else {}
        activation, result = await self._activate(name, payload, time.time(), uuid.uuid4().hex)
        status = 200 if activation["response"]["success"] else 502
        response = web.json_response(result, status=status)
        response.headers["X-Openwhisk-Activation-Id"] = activation["activationId"]
        return response

    async def _invoke_sequence(
        self, request: web.Request, name: str, action: dict[str, Any], payload: dict[str, Any]
    ) -> web.Response:
        """A sequence as the controller runs one: each component's result is the next one's
        input; the sequence's own activation lists its components' activation ids."""
        received = time.time()
        result: Any = payload
        component_ids = []
        for component in action["exec"]["components"]:
            component_name = component.rsplit("/", 1)[-1]
            inner = self.actions[component_name]
            key = (component_name, inner["revision"])
            if key not in self.containers:
                self.containers[key] = await Container.start(inner["zip"])
            args = {kv["key"]: kv["value"] for kv in inner.get("parameters", [])} | result
            async with self.containers[key].lock:
                result = await self.containers[key].run(args)
            component_ids.append(uuid.uuid4().hex)
        end = time.time()
        activation_id = uuid.uuid4().hex
        self.activations.append(
            {
                "namespace": self.namespace,
                "name": name,
                "version": f"0.0.{action['revision']}",
                "publish": False,
                "subject": self.namespace,
                "activationId": activation_id,
                "start": int(received * 1000),
                "end": int(end * 1000),
                "duration": int((end - received) * 1000),
                "response": {"status": "success", "success": True, "result": result},
                "logs": component_ids,
                "annotations": [
                    {"key": "topmost", "value": True},
                    {"key": "kind", "value": "sequence"},
                ],
                "statusCode": 0,
            }
        )
        document = result if request.query.get("result") == "true" else self.activations[-1]
        response = web.json_response(document)
        response.headers["X-Openwhisk-Activation-Id"] = activation_id
        return response

    async def list_activations(self, request: web.Request) -> web.Response:
        q = request.query
        found = [
            a
            for a in self.activations
            if ("name" not in q or a["name"] == q["name"])
            and a["start"] >= int(q.get("since", 0))
            and a["start"] <= int(q.get("upto", 2**62))
        ]
        found.sort(key=lambda a: a["start"], reverse=True)
        skip, limit = int(q.get("skip", 0)), int(q.get("limit", 30))
        page = found[skip : skip + limit]
        if q.get("docs") != "true":
            page = [
                {k: v for k, v in a.items() if k not in {"response", "logs", "subject"}}
                for a in page
            ]
        return web.json_response(page)

    async def close(self) -> None:
        for container in self.containers.values():
            await container.stop()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message, "code": uuid.uuid4().hex[:8]}, status=status)


@contextlib.contextmanager
def running_openwhisk(spec: SwaggerSpec, auth: str) -> Iterator[FakeOpenWhisk]:
    """The fake controller on an ephemeral 127.0.0.1 port, in a thread with its own loop."""
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeOpenWhisk(spec, auth, Path(tmp))
        runner = web.AppRunner(fake.app())

        async def start() -> None:
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            fake.url = f"http://127.0.0.1:{port}"

        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
