"""Small real servers on 127.0.0.1 for tests: HTTP(S) backends and a running HAProxy."""

from __future__ import annotations

import contextlib
import datetime
import http.server
import ipaddress
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Ports tests hand to servers they start come from a block of their own per test worker
#: (pytest-xdist's PYTEST_XDIST_WORKER: gw0, gw1, ...), below Linux's ephemeral range
#: (32768-60999) that `bind(("127.0.0.1", 0))` and outgoing connections draw from. A port handed
#: out is never handed out again in this process, so a port freed by one test and not yet bound
#: by its server cannot be given to another test, in this worker or in another one.
PORT_BLOCK_START = 16000
PORT_BLOCK_SIZE = 1500
MAX_WORKERS = 8


def _port_block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw")) if worker.removeprefix("gw").isdigit() else 0
    if index >= MAX_WORKERS:
        raise RuntimeError(f"test worker {worker}: at most {MAX_WORKERS} workers have ports")
    start = PORT_BLOCK_START + index * PORT_BLOCK_SIZE
    return range(start, start + PORT_BLOCK_SIZE)


_next_port = iter(_port_block())


def free_port() -> int:
    """A port nothing listens on right now, never handed out before by this test worker."""
    for port in _next_port:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("this test worker has used every port of its block")


def free_port_range(count: int) -> tuple[int, int]:
    """`count` consecutive ports nothing listens on right now (first, last)."""
    for _ in range(50):
        ports = [free_port() for _ in range(count)]
        if ports == list(range(ports[0], ports[0] + count)):
            return ports[0], ports[-1]
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


class Backend:
    """An HTTP server answering `name` on every path (and 200 on its health path), optionally
    after `delay_s`, optionally over TLS. `stop()` closes it like a crashed process would."""

    def __init__(self, name: str, *, delay_s: float = 0.0, tls: ssl.SSLContext | None = None):
        self.name = name
        self.requests = 0
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if not self.path.startswith(("/healthz", "/_/health", "/api/v1")):
                    backend.requests += 1
                    time.sleep(delay_s)
                body = f"{name} {self.path}\n".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (files in
    `directory`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "faasbench-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


def get(url: str, timeout: float = 10.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@contextlib.contextmanager
def running_haproxy(config: str, tmp: Path, ready_url: str) -> Iterator[subprocess.Popen[str]]:
    """HAProxy in the foreground on `config`, stopped afterwards."""
    path = tmp / "haproxy.cfg"
    path.write_text(config)
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                get(ready_url, timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    raise AssertionError(f"haproxy did not start: {output}") from None
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
