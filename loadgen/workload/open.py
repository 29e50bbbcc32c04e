"""Open loop: requests leave at their scheduled instants, whatever the responses do.

The dispatcher never waits for a response. When `max_inflight` requests are outstanding an
arrival is either queued (sent as soon as a request ends, still timed from its intended
instant, so the wait shows up as latency) or dropped (counted, never sent).

Memory and responsiveness stay bounded at any requested rate: at most `MAX_QUEUED` arrivals
wait (beyond that, even in queue mode, an arrival is dropped and counted: the shortfall shows
as `dropped`), and a schedule the process cannot keep up with is caught up at most
`CATCH_UP_BATCH` arrivals at a time, the loop serving responses, record flushes and a stop in
between (a late arrival is still timed from its intended instant).
"""

import asyncio
from collections import deque
from collections.abc import Callable, Iterator

from loadgen.engine.clock import now_ns
from loadgen.engine.interface import Captured, Engine
from loadgen.workload.driver import Recorder
from loadgen.workload.timer import DeadlineTimer, make_timer

TimerFactory = Callable[[asyncio.AbstractEventLoop, Callable[[], None]], DeadlineTimer]
#: Overdue arrivals dispatched in one go before the loop gets control back.
CATCH_UP_BATCH = 512
#: Arrivals that may wait for a free slot at once (queue mode); later ones are dropped.
MAX_QUEUED = 100_000


class OpenLoopDriver:
    """Dispatches a schedule of offsets from `t0` with a precise timer."""

    def __init__(
        self,
        recorder: Recorder,
        offsets: Iterator[int],
        max_inflight: int,
        drop_when_saturated: bool,
        timer_factory: TimerFactory = make_timer,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.sent = 0
        self.dropped = 0
        self.queued_max = 0
        self._recorder = recorder
        self._offsets = offsets
        self._max_inflight = max_inflight
        self._drop = drop_when_saturated
        self._max_queued = max_queued
        self._timer_factory = timer_factory
        self._pending: deque[int] = deque()
        self._engine: Engine | None = None
        self._timer: DeadlineTimer | None = None
        self._t0 = 0
        self._next_at: int | None = None
        self._schedule_over = False
        self._done: asyncio.Future[None] | None = None

    def bind(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def queued(self) -> int:
        return len(self._pending)

    def start(self, t0_ns: int) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._t0 = t0_ns
        if self._schedule_over:
            self._done.set_result(None)
            return self._done
        first = next(self._offsets, None)
        if first is None:
            self._finish_schedule()
            return self._done
        self._next_at = t0_ns + first
        self._timer = self._timer_factory(loop, self._on_timer)
        self._timer.arm(self._next_at)
        return self._done

    def stop(self) -> None:
        self._pending.clear()
        self._finish_schedule()

    def abandon(self) -> None:
        self.stop()
        done = self._done
        if done is not None and not done.done():
            done.set_result(None)

    def _on_timer(self) -> None:
        next_at = self._next_at
        if next_at is None:
            return
        now = now_ns()
        offsets = self._offsets
        t0 = self._t0
        budget = CATCH_UP_BATCH
        timer = self._timer
        assert timer is not None
        while next_at <= now:
            if budget == 0:
                # Behind schedule: let the loop run, then go on (the timer is already due).
                self._next_at = next_at
                timer.arm(next_at)
                return
            budget -= 1
            self._dispatch(next_at, now)
            offset = next(offsets, None)
            if offset is None:
                self._next_at = None
                self._finish_schedule()
                return
            next_at = t0 + offset
            if next_at > now:
                now = now_ns()
        self._next_at = next_at
        timer.arm(next_at)

    def _dispatch(self, intended_ns: int, now: int) -> None:
        engine = self._engine
        assert engine is not None
        pending = self._pending
        if engine.inflight < self._max_inflight and not pending:
            self.sent += 1
            engine.send(intended_ns)
        elif self._drop or len(pending) >= self._max_queued:
            self.dropped += 1
            self._recorder.on_drop(intended_ns, now)
        else:
            pending.append(intended_ns)
            if len(pending) > self.queued_max:
                self.queued_max = len(pending)

    def _finish_schedule(self) -> None:
        self._schedule_over = True
        self._next_at = None
        if self._timer is not None:
            self._timer.close()
            self._timer = None
        self._maybe_done()

    def _maybe_done(self) -> None:
        engine = self._engine
        done = self._done
        if (
            self._schedule_over
            and not self._pending
            and (engine is None or engine.inflight == 0)
            and done is not None
            and not done.done()
        ):
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
        pending = self._pending
        if pending:
            engine = self._engine
            assert engine is not None
            if engine.inflight < self._max_inflight:
                self.sent += 1
                engine.send(pending.popleft())
        elif self._schedule_over:
            self._maybe_done()
