"""`loadgen doctor`: probe every endpoint a stack's outputs name, and say plainly what is wrong.

Each check is independent and bounded by a timeout, so one dead service never hides another.
Nothing secret is printed: credentials are used, never shown.
"""

from __future__ import annotations

import asyncio
import ftplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from contract.outputs import StackOutputs
from loadgen.platforms.base import PlatformError
from loadgen.platforms.k8s_events import parse_kubeconfig, tls_context

TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    ok: bool
    detail: str


def _explain(exc: Exception) -> str:
    if isinstance(exc, httpx.ConnectTimeout | httpx.ReadTimeout | TimeoutError):
        return "no answer (timed out): is it reachable from this machine?"
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return "connection refused or unreachable: is it running, and reachable from here?"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


async def _http(
    name: str,
    url: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    verify: bool | ssl.SSLContext = True,
    expect: Callable[[httpx.Response], str | None] | None = None,
) -> Check:
    """GET `url`; ok on 2xx (and `expect` returning None), else a message for the status."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, verify=verify, trust_env=False) as client:
            response = await client.get(url, auth=auth, headers=headers)
    except (httpx.HTTPError, OSError) as exc:
        return Check(name, url, False, _explain(exc))
    if response.status_code == 401:
        return Check(name, url, False, "401 unauthorized: the credentials in the outputs are wrong")
    if response.status_code == 403:
        return Check(name, url, False, "403 forbidden: the credentials lack the permission")
    if not response.is_success:
        return Check(name, url, False, f"HTTP {response.status_code}")
    problem = expect(response) if expect else None
    if problem:
        return Check(name, url, False, problem)
    return Check(name, url, True, f"HTTP {response.status_code}")


def _ftp_check(outputs: StackOutputs) -> Check:
    ftp = outputs.ftp
    assert ftp is not None
    target = f"ftp://{ftp.user}@{ftp.host}:{ftp.port}/{ftp.test_file}"
    try:
        # The benchmark's FTP server speaks plain FTP by design (the ftp function's protocol).
        with ftplib.FTP(timeout=TIMEOUT_S) as client:  # noqa: S321
            client.connect(ftp.host, ftp.port)
            client.login(ftp.user, ftp.password.get_secret_value())
            client.voidcmd("TYPE I")
            size = client.size(ftp.test_file)
    except ftplib.error_perm as exc:
        return Check("ftp", target, False, f"refused: {str(exc)[:80]}")
    except (OSError, EOFError, ftplib.Error) as exc:
        detail = _explain(exc) if isinstance(exc, OSError) else type(exc).__name__
        if ftp.host.endswith(".svc") or ftp.host.startswith(("10.", "192.168.", "172.")):
            detail += " (the server is inside the stack's network: run doctor on the loader)"
        return Check("ftp", target, False, detail)
    if size != ftp.test_file_bytes:
        return Check(
            "ftp", target, False, f"test file has {size} bytes, expected {ftp.test_file_bytes}"
        )
    return Check("ftp", target, True, f"login ok, test file {size} bytes")


async def _kubernetes_check(outputs: StackOutputs) -> Check:
    assert outputs.kubeconfig is not None
    try:
        access = parse_kubeconfig(outputs.kubeconfig.get_secret_value())
        tls = tls_context(access)
    except (PlatformError, ssl.SSLError):
        return Check("kubernetes", "kubeconfig", False, "the kubeconfig cannot be read")
    headers = {"Authorization": f"Bearer {access.token}"} if access.token else {}
    return await _http("kubernetes", f"{access.server}/version", headers=headers, verify=tls)


def _prometheus_answers(response: httpx.Response) -> str | None:
    try:
        status = response.json().get("status")
    except ValueError:
        return "not a Prometheus API answer"
    return None if status == "success" else f"query status {status}"


def checks(outputs: StackOutputs) -> list[Awaitable[Check]]:
    """The probes this stack's outputs call for."""
    probes: list[Awaitable[Check]] = []
    if outputs.openfaas is not None:
        openfaas = outputs.openfaas
        probes.append(_http("gateway", f"{openfaas.url.rstrip('/')}/healthz"))
        probes.append(
            _http(
                "gateway auth",
                f"{openfaas.url.rstrip('/')}/system/functions",
                auth=(openfaas.username, openfaas.password.get_secret_value()),
            )
        )
    if outputs.openwhisk is not None:
        openwhisk = outputs.openwhisk
        base = f"{openwhisk.api_host.rstrip('/')}/api/v1"
        verify = not openwhisk.insecure_tls
        uuid, _, key = openwhisk.auth.get_secret_value().partition(":")
        probes.append(_http("openwhisk api", base, verify=verify))
        probes.append(
            _http(
                "openwhisk auth",
                f"{base}/namespaces/_/actions?limit=1",
                auth=(uuid, key),
                verify=verify,
            )
        )
    if outputs.prometheus is not None:
        url = outputs.prometheus.url.rstrip("/")
        probes.append(
            _http("prometheus", f"{url}/api/v1/query?query=up", expect=_prometheus_answers)
        )
    if outputs.grafana_url is not None:
        probes.append(_http("grafana", f"{outputs.grafana_url.rstrip('/')}/api/health"))
    if outputs.nomad is not None:
        probes.append(
            _http(
                "nomad",
                f"{outputs.nomad.address.rstrip('/')}/v1/status/leader",
                headers={"X-Nomad-Token": outputs.nomad.token.get_secret_value()},
            )
        )
    if outputs.kubeconfig is not None:
        probes.append(_kubernetes_check(outputs))
    if outputs.ftp is not None:
        probes.append(asyncio.to_thread(_ftp_check, outputs))
    return probes


async def run_checks(outputs: StackOutputs) -> list[Check]:
    return list(await asyncio.gather(*checks(outputs)))
