"""A small Kubernetes API on 127.0.0.1 for the KEDA adapter: the calls it makes on Deployments,
Services, ScaledObjects and HTTPScaledObjects (server-side apply, read, merge-patch, delete),
and the pod and event lists its platform records read, behind a bearer token.

Objects live in memory. A Deployment gets a `metadata.generation` that moves with each change
of its spec, and a `status` as its controller would report it once `settle()` runs (every
wanted pod ready, or none after scaling to zero); each pod it gains is listed, labelled as its
template says, so pod-event records have something to read. Every request is logged
(`calls`), and apply requests that break the API's rules (wrong content type, no field manager,
a body whose kind, name or namespace differs from the URL) are answered 400 and kept in
`violations`.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

TOKEN = "fake-kube-token"
_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[a-z0-9.]+)/(?P<version>v[0-9a-z]+))"
    r"/namespaces/(?P<namespace>[a-z0-9-]+)/(?P<plural>[a-z]+)(?:/(?P<name>[a-z0-9-]+))?$"
)
KINDS = {
    "deployments": ("apps/v1", "Deployment"),
    "services": ("v1", "Service"),
    "scaledobjects": ("keda.sh/v1alpha1", "ScaledObject"),
    "httpscaledobjects": ("http.keda.sh/v1alpha1", "HTTPScaledObject"),
}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeKube:
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    pods: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((plural, namespace, name))

    def settle(self) -> None:
        """Every Deployment's controller catches up: pods made or removed, status reported."""
        with self.lock:
            for (plural, namespace, name), obj in self.objects.items():
                if plural != "deployments":
                    continue
                wanted = int(obj["spec"].get("replicas", 1))
                labels = obj["spec"]["template"]["metadata"]["labels"]
                mine = [p for p in self.pods if p["metadata"]["ownerName"] == name]
                for index in range(len(mine), wanted):
                    self.pods.append(
                        {
                            "metadata": {
                                "name": f"{name}-{len(self.pods)}-{index}",
                                "namespace": namespace,
                                "uid": f"uid-{len(self.pods)}",
                                "labels": dict(labels),
                                "creationTimestamp": _now(),
                                "ownerName": name,
                            },
                            "status": {"conditions": []},
                        }
                    )
                for extra in mine[wanted:]:
                    self.pods.remove(extra)
                obj["status"] = {
                    "observedGeneration": obj["metadata"]["generation"],
                    "replicas": wanted,
                    "readyReplicas": wanted,
                    "updatedReplicas": wanted,
                }

    # --- the HTTP side ---------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: Any, body: bytes) -> tuple[int, Any]:
        self.calls.append((method, url))
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"kind": "Status", "message": "Unauthorized"}
        parts = urlsplit(url)
        match = _PATH.match(parts.path)
        if match is None:
            return 404, {"kind": "Status", "message": f"no route {parts.path}"}
        plural, namespace, name = match["plural"], match["namespace"], match["name"]
        query = parse_qs(parts.query)
        if plural in ("pods", "events") and method == "GET" and name is None:
            return 200, {"items": self._list(plural, query)}
        if plural not in KINDS or name is None:
            return 404, {"kind": "Status", "message": f"no {plural} here"}
        api_version, kind = KINDS[plural]
        if (match["core"] or f"{match['group']}/{match['version']}") != api_version:
            return 404, {"kind": "Status", "message": f"{api_version} serves {plural}"}
        key = (plural, namespace, name)
        with self.lock:
            if method == "GET":
                found = self.objects.get(key)
                return (200, found) if found else (404, {"kind": "Status", "reason": "NotFound"})
            if method == "DELETE":
                if self.objects.pop(key, None) is None:
                    return 404, {"kind": "Status", "reason": "NotFound"}
                self.pods = [p for p in self.pods if p["metadata"]["ownerName"] != name]
                return 200, {"kind": "Status", "status": "Success"}
            if method == "PATCH":
                return self._patch(key, api_version, kind, headers, query, body)
        return 405, {"kind": "Status", "message": method}

    def _list(self, plural: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        if plural == "events":
            return []
        selector = query.get("labelSelector", [""])[0]
        label, _, value = selector.partition("=")
        return [p for p in self.pods if p["metadata"]["labels"].get(label) == value]

    def _patch(
        self,
        key: tuple[str, str, str],
        api_version: str,
        kind: str,
        headers: Any,
        query: dict[str, list[str]],
        body: bytes,
    ) -> tuple[int, Any]:
        content_type = headers.get("Content-Type", "")
        current = self.objects.get(key)
        if content_type == "application/merge-patch+json":
            if current is None:
                return 404, {"kind": "Status", "reason": "NotFound"}
            changed = copy.deepcopy(current)
            _merge(changed, json.loads(body))
            self._store(key, changed, current)
            return 200, changed
        if content_type != "application/apply-patch+yaml":
            self.violations.append(f"PATCH with content type {content_type!r}")
            return 415, {"kind": "Status", "message": "unsupported patch"}
        if query.get("fieldManager") != ["faasbench"]:
            self.violations.append("apply without fieldManager")
            return 400, {"kind": "Status", "message": "fieldManager is required for apply"}
        obj = yaml.safe_load(body)
        meta = obj.get("metadata", {})
        if (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name")) != (
            api_version,
            kind,
            key[1],
            key[2],
        ):
            self.violations.append(f"apply body does not match {key}")
            return 400, {"kind": "Status", "message": "the body does not match the URL"}
        self._store(key, obj, current)
        return 200, obj

    def _store(
        self, key: tuple[str, str, str], obj: dict[str, Any], current: dict[str, Any] | None
    ) -> None:
        generation = (current or {}).get("metadata", {}).get("generation", 0)
        if current is None or current.get("spec") != obj.get("spec"):
            generation += 1
        obj.setdefault("metadata", {})["generation"] = generation
        if current is not None and "status" in current:
            obj["status"] = current["status"]
        self.objects[key] = obj


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        elif v is None:
            target.pop(k, None)
        else:
            target[k] = v


@contextmanager
def fake_kube() -> Iterator[tuple[FakeKube, str]]:
    """The fake and its base URL (http://127.0.0.1:PORT)."""
    state = FakeKube()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, document = state.handle(
                self.command, self.path, self.headers, self.rfile.read(length)
            )
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def kubeconfig(server: str, token: str = TOKEN) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "lab", "cluster": {"server": server}}],
            "users": [{"name": "lab", "user": {"token": token}}],
            "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "lab"}}],
            "current-context": "lab",
        }
    )
