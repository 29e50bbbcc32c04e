"""`chain`: calls another function of the suite through the gateway and returns its response,
to measure the cost of a function-to-function hop.

`depth` 1 (the default) calls `matrix`; a larger depth calls `chain` with `depth - 1`, so depth d
makes d hops. The gateway comes from the `gateway` parameter or `GATEWAY_URL`. With `api`
`openfaas` (the default) the callee is `{gateway}/function/{name}`; with `openwhisk` it is the
blocking invocation `{gateway}/api/v1/namespaces/_/actions/{name}?blocking=true&result=true`
with the subject's `auth` (`uuid:key`), and `insecure_tls` accepts the chart's self-signed
certificate. `n` and `seed` are passed on to `matrix`. Proxy variables are ignored: the gateway
is always reached directly.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from ._params import FunctionError, ParamError, float_param, int_param, required, str_param

#: Parameters the deployment may set through the environment (OpenWhisk: default parameters).
ENVIRONMENT = {
    "gateway": "GATEWAY_URL",
    "api": "CHAIN_API",
    "auth": "OPENWHISK_AUTH",
    "insecure_tls": "OPENWHISK_INSECURE_TLS",
}
APIS = ("openfaas", "openwhisk")

MAX_DEPTH = 10
#: Keys passed on to the callee as they are, when present.
FORWARDED = ("n", "seed")
#: How much of a failing callee's body goes into the error message.
_ERROR_EXCERPT = 500

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _unverified_opener() -> urllib.request.OpenerDirector:
    """For OpenWhisk's self-signed certificate only (`insecure_tls`)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )


def callee_url(gateway: str, name: str, api: str = "openfaas") -> str:
    """The callee's invocation URL on the gateway, whatever trailing slash it has."""
    base = gateway.rstrip("/")
    if api == "openwhisk":
        return f"{base}/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"
    return f"{base}/function/{name}"


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true", "yes"})


def _call(
    url: str,
    payload: Mapping[str, Any],
    timeout_s: float,
    auth: str | None = None,
    insecure_tls: bool = False,
) -> tuple[int, Any]:
    """POST `payload` as JSON; (status, parsed body) of a 2xx answer, else `FunctionError`."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked to be http or https)
        url, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    opener = _unverified_opener() if insecure_tls else _OPENER
    try:
        with opener.open(request, timeout=timeout_s) as response:
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
    api = str_param(params, "api", ENVIRONMENT["api"], "openfaas")
    if api not in APIS:
        raise ParamError(f"api must be one of {', '.join(APIS)}, got {api!r}")
    auth = None
    if api == "openwhisk":
        auth = required(str_param(params, "auth", ENVIRONMENT["auth"]), "auth", "OPENWHISK_AUTH")
        if ":" not in auth:
            raise ParamError("auth must be an OpenWhisk subject's uuid:key")
    insecure = _truthy(params.get("insecure_tls", os.environ.get(ENVIRONMENT["insecure_tls"])))
    payload: dict[str, Any] = {k: params[k] for k in FORWARDED if params.get(k) is not None}
    if depth == 1:
        callee = "matrix"
    else:
        callee = "chain"
        payload.update({"depth": depth - 1, "gateway": gateway, "timeout_s": timeout_s})
        payload.update({"api": api, "insecure_tls": insecure} | ({"auth": auth} if auth else {}))
    url = callee_url(gateway, callee, api)
    start = time.perf_counter_ns()
    status, response = _call(url, payload, timeout_s, auth, insecure)
    return {
        "depth": depth,
        "callee": callee,
        "url": url,
        "status": status,
        "call_ms": round((time.perf_counter_ns() - start) / 1e6, 3),
        "response": response,
    }
