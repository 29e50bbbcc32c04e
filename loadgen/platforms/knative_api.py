"""The few Kubernetes API calls the Knative adapter makes, over plain HTTP with the stack's
kubeconfig (no client library): read, create, replace and delete an object by its path, list
objects by label. Errors come back as `PlatformError`s naming the function and the action,
never the credentials."""

from __future__ import annotations

from typing import Any

import httpx

from ._http import call
from .k8s_events import KubeAccess
from .kube_api import kube_client


class KnativeApi:
    """One API server's client, made on first use."""

    def __init__(self, access: KubeAccess, platform: str, *, timeout_s: float = 30.0) -> None:
        self._access = access
        self._platform = platform
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"KnativeApi(server={self._access.server!r})"

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = kube_client(self._access, self._platform, self._timeout_s)
        return self._client

    async def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        function: str,
        accept: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        return await call(
            self._http(),
            method,
            path,
            platform=self._platform,
            action=action,
            function=function,
            secrets=[self._access.token] if self._access.token else [],
            accept=accept,
            **kwargs,
        )

    async def get(self, path: str, *, action: str, function: str) -> dict[str, Any] | None:
        """The object at `path`, None where there is none."""
        response = await self.request("GET", path, action=action, function=function, accept=(404,))
        return None if response.status_code == 404 else response.json()

    async def apply(
        self, collection: str, name: str, body: dict[str, Any], *, action: str, function: str
    ) -> None:
        """Create the object, or replace the one of that name (keeping its resourceVersion)."""
        created = await self.request(
            "POST", collection, action=action, function=function, accept=(409,), json=body
        )
        if created.status_code != 409:
            return
        current = await self.get(f"{collection}/{name}", action=action, function=function)
        if current is None:  # deleted in between: create it after all
            await self.request("POST", collection, action=action, function=function, json=body)
            return
        replacement = {
            **body,
            "metadata": {
                **body["metadata"],
                "resourceVersion": current["metadata"]["resourceVersion"],
            },
        }
        await self.request(
            "PUT", f"{collection}/{name}", action=action, function=function, json=replacement
        )

    async def delete(self, path: str, *, action: str, function: str, **kwargs: Any) -> bool:
        """Delete the object; False where it was already gone."""
        response = await self.request(
            "DELETE", path, action=action, function=function, accept=(404,), **kwargs
        )
        return response.status_code != 404

    async def items(
        self, collection: str, *, action: str, function: str, **params: str
    ) -> list[dict[str, Any]]:
        response = await self.request(
            "GET", collection, action=action, function=function, params=params
        )
        return list(response.json().get("items") or [])

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
