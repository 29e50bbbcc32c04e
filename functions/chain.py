"""`chain`: calls another function of the suite through the gateway and returns its response,
to measure the cost of a function-to-function hop.

`depth` 1 (the default) calls `matrix`; a larger depth calls `chain` with `depth - 1`, so depth
d makes d hops. The gateway comes from the `gateway` parameter or `GATEWAY_URL`. With `api`
`openfaas` (the default) the callee is `{gateway}/function/{name}`; with `openwhisk` it is the
blocking invocation `{gateway}/api/v1/namespaces/_/actions/{name}?blocking=true&result=true`
with the subject's `auth` (`uuid:key`), and `insecure_tls` accepts the chart's self-signed
certificate; with `knative` it is `{gateway}/` with the Host header `{name}.{host_suffix}`
(Kourier routes a Knative Service by its host, `<name>.<namespace>.<domain>`). `n` and `seed`
are passed on to `matrix`. Proxy variables are ignored: the gateway is always reached directly.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from ._params import (
    FlagParam,
    FloatParam,
    FunctionError,
    IntParam,
    ParamError,
    TextParam,
    required,
)

#: Parameters the deployment may set through the environment (OpenWhisk: default parameters).
ENVIRONMENT = {
    "gateway": "GATEWAY_URL",
    "api": "CHAIN_API",
    "auth": "OPENWHISK_AUTH",
    "insecure_tls": "OPENWHISK_INSECURE_TLS",
    "host_suffix": "KNATIVE_HOST_SUFFIX",
}
APIS = ("openfaas", "openwhisk", "knative")

MAX_DEPTH = 10
DEPTH = IntParam("depth", 1, 1, MAX_DEPTH)
GATEWAY = TextParam("gateway", ENVIRONMENT["gateway"])
TIMEOUT_S = FloatParam("timeout_s", 60.0, 0.1, 300.0)
API = TextParam("api", ENVIRONMENT["api"], "openfaas", choices=APIS)
AUTH = TextParam("auth", ENVIRONMENT["auth"])
INSECURE_TLS = FlagParam("insecure_tls", ENVIRONMENT["insecure_tls"])
HOST_SUFFIX = TextParam(
    "host_suffix",
    ENVIRONMENT["host_suffix"],
    pattern=r"[a-z0-9]([a-z0-9.-]{0,200}[a-z0-9])?",
    rule="a DNS name (the Services' namespace and domain)",
)
#: Passed on to `matrix` as they are, when present: its own declarations (`functions.matrix`),
#: repeated because an OpenWhisk action carries only its own module (a test keeps them equal).
FORWARDED_PARAMS = (IntParam("n", 100, 1, 400), IntParam("seed", 0, 0, 2**63 - 1))
FORWARDED = tuple(param.name for param in FORWARDED_PARAMS)
PARAMS = (DEPTH, GATEWAY, TIMEOUT_S, API, AUTH, INSECURE_TLS, HOST_SUFFIX, *FORWARDED_PARAMS)
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
    if api == "knative":
        return f"{base}/"
    return f"{base}/function/{name}"


def _call(
    url: str,
    payload: Mapping[str, Any],
    timeout_s: float,
    auth: str | None = None,
    insecure_tls: bool = False,
    host: str | None = None,
) -> tuple[int, Any]:
    """POST `payload` as JSON; (status, parsed body) of a 2xx answer, else `FunctionError`."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if host is not None:
        headers["Host"] = host
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
    depth = DEPTH.read(params)
    gateway = required(GATEWAY.read(params), "gateway", ENVIRONMENT["gateway"])
    if not gateway.startswith(("http://", "https://")):
        raise ParamError(f"gateway must be an http:// or https:// URL, got {gateway[:60]!r}")
    timeout_s = TIMEOUT_S.read(params)
    api = API.read(params)
    auth = None
    if api == "openwhisk":
        auth = required(AUTH.read(params), "auth", ENVIRONMENT["auth"])
        if ":" not in auth:
            raise ParamError("auth must be an OpenWhisk subject's uuid:key")
    insecure = INSECURE_TLS.read(params)
    suffix = None
    if api == "knative":
        suffix = required(HOST_SUFFIX.read(params), "host_suffix", ENVIRONMENT["host_suffix"])
    payload: dict[str, Any] = {k: params[k] for k in FORWARDED if params.get(k) is not None}
    if depth == 1:
        callee = "matrix"
    else:
        callee = "chain"
        payload.update({"depth": depth - 1, "gateway": gateway, "timeout_s": timeout_s})
        payload.update({"api": api, "insecure_tls": insecure} | ({"auth": auth} if auth else {}))
        payload.update({"host_suffix": suffix} if suffix else {})
    url = callee_url(gateway, callee, api)
    host = f"{callee}.{suffix}" if suffix else None
    start = time.perf_counter_ns()
    status, response = _call(url, payload, timeout_s, auth, insecure, host)
    return {
        "depth": depth,
        "callee": callee,
        "url": url,
        "status": status,
        "call_ms": round((time.perf_counter_ns() - start) / 1e6, 3),
        "response": response,
    }
