"""The data-plane engine: HTTP/1.1 at the protocol level, on uvloop with the httptools parser.

Each connection (`loadgen.engine.http1_connection`) is an `asyncio.Protocol` that writes the
pre-encoded request and feeds the bytes it receives to llhttp. No coroutine, future or timer is
created per request: a response completes inside `data_received`, the result goes straight to
the sink, and the sink may send the next request on the same connection before the call
returns. Timeouts are enforced by a periodic sweep over the open connections instead of one
timer per request.

Opening a connection costs far more than reusing one, so the number of connections being
opened at once is capped: a burst of arrivals that finds no idle connection (a hiccup at the
target, or the start of a run) would otherwise open hundreds at once, overflow the server's
accept queue and slow the client down further. Requests beyond the cap wait for the next
connection that becomes free or opens; that wait counts as scheduling lag, not service time.
"""

import asyncio
import socket
import ssl
from collections import deque
from typing import Any

from loadgen.engine.clock import now_ns
from loadgen.engine.errors import ErrorKind
from loadgen.engine.http1_connection import FRAMING_HEADERS, FRAMING_ONLY, Http1Connection
from loadgen.engine.interface import ResultSink
from loadgen.engine.meta import extract_meta
from loadgen.engine.options import EngineOptions
from loadgen.engine.request import RequestSpec
from loadgen.engine.tls import client_context

_META_MARKER = b'"meta"'

_OK = int(ErrorKind.NONE)
_HTTP = int(ErrorKind.HTTP)
_CONNECT = int(ErrorKind.CONNECT)
_TIMEOUT = int(ErrorKind.TIMEOUT)
_RESET = int(ErrorKind.RESET)
_TLS = int(ErrorKind.TLS)


class Http1Engine:
    """Keep-alive HTTP/1.1 client; reuses idle connections and opens new ones as needed."""

    def __init__(
        self,
        request: RequestSpec,
        options: EngineOptions,
        sink: ResultSink,
    ) -> None:
        self.inflight = 0
        self.wire = request.wire
        self.is_head = request.method == "HEAD"
        self.parse_meta = options.parse_meta
        self.timeout_ns = int(options.timeout_s * 1e9)
        self.connect_timeout_ns = int(options.effective_connect_timeout_s * 1e9)
        slots: dict[bytes, int] = {name: FRAMING_ONLY for name in FRAMING_HEADERS}
        for index, name in enumerate(options.capture_headers):
            slots[name.encode("latin-1")] = index
        self.header_slots = slots
        self.connections_opened = 0
        self._request = request
        self._ok = tuple(status in options.ok_statuses for status in range(1000))
        self._sink = sink
        self._tls = client_context(options.verify_tls) if request.is_tls else None
        self._max_connecting = options.max_connecting
        self._idle: list[Http1Connection] = []
        self._conns: set[Http1Connection] = set()
        self._connecting = 0
        self._waiting: deque[int] = deque()
        self._address: tuple[int, str, int] | None = None
        self._resolve_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_every_s = min(0.1, max(0.005, options.timeout_s / 20))

    @property
    def resolve_error(self) -> str | None:
        return self._resolve_error

    @property
    def connecting(self) -> int:
        """Connections being opened right now."""
        return self._connecting

    @property
    def waiting(self) -> int:
        """Requests waiting for a connection because `max_connecting` are being opened."""
        return len(self._waiting)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        request = self._request
        try:
            infos = await loop.getaddrinfo(request.host, request.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            self._resolve_error = f"cannot resolve {request.host}: {exc}"
        else:
            family, _, _, _, sockaddr = infos[0]
            self._address = (family, str(sockaddr[0]), int(sockaddr[1]))
        self._sweeper = loop.call_later(self._sweep_every_s, self._sweep)

    async def prewarm(self, count: int) -> int:
        """Open up to `count` idle connections now, so the first requests do not pay for them."""
        if self._address is None:
            return 0
        for _ in range(min(count, self._max_connecting)):
            self._open(None, now_ns())
        deadline = now_ns() + self.connect_timeout_ns
        while self._connecting and now_ns() < deadline:
            await asyncio.sleep(0.001)
        return len(self._idle)

    def send(self, intended_ns: int) -> None:
        self.inflight += 1
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                self._dispatch(conn, intended_ns)
                return
        if self._connecting < self._max_connecting:
            self._open(intended_ns, now_ns())
        else:
            self._waiting.append(intended_ns)

    def _dispatch(self, conn: Http1Connection, intended_ns: int) -> None:
        now = now_ns()
        conn.busy = True
        conn.new = False
        conn.intended = intended_ns
        conn.send_ns = now
        conn.deadline = now + self.timeout_ns
        conn.nbytes = 0
        conn.body = None
        conn.captured = None
        conn.headers_done = False
        conn.framed = False
        transport = conn.transport
        assert transport is not None
        transport.write(self.wire)

    def _release(self, conn: Http1Connection) -> None:
        """A connection is free: serve the oldest waiting request, or keep it idle."""
        if self._waiting:
            self._dispatch(conn, self._waiting.popleft())
        else:
            self._idle.append(conn)

    def _open(self, intended_ns: int | None, now: int) -> None:
        """Open a connection, for a request or (intended_ns None) as a spare."""
        loop = self._loop
        assert loop is not None, "start() the engine before sending"
        conn = Http1Connection(self)
        conn.connecting = True
        self._connecting += 1
        if intended_ns is None:
            conn.spare = True
        else:
            conn.busy = True
            conn.intended = intended_ns
        conn.send_ns = now
        conn.deadline = now + self.connect_timeout_ns
        self._conns.add(conn)
        self.connections_opened += 1
        address = self._address
        if address is None:
            loop.call_soon(self.fail, conn, _CONNECT, now)
            return
        family, host, port = address
        tls = self._tls
        coro = loop.create_connection(
            lambda: conn,
            host,
            port,
            family=family,
            ssl=tls,
            server_hostname=self._request.host if tls is not None else None,
            ssl_handshake_timeout=self.connect_timeout_ns / 1e9 if tls is not None else None,
        )
        task = loop.create_task(coro)
        conn.connect_task = task
        task.add_done_callback(lambda done: self._connect_failed(conn, done))

    def _connect_finished(self, conn: Http1Connection) -> None:
        if not conn.connecting:
            return
        conn.connecting = False
        self._connecting -= 1
        waiting = self._waiting
        while waiting and self._connecting < self._max_connecting:
            self._open(waiting.popleft(), now_ns())

    def connected(self, conn: Http1Connection) -> None:
        """The connection is up (TLS included): send its request, or offer it as idle."""
        self._connect_finished(conn)
        if conn.busy:
            conn.deadline = conn.send_ns + self.timeout_ns
            transport = conn.transport
            assert transport is not None
            transport.write(self.wire)
        elif conn.spare and not conn.closed:
            conn.spare = False
            self._release(conn)
        else:
            conn.closed = True
            if conn.transport is not None:
                conn.transport.abort()

    def _connect_failed(self, conn: Http1Connection, task: "asyncio.Task[Any]") -> None:
        conn.connect_task = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        kind = _TLS if isinstance(exc, ssl.SSLError) else _CONNECT
        self.fail(conn, kind, now_ns())

    def complete(self, conn: Http1Connection, end: int, status: int, keep_alive: bool) -> None:
        """A whole response arrived: report it and make the connection reusable."""
        conn.busy = False
        self.inflight -= 1
        error = _OK if self._ok[status] else _HTTP
        body = conn.body
        meta = extract_meta(body) if body is not None and _META_MARKER in body else None
        intended = conn.intended
        send = conn.send_ns
        nbytes = conn.nbytes
        new = conn.new
        captured = conn.captured
        if keep_alive and not conn.closed:
            self._release(conn)
        else:
            conn.closed = True
            if conn.transport is not None:
                conn.transport.close()
        self._sink.on_result(intended, send, end, status, nbytes, error, new, captured, meta)

    def fail(self, conn: Http1Connection, kind: int, end: int) -> None:
        """A request ended without a usable response: report it and drop the connection."""
        conn.closed = True
        if conn.transport is not None:
            conn.transport.abort()
        elif conn.connect_task is not None:
            conn.connect_task.cancel()
        self._conns.discard(conn)
        self._connect_finished(conn)
        if not conn.busy:
            return
        conn.busy = False
        self.inflight -= 1
        status = conn.parser.get_status_code() if conn.headers_done else 0
        self._sink.on_result(
            conn.intended,
            conn.send_ns,
            end,
            status,
            conn.nbytes,
            kind,
            conn.new,
            conn.captured,
            None,
        )

    def lost(self, conn: Http1Connection, exc: Exception | None) -> None:
        conn.closed = True
        self._conns.discard(conn)
        if not conn.busy:
            return
        end = now_ns()
        if conn.headers_done and not conn.framed and exc is None:
            # A response without Content-Length or chunking ends when the server closes.
            self.complete(conn, end, conn.parser.get_status_code(), False)
            return
        self.fail(conn, _TLS if isinstance(exc, ssl.SSLError) else _RESET, end)

    def _sweep(self) -> None:
        now = now_ns()
        expired = [
            conn for conn in self._conns if (conn.busy or conn.connecting) and conn.deadline <= now
        ]
        for conn in expired:
            self.fail(conn, _TIMEOUT if conn.connected else _CONNECT, now)
        loop = self._loop
        assert loop is not None
        self._sweeper = loop.call_later(self._sweep_every_s, self._sweep)

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._conns):
            conn.busy = False
            conn.closed = True
            if conn.transport is not None:
                conn.transport.abort()
            elif conn.connect_task is not None:
                conn.connect_task.cancel()
        self._conns.clear()
        self._idle.clear()
        self._waiting.clear()
        self._connecting = 0
        self.inflight = 0
        await asyncio.sleep(0)
