"""A small Kubernetes API with Knative Serving's behaviour, and Kourier's front, on 127.0.0.1.

It implements what the Knative adapter uses: Services (`serving.knative.dev/v1`: create,
read, replace with a resourceVersion, delete), each change a new revision with its own pods;
pods listed by label and deleted (the revision's ReplicaSet starts a replacement at once);
their events; the revision's ServerlessService (`Proxy` while no pod is ready or the Service
asks for the activator always, else `Serve`); an autoscaler that takes an idle revision whose
min-scale is 0 to zero after the grace period. The front routes by Host header like Kourier:
a request for a revision at zero starts a pod (a cold start) and waits for it; answers carry
the suite's `meta` envelope (`cold` on a pod's first invocation). Every Service
body is checked against the release's Service CRD (`knative_crds`; where the pinned CRD cannot
be had, nothing is checked and the schema tests of tests/components/test_knative.py skip);
`violations` collects what does not fit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from support.k8s_objects import CrdValidators, problems

SERVICES = "/apis/serving.knative.dev/v1/namespaces/{ns}/services"
SKS = "/apis/networking.internal.knative.dev/v1alpha1/namespaces/{ns}/serverlessservices/{rev}"
_A = "autoscaling.knative.dev/"


def _stamp(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Pod:
    name: str
    service: str
    revision: str
    created: float
    ready_at: float
    uid: str = field(default_factory=lambda: uuid.uuid4().hex)
    served: bool = False

    def document(self) -> dict[str, Any]:
        ready = time.time() >= self.ready_at
        conditions = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": _stamp(self.created)}
        ]
        if ready:
            conditions.append(
                {"type": "Ready", "status": "True", "lastTransitionTime": _stamp(self.ready_at)}
            )
        return {
            "metadata": {
                "name": self.name,
                "uid": self.uid,
                "creationTimestamp": _stamp(self.created),
                "labels": {
                    "serving.knative.dev/service": self.service,
                    "serving.knative.dev/revision": self.revision,
                },
            },
            "status": {"conditions": conditions},
        }


@dataclass
class Revision:
    name: str
    annotations: dict[str, str]
    last_request: float = field(default_factory=time.time)

    def number(self, key: str, default: float) -> float:
        return float(self.annotations.get(_A + key, default))


class FakeKnative:
    """State and handlers; `api_url` is the API server, `front_url` Kourier's front."""

    def __init__(
        self,
        crds: CrdValidators,
        token: str,
        *,
        namespace: str,
        domain: str,
        pod_start_s: float = 0.2,
        grace_s: float = 0.5,
    ) -> None:
        self.crds = crds
        self.token = token
        self.namespace = namespace
        self.domain = domain
        self.pod_start_s = pod_start_s
        self.grace_s = grace_s
        self.services: dict[str, dict[str, Any]] = {}
        self.revisions: dict[str, Revision] = {}
        self.pods: dict[str, Pod] = {}
        self.violations: list[str] = []
        self.deleted_pods: list[str] = []
        self.invocations: list[tuple[str, str]] = []
        self._names = itertools.count(1)
        self.api_url = ""
        self.front_url = ""

    # --- the API server -------------------------------------------------------------------
    def api(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        services = SERVICES.format(ns=self.namespace)
        app.router.add_post(services, self.create_service)
        app.router.add_get(services + "/{name}", self.get_service)
        app.router.add_put(services + "/{name}", self.replace_service)
        app.router.add_delete(services + "/{name}", self.delete_service)
        app.router.add_get(f"/api/v1/namespaces/{self.namespace}/pods", self.list_pods)
        app.router.add_delete(f"/api/v1/namespaces/{self.namespace}/pods/{{name}}", self.delete_pod)
        app.router.add_get(f"/api/v1/namespaces/{self.namespace}/events", self.list_events)
        app.router.add_get(SKS.format(ns=self.namespace, rev="{rev}"), self.get_sks)
        return app

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized")
        return await handler(request)

    def _check(self, body: dict[str, Any]) -> None:
        if self.crds is not None:  # None: the pinned CRD could not be had (see knative_crds)
            self.violations += problems([body], self.crds)

    def _new_revision(self, service: dict[str, Any]) -> None:
        name = service["metadata"]["name"]
        generation = service["metadata"]["generation"]
        revision = f"{name}-{generation:05d}"
        annotations = service["spec"]["template"]["metadata"].get("annotations", {})
        for old in [p for p in self.pods.values() if p.service == name]:
            del self.pods[old.name]
        self.revisions[revision] = Revision(revision, dict(annotations))
        for _ in range(max(1, int(self.revisions[revision].number("min-scale", 0)))):
            self._start_pod(name, revision)
        service["status"] = {
            "observedGeneration": generation,
            "latestReadyRevisionName": revision,
            "conditions": [{"type": "Ready", "status": "True"}],
        }

    def _start_pod(self, service: str, revision: str) -> Pod:
        now = time.time()
        pod = Pod(
            f"{revision}-deployment-{next(self._names)}",
            service,
            revision,
            now,
            now + self.pod_start_s,
        )
        self.pods[pod.name] = pod
        return pod

    async def create_service(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._check(body)
        name = body["metadata"]["name"]
        if name in self.services:
            return _status(409, f'services.serving.knative.dev "{name}" already exists')
        body["metadata"].update(generation=1, resourceVersion="1")
        self.services[name] = body
        self._new_revision(body)
        return web.json_response(body, status=201)

    async def get_service(self, request: web.Request) -> web.Response:
        found = self.services.get(request.match_info["name"])
        return web.json_response(found) if found else _status(404, "not found")

    async def replace_service(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._check(
            {
                **body,
                "metadata": {k: v for k, v in body["metadata"].items() if k != "resourceVersion"},
            }
        )
        current = self.services.get(request.match_info["name"])
        if current is None:
            return _status(404, "not found")
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            return _status(409, "the object has been modified")
        generation = current["metadata"]["generation"] + 1
        body["metadata"].update(generation=generation, resourceVersion=str(generation))
        self.services[body["metadata"]["name"]] = body
        self._new_revision(body)
        return web.json_response(body)

    async def delete_service(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self.services.pop(name, None) is None:
            return _status(404, "not found")
        for pod in [p for p in self.pods.values() if p.service == name]:
            del self.pods[pod.name]
        return web.json_response({"status": "Success"})

    async def list_pods(self, request: web.Request) -> web.Response:
        key, _, value = request.query.get("labelSelector", "").partition("=")
        items = [p.document() for p in self.pods.values()]
        items = [i for i in items if i["metadata"]["labels"].get(key) == value]
        return web.json_response({"items": items})

    async def delete_pod(self, request: web.Request) -> web.Response:
        pod = self.pods.pop(request.match_info["name"], None)
        if pod is None:
            return _status(404, "not found")
        self.deleted_pods.append(pod.name)
        if pod.revision in self.revisions:  # the ReplicaSet replaces it at once
            self._start_pod(pod.service, pod.revision)
        return web.json_response({"status": "Success"})

    async def list_events(self, request: web.Request) -> web.Response:
        name = request.query.get("fieldSelector", "").removeprefix("involvedObject.name=")
        pod = self.pods.get(name)
        if pod is None:
            return web.json_response({"items": []})
        events = [
            ("Scheduled", pod.created),
            ("Pulled", pod.created + 0.05),
            ("Started", pod.ready_at),
        ]
        return web.json_response(
            {
                "items": [
                    {
                        "reason": reason,
                        "firstTimestamp": _stamp(moment),
                        "involvedObject": {"name": pod.name, "uid": pod.uid},
                    }
                    for reason, moment in events
                ]
            }
        )

    def ready_pods(self, revision: str) -> list[Pod]:
        now = time.time()
        return [p for p in self.pods.values() if p.revision == revision and p.ready_at <= now]

    async def get_sks(self, request: web.Request) -> web.Response:
        revision = self.revisions.get(request.match_info["rev"])
        if revision is None:
            return _status(404, "not found")
        always = revision.number("target-burst-capacity", 200) == -1
        proxy = always or not self.ready_pods(revision.name)
        return web.json_response({"spec": {"mode": "Proxy" if proxy else "Serve"}})

    # --- the autoscaler and Kourier's front ----------------------------------------------
    async def autoscale(self) -> None:
        while True:
            now = time.time()
            for revision in self.revisions.values():
                idle = now - revision.last_request > self.grace_s
                if idle and revision.number("min-scale", 0) == 0:
                    for pod in [p for p in self.pods.values() if p.revision == revision.name]:
                        del self.pods[pod.name]
            await asyncio.sleep(0.05)

    def front(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.route)
        return app

    async def route(self, request: web.Request) -> web.Response:
        name, _, rest = request.headers.get("Host", "").partition(".")
        service = self.services.get(name)
        if service is None or rest != f"{self.namespace}.{self.domain}":
            return web.Response(status=404, text="no such host")
        revision = self.revisions[service["status"]["latestReadyRevisionName"]]
        revision.last_request = time.time()
        if not [p for p in self.pods.values() if p.revision == revision.name]:
            self._start_pod(name, revision.name)  # the activator wakes the revision
        while not self.ready_pods(revision.name):
            await asyncio.sleep(0.02)
        pod = self.ready_pods(revision.name)[0]
        self.invocations.append((name, request.path))
        if request.path == "/_/health":  # a probe never runs the handler
            return web.Response(text="ok")
        cold, pod.served = not pod.served, True
        meta = {"function": name, "instance": pod.name, "cold": cold}
        return web.json_response({"result": await request.json(), "meta": meta})


def knative_crds() -> CrdValidators | None:
    """Validators of the pinned Service CRD, None where it cannot be had."""
    import yaml

    from support.specs import KNATIVE_SERVICE_CRD, SpecMissing, file_path

    try:
        return CrdValidators([yaml.safe_load(file_path(KNATIVE_SERVICE_CRD).read_text())])
    except SpecMissing:
        return None


def _status(code: int, message: str) -> web.Response:
    return web.json_response({"kind": "Status", "code": code, "message": message}, status=code)


@contextlib.contextmanager
def running_knative(
    crds: CrdValidators | None, token: str, **options: Any
) -> Iterator[FakeKnative]:
    """The fake API server and front on ephemeral 127.0.0.1 ports, in a thread of their own."""
    loop = asyncio.new_event_loop()
    fake = FakeKnative(crds, token, **options)
    runners = [web.AppRunner(fake.api()), web.AppRunner(fake.front())]

    async def start() -> asyncio.Task[None]:
        urls = []
        for runner in runners:
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        fake.api_url, fake.front_url = urls
        return asyncio.create_task(fake.autoscale())

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    autoscaler = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(autoscaler.cancel)
        for runner in runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
