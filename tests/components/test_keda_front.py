"""HAProxy before KEDA's interceptors, for real on 127.0.0.1: the stack's rendering of the KEDA
front (`stacks.platform_keda.INTERCEPTOR_FRONT`), a stand-in interceptor that routes by Host
header as the HTTP add-on does (404 for a host it has no route for, health on its admin port),
and the KEDA adapter's request. The Host header reaches the interceptor untouched, and HAProxy
judges the interceptors by their admin port, never by the proxy port that 404s unrouted hosts."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from support.servers import free_port, get, running_haproxy

from components.haproxy import haproxy_settings
from contract.haproxy import render_haproxy
from contract.keda import HOST_DOMAIN
from contract.outputs import StackOutputs
from loadgen.platforms import FunctionSpec, KedaPlatform
from loadgen.platforms.k8s_events import KubeAccess
from stacks.platform_keda import INTERCEPTOR_FRONT


@dataclasses.dataclass
class Interceptor:
    proxy_port: int
    admin_port: int
    ready: bool = True
    seen_hosts: list[str] = dataclasses.field(default_factory=list)


@contextmanager
def interceptor(routes: set[str]) -> Iterator[Interceptor]:
    state = Interceptor(free_port(), free_port())

    class Proxy(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            host = self.headers.get("Host", "")
            state.seen_hosts.append(host)
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            routed = host in routes
            body = f"routed {host}".encode() if routed else b"no route"
            self.send_response(200 if routed else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            return

    class Admin(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/readyz" and state.ready
            self.send_response(200 if ok else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    servers = [
        ThreadingHTTPServer(("127.0.0.1", state.proxy_port), Proxy),
        ThreadingHTTPServer(("127.0.0.1", state.admin_port), Admin),
    ]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def server_state(stats: int) -> str:
    _, page = get(f"http://127.0.0.1:{stats}/stats;csv")
    lines = page.splitlines()
    columns = lines[0].lstrip("# ").split(",")
    [row] = [line for line in lines if line.startswith("keda,worker-0,")]
    return row.split(",")[columns.index("status")]


def wait_state(stats: int, wanted: str) -> None:
    deadline = time.monotonic() + 30
    while server_state(stats) != wanted:
        assert time.monotonic() < deadline, f"never {wanted}"
        time.sleep(0.05)


def test_requests_reach_the_interceptor_with_their_host_and_health_comes_from_admin(
    tmp_path: Path,
) -> None:
    with interceptor({f"echo.{HOST_DOMAIN}"}) as stand_in:
        front = dataclasses.replace(
            INTERCEPTOR_FRONT, port=stand_in.proxy_port, check_port=stand_in.admin_port
        )
        settings = haproxy_settings(front, ["127.0.0.1"], None)
        gateway, stats = free_port(), free_port()
        settings = dataclasses.replace(
            settings,
            gateway_bind=f"127.0.0.1:{gateway}",
            stats_bind=f"127.0.0.1:{stats}",
            log_target="stdout format raw local0",
            maxconn=2000,
            check_interval_ms=100,
            rise=1,
        )
        outputs = StackOutputs.model_validate(
            {
                "cloud": "existing", "orchestrator": "k8s", "framework": "keda",
                "gateway_url": f"http://127.0.0.1:{gateway}",
                "keda": {"mode": "http", "namespace": "faasbench-fn",
                         "versions": {"keda": "2.20.2", "http_add_on": "0.15.0"}},
            }
        )  # fmt: skip
        assert outputs.keda is not None
        platform = KedaPlatform(
            outputs.keda, KubeAccess("http://127.0.0.1:9"), "img:1", gateway_url=outputs.gateway_url
        )
        config = render_haproxy(settings)
        with running_haproxy(config, tmp_path, f"http://127.0.0.1:{stats}/stats"):
            # The proxy port 404s /readyz (no route for HAProxy's host), yet the server is UP.
            wait_state(stats, "UP")
            target = platform.invoke_target(FunctionSpec(function="echo"), {"n": 1})
            response = httpx.request(
                target.method, target.url, headers=dict(target.headers), content=target.body
            )
            assert response.status_code == 200
            assert response.text == f"routed echo.{HOST_DOMAIN}"
            unrouted = platform.invoke_target(FunctionSpec(function="matrix"), {})
            missing = httpx.request(unrouted.method, unrouted.url, headers=dict(unrouted.headers))
            assert missing.status_code == 404  # the interceptor's answer, passed through
            assert stand_in.seen_hosts == [f"echo.{HOST_DOMAIN}", f"matrix.{HOST_DOMAIN}"]
            # An interceptor that says it is not ready is taken out.
            stand_in.ready = False
            wait_state(stats, "DOWN")
