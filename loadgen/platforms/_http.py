"""Control-plane HTTP shared by the adapters: one call, one clear error on failure."""

from __future__ import annotations

from typing import Any

import httpx

from .base import PlatformError, http_error, scrub


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    platform: str,
    action: str,
    function: str,
    secrets: list[str],
    accept: tuple[int, ...] = (),
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; any non-2xx status not in `accept` becomes a `PlatformError`.

    Messages carry the platform, the action, the function and the status, plus the upstream
    error text with every secret scrubbed, never the request's headers or URL credentials.
    """
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise PlatformError(
            f"{platform}: {action} of function {function!r} failed: the API did not answer in time"
        ) from exc
    except httpx.TransportError as exc:
        raise PlatformError(
            f"{platform}: {action} of function {function!r} failed: cannot reach the API "
            f"({type(exc).__name__})"
        ) from exc
    if response.is_success or response.status_code in accept:
        return response
    raise http_error(platform, action, function, response.status_code, _detail(response, secrets))


def _detail(response: httpx.Response, secrets: list[str]) -> str:
    """The upstream error text: OpenWhisk's `{"error": ...}`, else the body's start."""
    text = response.text
    try:
        document = response.json()
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("error"), str):
        text = document["error"]
    return scrub(text, secrets)
