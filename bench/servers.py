"""Targets for the benchmarks that HAProxy cannot play.

python bench/servers.py stall --port P [--stall-after S] [--stall-for S]
    answers at once, except that for `--stall-for` seconds, starting `--stall-after`
    seconds after its first request, it holds every response and then releases them all;
python bench/servers.py sleep --port P [--delay-ms MS]
    answers every request after sleeping a fixed time (one thread per connection,
    `time.sleep`, which is precise to tens of microseconds; an event-loop timer would add
    up to a millisecond of jitter).
"""

import argparse
import asyncio
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

import uvloop
from httptools import HttpParserError, HttpRequestParser

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class StallWindow:
    """The one window, fixed by the first request's arrival, during which nothing is answered."""

    def __init__(self, after_s: float, length_s: float) -> None:
        self.after_ns = int(after_s * 1e9)
        self.length_ns = int(length_s * 1e9)
        self.start_ns: int | None = None
        self.held: list[asyncio.Transport] = []
        self.release_scheduled = False

    def handle(self, transport: asyncio.Transport) -> None:
        now = time.monotonic_ns()
        if self.start_ns is None:
            self.start_ns = now + self.after_ns
        end_ns = self.start_ns + self.length_ns
        if self.start_ns <= now < end_ns:
            self.held.append(transport)
            if not self.release_scheduled:
                self.release_scheduled = True
                asyncio.get_running_loop().call_later((end_ns - now) / 1e9, self.release)
            return
        transport.write(RESPONSE)

    def release(self) -> None:
        held, self.held = self.held, []
        for transport in held:
            if not transport.is_closing():
                transport.write(RESPONSE)


class StallProtocol(asyncio.Protocol):
    def __init__(self, window: StallWindow) -> None:
        self.window = window
        self.parser = HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.window.handle(self.transport)


async def serve_stall(port: int, after_s: float, length_s: float) -> None:
    window = StallWindow(after_s, length_s)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: StallProtocol(window), "127.0.0.1", port, backlog=4096
    )
    async with server:
        await server.serve_forever()


class SleepHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    delay_s = 0.010

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        self.wfile.write(RESPONSE)

    def log_message(self, format: str, *args: object) -> None:
        return


def serve_sleep(port: int, delay_ms: float) -> None:
    SleepHandler.delay_s = delay_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", port), SleepHandler)
    server.daemon_threads = True
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="kind", required=True)
    stall = sub.add_parser("stall")
    stall.add_argument("--port", type=int, required=True)
    stall.add_argument("--stall-after", type=float, default=2.0)
    stall.add_argument("--stall-for", type=float, default=1.0)
    sleep = sub.add_parser("sleep")
    sleep.add_argument("--port", type=int, required=True)
    sleep.add_argument("--delay-ms", type=float, default=10.0)
    args = parser.parse_args()
    if args.kind == "stall":
        uvloop.run(serve_stall(args.port, args.stall_after, args.stall_for))
    else:
        serve_sleep(args.port, args.delay_ms)


if __name__ == "__main__":
    main()
