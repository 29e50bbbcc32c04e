"""Helpers for the function suite's tests: requests to `functions.serve` processes, their
environment and readiness, and the FTP server script and its parameters."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str = "POST",
    path: str = "/",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    """One request on its own connection; `body` is sent as JSON unless it is bytes."""
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


@dataclass
class ServeProcess:
    function: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def serve_env(
    function: str | None, port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FUNCTION", "PORT", "HOST")}
    env.update({"PORT": str(port), "HOST": "127.0.0.1", "PYTHONPATH": str(ROOT)})
    if function is not None:
        env["FUNCTION"] = function
    env.update(extra or {})
    return env


def wait_healthy(process: subprocess.Popen[bytes], port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"functions.serve exited with {process.returncode}: {stderr}")
        try:
            if request(port, "GET", "/_/health", timeout=1.0).status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"functions.serve did not become healthy on port {port}")


FTP_SERVER_SCRIPT = """
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

home, user, password = sys.argv[1:4]
authorizer = DummyAuthorizer()
authorizer.add_user(user, password, home, perm="elr")
FTPHandler.authorizer = authorizer
FTPHandler.banner = "faasbench test FTP server"
FTPHandler.auth_failed_timeout = 0
server = FTPServer(("127.0.0.1", 0), FTPHandler)
print(server.address[1], flush=True)
server.serve_forever(handle_exit=True)
"""


@dataclass(frozen=True)
class FtpServer:
    host: str
    port: int
    user: str
    password: str
    file: str
    content: bytes

    def params(self, **overrides: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "file": self.file,
            "expected_bytes": len(self.content),
            "expected_sha256": hashlib.sha256(self.content).hexdigest(),
        }
        params.update(overrides)
        return params
