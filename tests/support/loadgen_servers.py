"""Servers on 127.0.0.1 and helpers shared by the load generator's tests.

Kept out of conftest.py so test modules can import them by a name no other directory uses;
conftest.py turns them into fixtures.
"""

import asyncio
import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import uvloop
from httptools import HttpParserError, HttpRequestParser

from loadgen.engine import EngineOptions, RequestSpec, create_engine
from loadgen.engine.clock import now_ns
from loadgen.record import RecordFile, record_files
from loadgen.workload import ClosedLoopDriver
from support.servers import free_port

ENGINES = ("http1", "aiohttp")
META_BODY = '{"result":42,"meta":{"function":"echo","instance":"i-7","cold":true,"handler_ms":1.5}}'


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def records_on_disk(directory: Path) -> list[int]:
    """How many records each record file under `directory` holds right now (a file whose
    header is not written yet counts as none)."""
    counts = []
    for path in record_files(directory):
        try:
            with RecordFile(path) as record_file:
                counts.append(record_file.record_count)
        except ValueError:
            counts.append(0)
    return counts


def wait_for_records(directory: Path, processes: int, timeout_s: float = 60.0) -> list[int]:
    """Wait until each of `processes` workers has records on disk: the run is under way,
    however long this machine took to start it. Returns the counts seen."""
    deadline = time.monotonic() + timeout_s
    counts: list[int] = []
    while time.monotonic() < deadline:
        counts = records_on_disk(directory) if directory.is_dir() else []
        if len(counts) == processes and all(counts):
            return counts
        time.sleep(0.05)
    raise AssertionError(f"no records from {processes} processes after {timeout_s} s: {counts}")


# HAProxy


HAPROXY_CONFIG = """\
global
    maxconn 4000
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend target
    bind 127.0.0.1:{port}
    http-request return status 503 content-type text/plain string "unavailable" if {{ path /503 }}
    http-request return status 404 content-type text/plain string "missing" if {{ path /404 }}
    http-request return status 200 content-type application/json string '{meta}' {meta_headers}
    http-request return status 200 content-type text/plain string "hello"
"""


@dataclass
class Target:
    base: str

    def url(self, path: str = "/") -> str:
        return self.base + path


# Scripted asyncio server


class _Handler(asyncio.Protocol):
    def __init__(self, server: "ScriptedServer") -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser = HttpRequestParser(self)
        self.url = b""
        self.body = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.connections += 1

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        url = self.url.decode()
        self.url = b""
        method = self.parser.get_method().decode()
        self.server.requests += 1
        self.respond(method, url)

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
        assert self.transport is not None
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.transport.write(payload if head else payload + body)

    def respond(self, method: str, url: str) -> None:
        transport = self.transport
        assert transport is not None
        parts = urlsplit(url)
        path = parts.path
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        head = method == "HEAD"
        loop = asyncio.get_running_loop()
        if path == "/ok":
            self._send(200, b"ok", {}, head)
        elif path.startswith("/status/"):
            self._send(int(path.split("/")[2]), b"status", {}, head)
        elif path.startswith("/bytes/"):
            self._send(200, b"x" * int(path.split("/")[2]), {}, head)
        elif path.startswith("/chunked/"):
            chunks = [f"chunk-{i};".encode() for i in range(int(path.split("/")[2]))]
            out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            out += b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
            transport.write(out + b"0\r\n\r\n")
        elif path == "/eof":
            transport.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close")
            transport.close()
        elif path == "/close":
            self._send(200, b"bye", {"Connection": "close"}, head)
            transport.close()
        elif path.startswith("/delay/"):
            delay_s = float(path.split("/")[2]) / 1000
            loop.call_later(delay_s, self._send, 200, b"late", {}, head)
        elif path == "/stall":
            return
        elif path == "/reset":
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif path == "/garbage":
            transport.write(b"THIS IS NOT HTTP\r\n\r\n")
        elif path == "/truncated":
            transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
            transport.close()
        elif path == "/continue":
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._send(200, b"final", {}, head)
        elif path == "/echo":
            body, self.body = self.body, b""
            self._send(200, body, {"X-Method": method}, head)
        elif path == "/meta":
            self._send(200, META_BODY.encode(), {"X-Call-Id": query.get("id", "call-1")}, head)
        elif path == "/notmeta":
            self._send(200, b'{"result": "mentions \\"meta\\" only"}', {}, head)
        else:
            self._send(404, b"no such path", {}, head)


class ScriptedServer:
    """Runs in its own thread and event loop; counts connections and requests."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.port = free_port()
        self.connections = 0
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(
                lambda: _Handler(self), "127.0.0.1", self.port, ssl=self.tls, backlog=1024
            )
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def start(self) -> "ScriptedServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# Driving an engine in-process


@dataclass(frozen=True)
class Result:
    intended_ns: int
    send_ns: int
    end_ns: int
    status: int
    nbytes: int
    error: int
    new_connection: bool
    captured: Any
    meta: bytes | None


class ListSink:
    """Keeps every result; fine for the few thousand requests a test sends."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.drops: list[tuple[int, int]] = []

    def on_result(self, *fields: Any) -> None:
        self.results.append(Result(*fields))

    def on_drop(self, intended_ns: int, at_ns: int) -> None:
        self.drops.append((intended_ns, at_ns))


@dataclass
class EngineRun:
    results: list[Result]
    connections_opened: int | None


def run_closed_loop(
    engine: str,
    url: str,
    total: int,
    users: int = 1,
    options: EngineOptions | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> EngineRun:
    """Send `total` requests over `users` connections with one engine, in this process."""

    async def drive() -> EngineRun:
        sink = ListSink()
        driver = ClosedLoopDriver(sink, users, total, None, 0)
        request = RequestSpec(url=url, method=method, body=body)
        instance = create_engine(engine, request, options or EngineOptions(), driver)  # type: ignore[arg-type]
        driver.bind(instance)
        await instance.start()
        await asyncio.wait_for(driver.start(now_ns()), timeout=60)
        opened = getattr(instance, "connections_opened", None)
        await instance.aclose()
        return EngineRun(sink.results, opened)

    return uvloop.run(drive())


def parse_json_stdout(stdout: str) -> dict[str, Any]:
    """The whole of stdout must be exactly one JSON object."""
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document
