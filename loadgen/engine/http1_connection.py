"""One keep-alive connection of the `http1` engine (`loadgen.engine.http1`): an
`asyncio.Protocol` that feeds the bytes it receives to llhttp (httptools) and hands each
response, failure or loss to its engine, which owns the pool of connections, the timeouts and
the results.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from httptools import HttpParserError, HttpResponseParser

from loadgen.engine.clock import now_ns
from loadgen.engine.errors import ErrorKind
from loadgen.engine.interface import Captured
from loadgen.engine.meta import MAX_META_BODY

if TYPE_CHECKING:
    from loadgen.engine.http1 import Http1Engine

#: A header slot that only says the response is framed (Content-Length or chunked), not one
#: the caller captures.
FRAMING_ONLY = -1
FRAMING_HEADERS = (b"content-length", b"transfer-encoding")

_PROTOCOL = int(ErrorKind.PROTOCOL)


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection carrying at most one request at a time."""

    __slots__ = (
        "body",
        "busy",
        "captured",
        "closed",
        "connect_task",
        "connected",
        "connecting",
        "deadline",
        "engine",
        "framed",
        "headers_done",
        "intended",
        "keep_body",
        "nbytes",
        "new",
        "parser",
        "received_ns",
        "send_ns",
        "spare",
        "transport",
    )

    def __init__(self, engine: Http1Engine) -> None:
        self.engine = engine
        self.transport: asyncio.Transport | None = None
        self.connect_task: asyncio.Task[Any] | None = None
        self.parser = HttpResponseParser(self)
        self.keep_body = engine.parse_meta
        self.busy = False
        self.closed = False
        self.connected = False
        self.connecting = False
        self.spare = False
        self.new = True
        self.intended = 0
        self.send_ns = 0
        self.received_ns = 0
        self.deadline = 0
        self.nbytes = 0
        self.body: bytes | None = None
        self.captured: Captured = None
        self.headers_done = False
        self.framed = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        self.connected = True
        self.engine.connected(self)

    def data_received(self, data: bytes) -> None:
        # A response ends when its last bytes arrive, not when parsing them is done.
        self.received_ns = now_ns()
        try:
            self.parser.feed_data(data)
        except HttpParserError:
            self.engine.fail(self, _PROTOCOL, self.received_ns)

    def connection_lost(self, exc: Exception | None) -> None:
        self.engine.lost(self, exc)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        slot = self.engine.header_slots.get(lowered)
        if slot is None:
            return
        if slot == FRAMING_ONLY:
            self.framed = True
            return
        if lowered in FRAMING_HEADERS:
            self.framed = True
        if self.captured is None:
            self.captured = [(slot, value)]
        else:
            self.captured.append((slot, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        engine = self.engine
        if engine.is_head:
            status = self.parser.get_status_code()
            if status < 200:
                return
            keep_alive = self.parser.should_keep_alive()
            # The parser expects a body the server will not send after a HEAD: start afresh.
            self.parser = HttpResponseParser(self)
            engine.complete(self, self.received_ns, status, keep_alive)

    def on_body(self, body: bytes) -> None:
        self.nbytes += len(body)
        if self.keep_body:
            kept = self.body
            if kept is None:
                self.body = body
            elif len(kept) <= MAX_META_BODY:
                self.body = kept + body

    def on_message_complete(self) -> None:
        end = self.received_ns
        engine = self.engine
        if engine.is_head:
            return
        parser = self.parser
        status = parser.get_status_code()
        if status < 200 and status != 101:
            self.nbytes = 0
            self.body = None
            self.captured = None
            self.headers_done = False
            self.framed = False
            return
        engine.complete(self, end, status, parser.should_keep_alive())
