"""The gateway's replicas: each deployed function's replica processes, reconciled to the count
it asks for, replaced when one exits, and handed out round robin to calls, which wait for a
ready one (scaling a function at zero to one first, as OpenFaaS scales from zero)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from functions._registry import Language
from loadgen.local.deployments import ApiError, Deployment
from loadgen.local.replicas import Replica, ReplicaError, replica_env, start_replica
from loadgen.local.runtimes import LanguageUnavailable, Runtimes

log = logging.getLogger("loadgen.local.gateway")


@dataclass(eq=False)
class Function:
    """A deployed function: its spec, desired replica count and the replicas that serve it."""

    name: str
    spec: Deployment
    suite_function: str
    desired: int
    language: Language = "python"
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    replicas: list[Replica] = field(default_factory=list)
    #: Replaced by PUT: replicas started for an older spec are stopped once they come up.
    generation: int = 0
    deleted: bool = False
    #: Reconciliations scheduled or running; a held call starts one only when there is none.
    pending: int = 0
    start_error: str | None = None
    next_replica: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Fleet:
    """The deployed functions and their replicas, and the upstream connections to them."""

    def __init__(
        self, replica_dir: Path, hold_timeout_s: float, runtimes: Runtimes | None = None
    ) -> None:
        self.functions: dict[str, Function] = {}
        self.runtimes = runtimes
        self.replica_dir = replica_dir
        self.replica_dir.mkdir(parents=True, exist_ok=True)
        self.hold_timeout_s = hold_timeout_s
        #: The gateway's own URL, handed to replicas as GATEWAY_URL once it listens.
        self.self_url = ""
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
                auto_decompress=False,
            )
        return self._session

    def schedule(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def kick(self, function: Function) -> None:
        function.pending += 1
        self.schedule(self._reconcile(function))

    async def _reconcile(self, function: Function) -> None:
        """Start or stop replicas until the function has `desired` of its current spec."""
        async with function.lock:
            try:
                while not function.deleted:
                    missing = function.desired - len(function.replicas)
                    if missing < 0:
                        async with function.changed:
                            extra = function.replicas[function.desired :]
                            del function.replicas[function.desired :]
                        for replica in extra:
                            self.schedule(replica.stop())
                        continue
                    if missing == 0:
                        break
                    if not await self._start(function, missing):
                        break
            finally:
                function.pending -= 1
                async with function.changed:
                    function.changed.notify_all()

    async def _start(self, function: Function, count: int) -> bool:
        """Start `count` replicas at once; False when one failed (its error is kept)."""
        generation = function.generation
        defaults = {"GATEWAY_URL": self.self_url} if self.self_url else {}
        env = replica_env(function.suite_function, function.spec.envVars or {}, defaults)
        async with function.changed:
            function.start_error = None
        launch = None
        if function.language != "python":
            try:
                if self.runtimes is None:
                    raise LanguageUnavailable(f"{function.language}: no runtimes configured")
                launch = await self.runtimes.launch(function.language)
            except LanguageUnavailable as exc:
                log.error("%s: %s", function.name, exc)
                async with function.changed:
                    function.start_error = str(exc)
                    function.changed.notify_all()
                return False
        results = await asyncio.gather(
            *(
                start_replica(
                    function.name, function.suite_function, env, self.replica_dir,
                    self.session, generation, launch,
                )
                for _ in range(count)
            ),
            return_exceptions=True,
        )  # fmt: skip
        ok = True
        for result in results:
            if isinstance(result, BaseException):
                ok = False
                message = str(result) if isinstance(result, ReplicaError) else repr(result)
                log.error("%s: %s", function.name, message)
                async with function.changed:
                    function.start_error = message
                    function.changed.notify_all()
                continue
            if function.deleted or function.generation != generation:
                self.schedule(result.stop())
                continue
            async with function.changed:
                function.replicas.append(result)
                function.changed.notify_all()
            self.schedule(self._watch(function, result))
        return ok

    async def _watch(self, function: Function, replica: Replica) -> None:
        """A replica that exits on its own is taken out of rotation and replaced."""
        code = await replica.process.wait()
        if replica.stopping:
            return
        log.error("%s: replica %d exited with %s", function.name, replica.pid, code)
        replica.forget()
        async with function.changed:
            if replica in function.replicas:
                function.replicas.remove(replica)
        if not function.deleted:
            self.kick(function)

    async def ready_replica(self, function: Function) -> tuple[Replica, float]:
        """A ready replica, round robin; waits for one (scaling from zero if need be). Returns
        it with the seconds the call was held."""
        started = time.monotonic()
        deadline = started + self.hold_timeout_s
        async with function.changed:
            if not function.replicas and not function.pending:
                function.start_error = None  # a new call retries a replica that failed
            while not function.replicas:
                if function.deleted:
                    raise ApiError(404, f"function {function.name} was deleted")
                if function.start_error:
                    raise ApiError(502, f"no replica of {function.name}: {function.start_error}")
                if not function.pending:
                    if function.desired == 0:
                        log.info("scaling %s from zero", function.name)
                        function.desired = 1
                    self.kick(function)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ApiError(
                        504,
                        f"no replica of {function.name} was ready within {self.hold_timeout_s:g} s",
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(function.changed.wait(), remaining)
            function.next_replica += 1
            replica = function.replicas[function.next_replica % len(function.replicas)]
        return replica, time.monotonic() - started

    async def shutdown(self) -> None:
        """Stop every replica (requests in flight finish first) and close upstream connections."""
        replicas = [r for f in self.functions.values() for r in f.replicas]
        for function in self.functions.values():
            function.deleted = True
            function.replicas = []
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(r.stop() for r in replicas), return_exceptions=True)
        for leftover in self.replica_dir.glob("*.json"):
            leftover.unlink(missing_ok=True)
        if self._session is not None:
            await self._session.close()
