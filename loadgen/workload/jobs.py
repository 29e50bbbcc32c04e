"""Closed-loop asynchronous calls as jobs: each user keeps one job outstanding, from its
submission to its completion, not merely one submission.

A user submits (the platform answers 202 with the call's id), then waits for that call to
complete before it submits the next: it long-polls the campaign's completion service
(`GET <wait url><call id>?timeout_s=S`, the callback receiver on this machine), which answers
200 once the call completed and 204 when `S` passed first. A call that has not completed
`deadline_s` after its 202 is given up on: the user moves on (the join counts the call as lost),
so a lost completion never holds a user. A submission that was not accepted (a 429, an error, no
call id) is no job: the user submits again at once, as a closed loop does after an error.

The long-poll is a bare HTTP/1.1 GET on a connection of its own (aiohttp would add half a second
to every worker's start); a connection that fails is retried every `RETRY_S` until the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from loadgen.engine.clock import now_ns
from loadgen.engine.interface import Captured
from loadgen.workload.closed import ClosedLoopDriver
from loadgen.workload.driver import Recorder

#: One long-poll waits at most this long; a longer wait asks again.
POLL_S = 30.0
#: After a failed long-poll (the service unreachable), the next one this much later.
RETRY_S = 0.2
#: What a long-poll's answer may hold before the connection is dropped.
MAX_ANSWER = 64 * 1024


class JobWait(BaseModel):
    """How the users of a closed loop learn that their call completed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The completion service's wait URL, to which the call id is appended.
    url: str
    #: The response header carrying the call's id (one of the engine's captured headers).
    call_id_header: str
    #: How long after its 202 a call may take to complete before its user gives up on it.
    deadline_s: float = Field(gt=0, le=3600)
    #: Statuses that mean the platform accepted (queued) the call.
    accepted: frozenset[int] = frozenset({202})


class CompletionWaiter:
    """Waits for one call's completion at a time per user, by long-polling the service."""

    def __init__(self, wait: JobWait) -> None:
        parts = urlsplit(wait.url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{wait.url!r}: the completion service is reached over plain http")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self._header = parts.netloc
        self.deadline_ns = round(wait.deadline_s * 1e9)

    async def wait(self, call_id: str, accepted_ns: int) -> bool:
        """True once `call_id` completed; False when `deadline_s` after `accepted_ns` (CLOCK_
        MONOTONIC) passed first."""
        give_up = accepted_ns + self.deadline_ns
        while True:
            left_s = (give_up - now_ns()) / 1e9
            if left_s <= 0:
                return False
            try:
                status = await self._poll(call_id, min(left_s, POLL_S))
            except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                status = None
            if status == 200:
                return True
            if status != 204:
                await asyncio.sleep(min(RETRY_S, max(0.0, (give_up - now_ns()) / 1e9)))

    async def _poll(self, call_id: str, timeout_s: float) -> int:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self._host, self._port), timeout=min(timeout_s, 5.0) + 1
        )
        try:
            target = f"{self._path}{quote(call_id, safe='')}?timeout_s={timeout_s:.3f}"
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {self._header}\r\nConnection: close\r\n\r\n"
                .encode("ascii")
            )  # fmt: skip
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), timeout=timeout_s + 5.0)
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                raise ValueError(f"not an HTTP answer: {line[:80]!r}")
            return int(parts[1])
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class ClosedJobsDriver(ClosedLoopDriver):
    """A closed loop whose users each keep one job (submission to completion) outstanding."""

    def __init__(
        self,
        recorder: Recorder,
        users: int,
        total: int | None,
        duration_ns: int | None,
        warmup_ns: int,
        *,
        wait: JobWait,
        call_id_slot: int,
    ) -> None:
        super().__init__(recorder, users, total, duration_ns, warmup_ns)
        self._waiter = CompletionWaiter(wait)
        self._accepted = wait.accepted
        self._slot = call_id_slot
        self._waits: set[asyncio.Task[bool]] = set()
        self.jobs_completed = 0
        self.jobs_given_up = 0

    @property
    def waiting(self) -> int:
        """Users waiting for their call's completion now."""
        return len(self._waits)

    def stop(self) -> None:
        super().stop()
        for task in list(self._waits):
            task.cancel()

    def abandon(self) -> None:
        for task in list(self._waits):
            task.cancel()
        super().abandon()

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
        call_id = self._call_id(captured) if not error and status in self._accepted else None
        if call_id is None or self._stopping:
            self._next()
            return
        task = asyncio.get_running_loop().create_task(self._waiter.wait(call_id, end_ns))
        self._waits.add(task)
        task.add_done_callback(self._job_ended)

    def _job_ended(self, task: asyncio.Task[bool]) -> None:
        self._waits.discard(task)
        if not task.cancelled():
            if task.exception() is None and task.result():
                self.jobs_completed += 1
            else:
                self.jobs_given_up += 1
        self._next()

    def _call_id(self, captured: Captured) -> str | None:
        for index, value in captured or ():
            if index == self._slot:
                text = value.decode("utf-8", "replace").strip()
                return text or None
        return None
