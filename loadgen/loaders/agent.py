"""One loader's share of a run, in a process of its own (`python -m loadgen.loaders.agent`).

Dask workers are daemonic and cannot start multiprocessing children, so the loader's task
starts this agent with subprocess, and the agent runs the per-machine coordinator
(`loadgen.processes.coordinator.run_processes`) for its processes. Protocol, one JSON object
a line:

    stdin   1. the `LoaderAssignment`; 2. {"go": t0} (the start instant, loader clock) or
            {"stop": true}; {"stop": true} later stops the run early
    stdout  {"ready": {...}} once every process is ready; {"progress": [...], "elapsed_s": x}
            about twice a second; finally {"report": {...}} or {"error": "..."}

End of input (the loader's task or its worker gone) stops the processes the same way, so no
orphan keeps sending. The protocol has stdout to itself: file descriptor 1 is pointed at
stderr for everything else, the worker processes included.
"""

import contextlib
import json
import os
import select
import socket
import sys
from dataclasses import astuple
from typing import IO, Any

from loadgen.engine.clock import now_ns
from loadgen.loaders.models import LoaderAssignment, LoaderOutcome, LoaderReady
from loadgen.processes.coordinator import (
    READY_TIMEOUT_S,
    RunError,
    capacity_problem,
    run_processes,
)
from loadgen.processes.counters import ProgressSnapshot

PROGRESS_EVERY_S = 0.5


class _Channel:
    """The protocol's two ends: JSON lines in on a file descriptor (read unbuffered, so that
    waiting on it never misses a line already read), out on a private copy of stdout."""

    def __init__(self, incoming: int, outgoing: IO[str]) -> None:
        self.incoming = incoming
        self.outgoing = outgoing
        self.pending = b""
        self.stopped = False

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.outgoing.write(json.dumps(message) + "\n")
            self.outgoing.flush()

    def receive(self, timeout_s: float | None) -> dict[str, Any] | None:
        """The next message; None when none came within `timeout_s`; {"stop": true} at end
        of input."""
        while b"\n" not in self.pending:
            readable, _, _ = select.select([self.incoming], [], [], timeout_s)
            if not readable:
                return None
            chunk = os.read(self.incoming, 65536)
            if not chunk:
                return {"stop": True}
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError(f"expected a JSON object, got {line[:80]!r}")
        return message


def _start_instant(channel: _Channel, ready: LoaderReady, timeout_s: float) -> int:
    channel.send({"ready": ready.model_dump()})
    deadline = now_ns() + int(timeout_s * 1e9)
    while True:
        message = channel.receive(max(0.0, (deadline - now_ns()) / 1e9))
        if message is None:
            raise RunError(f"no start instant came within {timeout_s:.0f} s of being ready")
        if "go" in message:
            return int(message["go"])
        if message.get("stop"):
            channel.stopped = True
            raise KeyboardInterrupt


def _progress(channel: _Channel) -> Any:
    next_at = 0.0

    def report(snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        nonlocal next_at
        if elapsed_s >= next_at:
            next_at = elapsed_s + PROGRESS_EVERY_S
            channel.send({"progress": list(astuple(snapshot)), "elapsed_s": elapsed_s})
        if channel.stopped:
            return
        message = channel.receive(0.0)
        if message is not None and message.get("stop"):
            # The coordinator stops its workers on KeyboardInterrupt, as on Ctrl-C.
            channel.stopped = True
            raise KeyboardInterrupt

    return report


def run_agent(assignment: LoaderAssignment, channel: _Channel) -> LoaderOutcome:
    """Run the assignment's processes and return what they measured (records stay on disk)."""
    plan = assignment.plan
    problem = capacity_problem(plan.workload, plan.processes, plan.run_processes)
    if problem is not None:
        raise RunError(f"{socket.gethostname()}: {problem[0]}: {problem[1]}")
    records_dir = assignment.records_dir if assignment.records else None
    if assignment.records and records_dir is None:
        raise RunError("the assignment asks for records but names no directory for them")
    plan = plan.model_copy(update={"out_dir": records_dir})
    ready = LoaderReady(name=assignment.name, hostname=socket.gethostname(), pid=os.getpid())
    reports, t0, host = run_processes(
        plan,
        _progress(channel),
        start_at=lambda: _start_instant(channel, ready, assignment.ready_timeout_s),
    )
    # The record files stay in `records_dir`: the loader's task, on this machine, sends them.
    return LoaderOutcome(
        name=assignment.name, hostname=ready.hostname, t0_ns=t0, reports=reports, host=host
    )


def main() -> int:
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel = _Channel(sys.stdin.fileno(), protocol)
    try:
        first = channel.receive(READY_TIMEOUT_S)
        if first is None or first.get("stop"):
            return 1
        assignment = LoaderAssignment.model_validate(first)
        outcome = run_agent(assignment, channel)
    except KeyboardInterrupt:
        channel.send({"error": "stopped before the start"})
        return 1
    except Exception as exc:
        # Every failure goes back to the driver as one line.
        channel.send({"error": f"{type(exc).__name__}: {exc}"})
        return 1
    channel.send({"report": outcome.model_dump(mode="json")})
    return 0


if __name__ == "__main__":
    sys.exit(main())
