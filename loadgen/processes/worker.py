"""One worker process: an event loop, an engine, a workload share and a record file.

Protocol with the coordinator, over a pipe: the worker prepares and sends `ready`, waits for
`go` with the common start instant, runs its share, and sends its `report` (or `error`). A
`stop` message ends the run early, also while the worker is still preparing: nothing more is
sent, requests in flight get `STOP_GRACE_S` to finish, then their connections are closed (they
are not recorded) and the records are closed, so a stop ends a run within a second however slow
the target. If the coordinator dies the pipe closes and the worker stops the same way, so no
orphan keeps sending.
"""

import asyncio
import contextlib
import math
import os
import resource
import signal
import socket
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop

from loadgen.engine import Engine, create_engine
from loadgen.engine.clock import now_ns
from loadgen.engine.errors import ERROR_NAMES
from loadgen.metrics.histogram import encode
from loadgen.processes.collector import ResultCollector
from loadgen.processes.counters import ProgressBoard
from loadgen.processes.limits import FILE_DESCRIPTOR_HEADROOM, raise_open_file_limit
from loadgen.processes.plan import RunPlan, WorkerReport, schedule_of, users_of
from loadgen.record.format import Reason, RecordHeader, record_file_name
from loadgen.record.writer import RecordWriter
from loadgen.version import loadgen_version
from loadgen.workload.closed import ClosedLoopDriver
from loadgen.workload.driver import Driver
from loadgen.workload.jobs import ClosedJobsDriver
from loadgen.workload.open import OpenLoopDriver
from loadgen.workload.spec import ClosedLoop
from loadgen.workload.split import max_inflight_share
from loadgen.workload.timer import sleep_until

FLUSH_EVERY_S = 0.05
"""Records reach the writer thread at least this often (the contract is 100 ms)."""
LIVE_PERCENTILE_EVERY_S = 0.5
PREWARM_ARRIVALS_S = 0.002
#: Most connections opened before the start (more open on demand, `max_connecting` at a time).
PREWARM_MAX = 256
_NEVER = 2**63 - 1
STOP_GRACE_S = 0.3
"""After a stop, how long requests in flight may take to finish before they are abandoned."""


def worker_main(plan: RunPlan, index: int, control: Connection, progress_array: Any) -> None:
    """Process entry point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        report = uvloop.run(_Worker(plan, index, control, progress_array).run())
    except Exception:
        # The coordinator logs the traceback and reports one line; nothing is printed here.
        with contextlib.suppress(OSError):
            control.send(("error", traceback.format_exc()))
        sys.exit(1)
    # If the coordinator is gone there is nobody to report to; the records are closed anyway.
    with contextlib.suppress(OSError):
        control.send(("report", report.model_dump()))
    control.close()


class _Worker:
    def __init__(self, plan: RunPlan, index: int, control: Connection, progress_array: Any) -> None:
        self.plan = plan
        self.index = index
        self.run_index = plan.first_index + index
        """This process's index among every loader's processes (its share, its record file)."""
        self.control = control
        self.board = ProgressBoard(plan.processes, progress_array)
        self.reason: Reason = "completed"
        self.collector = ResultCollector(open_loop=not isinstance(plan.workload, ClosedLoop))
        self.driver = self._make_driver()
        self.engine: Engine = create_engine(plan.engine, plan.request, plan.options, self.driver)
        self.driver.bind(self.engine)
        self.writer: RecordWriter | None = None
        self._go: asyncio.Future[int] | None = None
        self._prewarm: asyncio.Task[int] | None = None
        self._stopped = False
        self._ticker: asyncio.TimerHandle | None = None
        self._next_percentile_at = 0.0
        self._p99_us = 0

    def _make_driver(self) -> Driver:
        workload = self.plan.workload
        processes = self.plan.run_processes
        warmup_ns = round(workload.warmup_s * 1e9)
        if isinstance(workload, ClosedLoop):
            users, total = users_of(self.plan, self.index)
            jobs = self.plan.jobs
            # A user waiting for its job holds a long-poll's socket beside its connection.
            raise_open_file_limit(users * (2 if jobs else 1) + FILE_DESCRIPTOR_HEADROOM)
            duration_ns = None if workload.duration_s is None else round(workload.duration_s * 1e9)
            if jobs is not None:
                capture = self.plan.options.capture_headers
                return ClosedJobsDriver(
                    self.collector, users, total, duration_ns, warmup_ns,
                    wait=jobs, call_id_slot=capture.index(jobs.call_id_header.lower()),
                )  # fmt: skip
            return ClosedLoopDriver(self.collector, users, total, duration_ns, warmup_ns)
        max_inflight = max_inflight_share(workload, self.run_index, processes)
        raise_open_file_limit(max_inflight + FILE_DESCRIPTOR_HEADROOM)
        return OpenLoopDriver(
            self.collector,
            schedule_of(self.plan, self.index),
            max_inflight,
            drop_when_saturated=workload.on_saturation == "drop",
        )

    def _prewarm_count(self) -> int:
        """Connections to open before the start: one per user, or ~2 ms of arrivals."""
        workload = self.plan.workload
        processes = self.plan.run_processes
        if isinstance(workload, ClosedLoop):
            return min(users_of(self.plan, self.index)[0], PREWARM_MAX)
        arrivals = math.ceil(workload.rate / processes * PREWARM_ARRIVALS_S)
        limit = min(max_inflight_share(workload, self.run_index, processes), PREWARM_MAX)
        return max(1, min(arrivals, limit))

    async def run(self) -> WorkerReport:
        loop = asyncio.get_running_loop()
        self._go = loop.create_future()
        loop.add_reader(self.control.fileno(), self._on_control)
        await self.engine.start()
        if not self._stopped:
            self._prewarm = loop.create_task(self.engine.prewarm(self._prewarm_count()))
            with contextlib.suppress(asyncio.CancelledError):
                await self._prewarm
        self.control.send(("ready", None))
        t0 = await self._go
        plan = self.plan
        if plan.out_dir is not None:
            self.writer = RecordWriter(
                Path(plan.out_dir) / record_file_name(self.run_index), self._header(t0)
            )
        warmup_ns = round(plan.workload.warmup_s * 1e9)
        if isinstance(plan.workload, ClosedLoop):
            await sleep_until(t0)
            t0 = max(t0, now_ns())
        self.collector.begin(t0 + warmup_ns, self.writer)
        cpu_start = time.process_time()
        wall_start = now_ns()
        self._ticker = loop.call_later(FLUSH_EVERY_S, self._tick)
        done = self.driver.start(t0)
        await done
        wall_s = (now_ns() - wall_start) / 1e9
        cpu_s = time.process_time() - cpu_start
        connections = self.engine.connections_opened
        resolve_error = self.engine.resolve_error
        await self.engine.aclose()
        loop.remove_reader(self.control.fileno())
        if self._ticker is not None:
            self._ticker.cancel()
        self._publish()
        end_ns = now_ns()
        record_error = None
        records = None
        if self.writer is not None:
            self.writer.close(
                warmup_records=self.collector.warmup,
                dropped=self.collector.dropped,
                end_ns=end_ns,
                reason=self.reason,
            )
            record_error = self.writer.error
            records = self.writer.records
        return self._report(cpu_s, wall_s, records, record_error, resolve_error, connections)

    def _header(self, t0: int) -> RecordHeader:
        plan = self.plan
        return RecordHeader(
            run_id=plan.run_id,
            process_index=self.run_index,
            processes=plan.run_processes,
            monotonic_epoch_ns=plan.monotonic_epoch_ns,
            wall_anchor_ns=plan.wall_anchor_ns,
            start_ns=t0 - plan.monotonic_epoch_ns,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            loadgen_version=loadgen_version(),
            engine=plan.engine,
            method=plan.request.method,
            url=plan.request.url,
            workload=plan.workload.model_dump(),
            capture_headers=list(plan.options.capture_headers),
            job_deadline_s=plan.jobs.deadline_s if plan.jobs is not None else None,
            error_classes={int(code): name for code, name in ERROR_NAMES.items()},
        )

    def _on_control(self) -> None:
        try:
            while self.control.poll():
                message = self.control.recv()
                self._handle(message)
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self.control.fileno())
            self.reason = "aborted"
            self._stop()

    def _handle(self, message: tuple[str, Any]) -> None:
        kind, value = message
        if kind == "go" and self._go is not None and not self._go.done():
            self._go.set_result(int(value))
        elif kind == "stop":
            self.reason = "interrupted"
            self._stop()

    def _stop(self) -> None:
        self._stopped = True
        if self._prewarm is not None and not self._prewarm.done():
            self._prewarm.cancel()
        if self._go is not None and not self._go.done():
            self._go.set_result(now_ns())
        self.driver.stop()
        asyncio.get_running_loop().call_later(STOP_GRACE_S, self.driver.abandon)

    def _tick(self) -> None:
        if self.writer is not None:
            self.writer.flush()
        self._publish()
        self._ticker = asyncio.get_running_loop().call_later(FLUSH_EVERY_S, self._tick)

    def _publish(self) -> None:
        collector = self.collector
        if self.plan.live_percentiles:
            now = time.monotonic()
            if now >= self._next_percentile_at:
                self._next_percentile_at = now + LIVE_PERCENTILE_EVERY_S
                histogram = collector.latency if collector.open_loop else collector.service
                self._p99_us = histogram.percentile_us(99.0)
        self.board.publish(
            self.index,
            sent=self.driver.sent,
            completed=collector.completed,
            ok=collector.ok,
            errors=collector.error_count,
            dropped=collector.dropped,
            inflight=self.engine.inflight,
            p99_us=self._p99_us,
        )

    def _report(
        self,
        cpu_s: float,
        wall_s: float,
        records: int | None,
        record_error: str | None,
        resolve_error: str | None,
        connections: int,
    ) -> WorkerReport:
        collector = self.collector
        measured = collector.requests > 0
        latency = collector.latency if collector.open_loop else collector.service
        return WorkerReport(
            index=self.run_index,
            reason=self.reason,
            requests=collector.requests,
            ok=collector.ok,
            warmup=collector.warmup,
            dropped=collector.dropped,
            errors=collector.errors,
            first_intended_ns=collector.first_intended_ns if measured else None,
            last_end_ns=collector.last_end_ns if measured else None,
            first_send_ns=collector.first_send_ns if measured else None,
            last_send_ns=collector.last_send_ns if measured else None,
            latency_hdr=encode(latency.to_hdr()),
            service_hdr=encode(collector.service.to_hdr()),
            sched_lag_hdr=encode(collector.sched_lag.to_hdr()),
            histogram_overflow=(
                collector.service.overflow
                + collector.sched_lag.overflow
                + (collector.latency.overflow if collector.open_loop else 0)
            ),
            latency_sum_ns=collector.latency_sum_ns
            if collector.open_loop
            else collector.service_sum_ns,
            latency_max_ns=collector.latency_max_ns
            if collector.open_loop
            else collector.service_max_ns,
            service_sum_ns=collector.service_sum_ns,
            service_max_ns=collector.service_max_ns,
            sched_lag_max_ns=collector.sched_lag_max_ns,
            cpu_s=cpu_s,
            wall_s=wall_s,
            records=records,
            record_path=self.writer.path if self.writer is not None else None,
            record_error=record_error,
            resolve_error=resolve_error,
            connections_opened=connections,
            queued_max=self.driver.queued_max,
            max_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            earliest_intended_ns=_known(collector.earliest_intended_ns),
            earliest_send_ns=_known(collector.earliest_send_ns),
        )


def _known(value: int) -> int | None:
    """None for an instant the collector never saw (no request completed)."""
    return None if value == _NEVER else value
