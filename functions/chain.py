"""`chain`: calls another function of the suite through the gateway and returns its response,
to measure the cost of a function-to-function hop.

`depth` 1 (the default) calls `matrix`; a larger depth calls `chain` with `depth - 1`, so depth d
makes d hops. The gateway comes from the `gateway` parameter or `GATEWAY_URL`; the callee is
`{gateway}/function/{name}` (the OpenFaaS gateway's path). `n` and `seed` are passed on to
`matrix`. Proxy variables are ignored: the gateway is always reached directly.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from ._params import FunctionError, ParamError, float_param, int_param, required, str_param

MAX_DEPTH = 10
#: Keys passed on to the callee as they are, when present.
FORWARDED = ("n", "seed")
#: How much of a failing callee's body goes into the error message.
_ERROR_EXCERPT = 500

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def callee_url(gateway: str, name: str) -> str:
    """`{gateway}/function/{name}`, whatever trailing slash the gateway URL has."""
    return f"{gateway.rstrip('/')}/function/{name}"


def _call(url: str, payload: Mapping[str, Any], timeout_s: float) -> tuple[int, Any]:
    """POST `payload` as JSON; (status, parsed body) of a 2xx answer, else `FunctionError`."""
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked to be http or https)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            excerpt = exc.read()[:_ERROR_EXCERPT].decode("utf-8", "replace")
        raise FunctionError(f"chain: {url} answered {exc.code}: {excerpt}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise FunctionError(f"chain: calling {url} failed: {exc}") from None
    try:
        return status, json.loads(body)
    except ValueError:
        raise FunctionError(
            f"chain: {url} answered {status} with a body that is not JSON"
        ) from None


def main(params: Mapping[str, Any]) -> dict[str, Any]:
    depth = int_param(params, "depth", 1, 1, MAX_DEPTH)
    gateway = required(str_param(params, "gateway", "GATEWAY_URL"), "gateway", "GATEWAY_URL")
    if not gateway.startswith(("http://", "https://")):
        raise ParamError(f"gateway must be an http:// or https:// URL, got {gateway!r}")
    timeout_s = float_param(params, "timeout_s", 60.0, 0.1, 300.0)
    payload: dict[str, Any] = {k: params[k] for k in FORWARDED if params.get(k) is not None}
    if depth == 1:
        callee = "matrix"
    else:
        callee = "chain"
        payload.update({"depth": depth - 1, "gateway": gateway, "timeout_s": timeout_s})
    url = callee_url(gateway, callee)
    start = time.perf_counter_ns()
    status, response = _call(url, payload, timeout_s)
    return {
        "depth": depth,
        "callee": callee,
        "url": url,
        "status": status,
        "call_ms": round((time.perf_counter_ns() - start) / 1e6, 3),
        "response": response,
    }
