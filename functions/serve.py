"""The suite's HTTP server: one function per process, as OpenFaaS runs it (of-watchdog HTTP mode,
or the image's own server) and as the local target runs it on loopback.

    FUNCTION=matrix PORT=8080 python -m functions.serve

A long-lived HTTP/1.1 server with keep-alive and a thread per connection (stdlib
`ThreadingHTTPServer`), so concurrent requests run concurrently, as behind a real gateway, and a
blocking handler (`sleep`, `ftp`, `chain`) never holds up the others. GET, POST, PUT, PATCH or
DELETE on any path outside `/_/` runs the handler: the JSON object in the body (empty body: `{}`)
over the query parameters. `/_/health` and `/_/ready` answer without running it, so probes never
take the instance's cold flag. Responses are JSON with Content-Length, written in one send; an
`X-Call-Id` request header is echoed back. No per-request logging.

Measured on `echo` with `wrk -t1 -c8 -d3s` (keep-alive, GET and small JSON POSTs) on a shared
2-core machine: 9,000 to 15,000 requests/s, median latency 0.5 to 1 ms; with 64 connections,
about 9,000 requests/s. The GIL caps it near one core whatever the connection count.

SIGTERM or SIGINT stops accepting connections, lets requests in flight finish (up to
`SHUTDOWN_GRACE_S`, default 30 s), and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any
from urllib.parse import parse_qs

from ._registry import FUNCTION_NAMES, Handler, UnknownFunction, load
from ._runtime import instance_id, invoke

#: Request bodies above this are refused (413); the suite's functions take small parameters.
MAX_BODY = 16 * 1024 * 1024
#: Idle keep-alive connections are closed after this, longer than the proxies' own idle timeouts
#: (HAProxy 75 s, Go's transport 90 s) so that the proxy, not the server, closes them.
IDLE_TIMEOUT_S = 120.0
PROBE_PATHS = ("/_/health", "/_/ready")


class BadRequest(Exception):
    """A request the server refuses before any handler runs (malformed body, too large)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class _DateHeader:
    """The HTTP Date value, formatted at most once a second."""

    def __init__(self) -> None:
        self.second = 0
        self.value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self.second:
            self.second, self.value = now, formatdate(now, usegmt=True)
        return self.value


class FunctionServer(ThreadingHTTPServer):
    """Serves one function; counts requests in flight so shutdown can wait for them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], name: str, handler: Handler) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.function = name
        self.handler = handler
        self.draining = False
        self.date = _DateHeader()
        self._in_flight = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def tracking(self) -> Iterator[None]:
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.notify_all()

    def drain(self, grace_s: float) -> bool:
        """Wait until no request is in flight; False if `grace_s` ran out first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=grace_s)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that disconnects mid-request is normal under load: no traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def request_params(query: str, body: bytes) -> Any:
    """The JSON body over the query parameters (a repeated query key gives a list)."""
    params: dict[str, Any] = {
        key: values[0] if len(values) == 1 else values
        for key, values in parse_qs(query, keep_blank_values=True).items()
    }
    if not body.strip():
        return params
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        return document  # the runtime answers 400 with meta: parameters must be an object
    params.update(document)
    return params


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faasbench-functions"
    disable_nagle_algorithm = True
    timeout = IDLE_TIMEOUT_S
    server: FunctionServer

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _dispatch(self) -> None:
        with self.server.tracking():
            path, _, query = self.path.partition("?")
            try:
                body = self._read_body()
                if path.startswith("/_/"):
                    self._probe(path)
                    return
                params = request_params(query, body)
            except BadRequest as exc:
                self._send(exc.status, {"error": str(exc)})
                return
            outcome = invoke(self.server.function, self.server.handler, params, "http")
            self._send(HTTPStatus(outcome.status), outcome.document)

    def _probe(self, path: str) -> None:
        if path not in PROBE_PATHS:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such path {path}"})
        elif path == "/_/ready" and self.server.draining:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"status": "draining"})
        else:
            document = {"status": "ok", "function": self.server.function}
            self._send(HTTPStatus.OK, {**document, "instance": instance_id()})

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            raise BadRequest(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"bodies are up to {MAX_BODY} B")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest(HTTPStatus.BAD_REQUEST, "bad chunked encoding") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    continue
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise BadRequest(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"bodies are up to {MAX_BODY} B"
                )
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, status: HTTPStatus, document: dict[str, Any]) -> None:
        try:
            body = json.dumps(document, separators=(",", ":")).encode()
        except (TypeError, ValueError, RecursionError) as exc:
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            body = json.dumps({"error": f"the result is not JSON: {exc}"}).encode()
        if self.server.draining:
            self.close_connection = True
        headers = [
            f"HTTP/1.1 {status.value} {status.phrase}",
            f"Date: {self.server.date.get()}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        call_id = self.headers.get("X-Call-Id")
        if call_id and call_id.isprintable():
            headers.append(f"X-Call-Id: {call_id}")
        if self.close_connection:
            headers.append("Connection: close")
        head = "\r\n".join(headers).encode("latin-1", "replace") + b"\r\n\r\n"
        self.wfile.write(head + body)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m functions.serve",
        description="Serve one benchmark function over HTTP/1.1 (OpenFaaS HTTP mode).",
        epilog=f"Functions: {', '.join(FUNCTION_NAMES)}. Probes: {', '.join(PROBE_PATHS)}.",
    )
    parser.add_argument(
        "--function", default=os.environ.get("FUNCTION"), help="the function (env FUNCTION)"
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 (a container serves its network)
        help="address (env HOST, 0.0.0.0)",
    )
    parser.add_argument(
        "--port", default=os.environ.get("PORT", "8080"), help="TCP port (env PORT, 8080)"
    )
    parser.add_argument(
        "--grace",
        default=os.environ.get("SHUTDOWN_GRACE_S", "30"),
        help="seconds requests in flight get at shutdown (env SHUTDOWN_GRACE_S, 30)",
    )
    return parser.parse_args(argv)


def _fail(message: str) -> int:
    print(f"functions.serve: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; 0 after a clean shutdown, 2 on bad configuration."""
    args = _parse_args(argv)
    if not args.function:
        return _fail(f"FUNCTION is not set; one of: {', '.join(FUNCTION_NAMES)}")
    try:
        handler = load(args.function)
        port = int(args.port)
        grace_s = float(args.grace)
    except UnknownFunction as exc:
        return _fail(f"FUNCTION: {exc}")
    except ValueError as exc:
        return _fail(f"bad PORT or SHUTDOWN_GRACE_S: {exc}")
    try:
        server = FunctionServer((args.host, port), args.function, handler)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{port}: {exc}")

    def stop(signum: int, frame: FrameType | None) -> None:
        if not server.draining:
            server.draining = True
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, bound_port = server.server_address[:2]
    print(
        f"functions.serve: {args.function} on {host}:{bound_port} (instance {instance_id()})",
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    if not server.drain(grace_s):
        print("functions.serve: requests still in flight after the grace period", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
