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
import heapq
import time
from collections.abc import Callable
from typing import cast

import uvloop
from httptools import HttpParserError, HttpRequestParser

from loadgen.workload.timer import TimerfdTimer

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


class DelayedResponses:
    """Answers each request `delay_ns` after it arrived, in due order."""

    def __init__(self, delay_ms: float) -> None:
        self.delay_ns = int(delay_ms * 1e6)
        self.due: list[tuple[int, int, asyncio.Transport]] = []
        self.sequence = 0
        self.timer = TimerfdTimer(asyncio.get_running_loop(), self.fire)

    def handle(self, transport: asyncio.Transport) -> None:
        due_ns = time.monotonic_ns() + self.delay_ns
        self.sequence += 1
        heapq.heappush(self.due, (due_ns, self.sequence, transport))
        if self.due[0][1] == self.sequence:
            self.timer.arm(due_ns)

    def fire(self) -> None:
        now = time.monotonic_ns()
        while self.due and self.due[0][0] <= now:
            _, _, transport = heapq.heappop(self.due)
            if not transport.is_closing():
                transport.write(RESPONSE)
        if self.due:
            self.timer.arm(self.due[0][0])


class RequestProtocol(asyncio.Protocol):
    """Parses requests and hands each complete one to `on_request`."""

    def __init__(self, on_request: Callable[[asyncio.Transport], None]) -> None:
        self.on_request = on_request
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
            self.on_request(self.transport)


async def serve(port: int, on_request: Callable[[asyncio.Transport], None]) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: RequestProtocol(on_request), "127.0.0.1", port, backlog=4096
    )
    async with server:
        await server.serve_forever()


async def serve_stall(port: int, after_s: float, length_s: float) -> None:
    await serve(port, StallWindow(after_s, length_s).handle)


async def serve_sleep(port: int, delay_ms: float) -> None:
    await serve(port, DelayedResponses(delay_ms).handle)


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
        uvloop.run(serve_sleep(args.port, args.delay_ms))


if __name__ == "__main__":
    main()
