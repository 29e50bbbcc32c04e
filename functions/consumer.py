"""The suite's queue consumer: one function per process, taking jobs from a Redis list, as
KEDA's queue mode runs it (one consumer per pod; KEDA scales the pods on the list's length).

    FUNCTION=matrix QUEUE_ADDRESS=host:6379 QUEUE_KEY=matrix QUEUE_PASSWORD=... \\
        python -m functions.consumer

Jobs wait in `faasbench:jobs:<QUEUE_KEY>` (the loader LPUSHes JSON `{id, params, enqueued_ns}`;
the consumer takes the oldest with BRPOP). Each job runs the function through
`functions._runtime.invoke`, as over HTTP, and one completion record per job goes to
`faasbench:done:<QUEUE_KEY>` (RPUSH): `{id, enqueued_ns, start_ns, end_ns, instance, cold,
status, error}`, wall-clock nanoseconds. The key names are `contract.keda`'s (this image holds
only `functions/`; a test keeps the two equal).

SIGTERM or SIGINT (KEDA scaling the pod down) lets the job in hand finish and be recorded, then
exits 0. A job that is not valid JSON gets no record (the loader counts it lost); a lost
connection is retried with a growing pause.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from ._registry import UnknownFunction, load
from ._resp import Connection, RespError
from ._runtime import instance_id, invoke

JOBS_PREFIX = "faasbench:jobs:"
DONE_PREFIX = "faasbench:done:"
#: How long one BRPOP waits, so a stop request is seen within this.
POLL_S = 1
ADAPTER = "queue"


def completion(job: Mapping[str, Any], start_ns: int, end_ns: int, outcome: Any) -> dict[str, Any]:
    meta = outcome.document["meta"]
    return {
        "id": job["id"],
        "enqueued_ns": job.get("enqueued_ns", 0),
        "start_ns": start_ns,
        "end_ns": end_ns,
        "instance": meta["instance"],
        "cold": meta["cold"],
        "status": outcome.status,
        "error": outcome.document.get("error"),
    }


class Consumer:
    def __init__(self, function: str, key: str, host: str, port: int, password: str | None):
        self.function = function
        self.handler = load(function)
        self.jobs, self.done = JOBS_PREFIX + key, DONE_PREFIX + key
        self.address = (host, port)
        self.password = password
        self.stopping = False
        self.connection: Connection | None = None

    def _connect(self) -> Connection:
        if self.connection is None:
            self.connection = Connection(*self.address, self.password, timeout_s=POLL_S + 30)
        return self.connection

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def step(self) -> bool:
        """Take and run at most one job; True when one was taken."""
        reply = self._connect().command("BRPOP", self.jobs, POLL_S)
        if reply is None:
            return False
        assert isinstance(reply, list)
        raw = reply[1]
        start_ns = time.time_ns()
        try:
            job = json.loads(raw)
            if not isinstance(job, dict) or not isinstance(job.get("id"), str):
                raise ValueError("a job is an object with an id")
        except ValueError as exc:
            print(f"consumer: dropped a job that is not one ({exc})", file=sys.stderr)
            return True
        outcome = invoke(self.function, self.handler, job.get("params", {}), ADAPTER)
        record = completion(job, start_ns, time.time_ns(), outcome)
        self._connect().command("RPUSH", self.done, json.dumps(record, separators=(",", ":")))
        return True

    def run(self) -> int:
        pause = 0.1
        while not self.stopping:
            try:
                self.step()
                pause = 0.1
            except (OSError, ConnectionError, RespError) as exc:
                self._drop()
                print(f"consumer: queue unavailable ({exc}); retrying", file=sys.stderr)
                time.sleep(pause)
                pause = min(pause * 2, 5.0)
        self._drop()
        return 0


def _fail(message: str) -> int:
    print(f"consumer: {message}", file=sys.stderr)
    return 2


def main() -> int:
    function = os.environ.get("FUNCTION", "")
    address = os.environ.get("QUEUE_ADDRESS", "")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return _fail(f"QUEUE_ADDRESS must be HOST:PORT, got {address!r}")
    try:
        consumer = Consumer(
            function,
            os.environ.get("QUEUE_KEY") or function,
            host,
            int(port),
            os.environ.get("QUEUE_PASSWORD") or None,
        )
    except UnknownFunction as exc:
        return _fail(str(exc))

    def stop(signum: int, frame: FrameType | None) -> None:
        consumer.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"consumer: {function} instance {instance_id()} on {consumer.jobs}", file=sys.stderr)
    return consumer.run()


if __name__ == "__main__":
    sys.exit(main())
