"""HAProxy in front of Kourier, run for real on loopback: `haproxy -c` accepts the rendered
configuration, each node is checked at Kourier's internal `/ready` on the probe port with Host
`internalkourier` (a node whose probe does not answer for that host is taken out), and function
traffic reaches the NodePort with the client's Host header intact."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from support.servers import free_port, running_haproxy

from components.haproxy import haproxy_settings
from components.knative_config import KOURIER_PROBE_HOST
from contract.haproxy import render_haproxy
from stacks.platform_knative import KNATIVE_FRONT

PROBE_HOST = KOURIER_PROBE_HOST


@contextlib.contextmanager
def kourier_node(address: str, port: int, probe_port: int, ready_host: str) -> Iterator[None]:
    """Kourier on one node: the external listener answers every Host with its name, the
    internal one answers `/ready` with 200 only for `ready_host` (404 otherwise)."""

    class External(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._answer(200, f"{address} {self.headers.get('Host')}")

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    class Internal(External):
        def do_GET(self) -> None:
            ok = self.path == "/ready" and self.headers.get("Host") == ready_host
            self._answer(200 if ok else 404, "ready" if ok else "no")

    servers = [
        ThreadingHTTPServer((address, port), External),
        ThreadingHTTPServer((address, probe_port), Internal),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def post(url: str, host: str) -> tuple[int, str]:
    response = httpx.post(url, content=b"{}", headers={"Host": host}, timeout=10)
    return response.status_code, response.text


def test_haproxy_accepts_the_kourier_front() -> None:
    config = render_haproxy(haproxy_settings(KNATIVE_FRONT, ["10.0.2.11", "10.0.2.12"], None))
    result = subprocess.run(
        ["haproxy", "-c", "-f", "/dev/stdin"],
        input=config,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_nodes_are_checked_at_kouriers_ready_with_its_host_and_traffic_keeps_the_host(
    tmp_path: Path,
) -> None:
    node_port, probe_port, gateway, stats = free_port(), free_port(), free_port(), free_port()
    # The stack's front, on this test's free ports instead of 31080 / 31081.
    front = dataclasses.replace(KNATIVE_FRONT, port=node_port, check_port=probe_port)
    settings = dataclasses.replace(
        haproxy_settings(front, ["127.0.0.1", "127.0.0.2"], None),
        gateway_bind=f"127.0.0.1:{gateway}",
        stats_bind=f"127.0.0.1:{stats}",
        check_interval_ms=200,
        maxconn=2000,
        log_target="stdout format raw local0",
    )
    host = "echo.knative-fn.knative.faasbench.test"
    with (
        kourier_node("127.0.0.1", node_port, probe_port, PROBE_HOST),
        # The second node's probe answers another host only: its check must fail.
        kourier_node("127.0.0.2", node_port, probe_port, "someone-else"),
        running_haproxy(render_haproxy(settings), tmp_path, f"http://127.0.0.1:{stats}/stats"),
    ):
        deadline = time.monotonic() + 20
        answers: set[str] = set()
        while time.monotonic() < deadline:
            replies = [post(f"http://127.0.0.1:{gateway}/", host) for _ in range(10)]
            assert all(status == 200 for status, _ in replies), replies
            answers = {text for _, text in replies}
            if answers == {f"127.0.0.1 {host}"}:
                break
            time.sleep(0.1)
        assert answers == {f"127.0.0.1 {host}"}
