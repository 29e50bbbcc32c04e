"""The few Kubernetes API calls the KEDA adapter makes, over HTTP with the kubeconfig's
credentials (no client library): server-side apply of an object, read, merge-patch, delete.
`kube_client` is the HTTP client every adapter that talks to the API server uses (Knative's
calls are `knative_api`).

Objects are addressed by their apiVersion and kind (`path_of`): the core group under `/api/v1`,
the others under `/apis/<group>/<version>`, always namespaced. Apply uses field manager
`faasbench` with `force=true`, so deploying the same function again replaces what faasbench set
and leaves what controllers own (KEDA's HPA, the Deployment's replicas once KEDA scales it).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from ._http import call
from .base import PlatformError
from .k8s_events import KubeAccess, tls_context

FIELD_MANAGER = "faasbench"
#: Plural resource names of the kinds the adapter handles.
PLURALS = {
    "Deployment": "deployments",
    "Service": "services",
    "ScaledObject": "scaledobjects",
    "HTTPScaledObject": "httpscaledobjects",
}


def path_of(api_version: str, kind: str, namespace: str, name: str) -> str:
    """The object's URL path on the API server."""
    if kind not in PLURALS:
        raise ValueError(f"no API path known for kind {kind}")
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{base}/namespaces/{namespace}/{PLURALS[kind]}/{name}"


def object_path(obj: Mapping[str, Any]) -> str:
    meta = obj["metadata"]
    return path_of(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])


def kube_client(access: KubeAccess, platform: str, timeout_s: float) -> httpx.AsyncClient:
    """An HTTP client for the kubeconfig's API server, with its CA and credentials; unusable
    certificates are a `PlatformError` naming `platform` (never their contents)."""
    try:
        verify = tls_context(access)
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise PlatformError(
            f"{platform}: the kubeconfig's certificates are unusable ({type(exc).__name__})"
        ) from None
    headers = {"Accept": "application/json"}
    if access.token:
        headers["Authorization"] = f"Bearer {access.token}"
    return httpx.AsyncClient(
        base_url=access.server, verify=verify, headers=headers, timeout=timeout_s
    )


class KubeApi:
    """One API server, reached with a kubeconfig's credentials; `platform` names the errors."""

    def __init__(self, access: KubeAccess, *, platform: str, timeout_s: float = 30.0) -> None:
        self._access = access
        self._platform = platform
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = kube_client(self._access, self._platform, self._timeout_s)
        return self._client

    async def _call(
        self, method: str, path: str, action: str, function: str, **kwargs: Any
    ) -> httpx.Response:
        return await call(
            self._http(),
            method,
            path,
            platform=self._platform,
            action=action,
            function=function,
            secrets=[self._access.token] if self._access.token else [],
            **kwargs,
        )

    async def apply(self, obj: Mapping[str, Any], function: str) -> dict[str, Any]:
        """Create or update `obj` (server-side apply)."""
        response = await self._call(
            "PATCH",
            object_path(obj),
            f"applying {obj['kind']}",
            function,
            params={"fieldManager": FIELD_MANAGER, "force": "true"},
            content=json.dumps(obj),
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
        document: dict[str, Any] = response.json()
        return document

    async def get(self, path: str, what: str, function: str) -> dict[str, Any] | None:
        """The object at `path`, None when there is none."""
        response = await self._call("GET", path, f"reading {what}", function, accept=(404,))
        if response.status_code == 404:
            return None
        document: dict[str, Any] = response.json()
        return document

    async def merge_patch(
        self, path: str, patch: Mapping[str, Any], what: str, function: str
    ) -> None:
        await self._call(
            "PATCH",
            path,
            f"patching {what}",
            function,
            content=json.dumps(patch),
            headers={"Content-Type": "application/merge-patch+json"},
        )

    async def delete(self, path: str, what: str, function: str) -> None:
        """Delete the object at `path` (its pods in the foreground); a missing one is fine."""
        await self._call(
            "DELETE",
            path,
            f"deleting {what}",
            function,
            accept=(404,),
            content=json.dumps({"propagationPolicy": "Foreground"}),
            headers={"Content-Type": "application/json"},
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
