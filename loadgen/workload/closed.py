"""Closed loop: each user sends its next request as soon as its previous one has ended."""

import asyncio

from loadgen.engine.clock import now_ns
from loadgen.engine.interface import Captured, Engine
from loadgen.workload.driver import Recorder


class ClosedLoopDriver:
    """Keeps `users` requests outstanding until `total` measured requests have been sent.

    Requests sent before the warm-up ends do not count towards `total`; with `duration_ns`
    instead of a total, no request is sent once the warm-up plus the duration has passed.
    """

    def __init__(
        self,
        recorder: Recorder,
        users: int,
        total: int | None,
        duration_ns: int | None,
        warmup_ns: int,
    ) -> None:
        self.sent = 0
        self.dropped = 0
        self.queued_max = 0
        self._recorder = recorder
        self._users = users
        self._remaining = total
        self._duration_ns = duration_ns
        self._warmup_ns = warmup_ns
        self._engine: Engine | None = None
        self._warm_until = 0
        self._stop_at: int | None = None
        self._active = 0
        self._stopping = False
        self._done: asyncio.Future[None] | None = None

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, t0_ns: int) -> asyncio.Future[None]:
        self._done = asyncio.get_running_loop().create_future()
        self._warm_until = t0_ns + self._warmup_ns
        if self._duration_ns is not None:
            self._stop_at = self._warm_until + self._duration_ns
        self._active = self._users
        for _ in range(self._users):
            self._next()
        if self._active == 0 and not self._done.done():
            self._done.set_result(None)
        return self._done

    def stop(self) -> None:
        self._stopping = True
        if self._active == 0 and self._done is not None and not self._done.done():
            self._done.set_result(None)

    def abandon(self) -> None:
        self._stopping = True
        done = self._done
        if done is not None and not done.done():
            done.set_result(None)

    def _next(self) -> None:
        now = now_ns()
        stop_at = self._stop_at
        if self._stopping or (stop_at is not None and now >= stop_at):
            self._retire()
            return
        remaining = self._remaining
        if remaining is not None and now >= self._warm_until:
            if remaining <= 0:
                self._retire()
                return
            self._remaining = remaining - 1
        self.sent += 1
        engine = self._engine
        assert engine is not None
        engine.send(now)

    def _retire(self) -> None:
        self._active -= 1
        done = self._done
        if self._active == 0 and done is not None and not done.done():
            done.set_result(None)

    def on_result(
        self,
        intended_ns: int,
        send_ns: int,
        end_ns: int,
        status: int,
        nbytes: int,
        error: int,
        new_connection: bool,
        captured: Captured,
        meta: bytes | None,
    ) -> None:
        self._recorder.on_result(
            intended_ns, send_ns, end_ns, status, nbytes, error, new_connection, captured, meta
        )
        self._next()
