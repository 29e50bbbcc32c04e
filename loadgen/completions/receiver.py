"""The callback receiver: where a platform POSTs the results of asynchronous calls.

OpenFaaS's queue worker POSTs each result to the call's `X-Callback-Url` with `X-Call-Id`,
`X-Function-Status`, `X-Duration-Seconds` and `X-Function-Name`, the function's body as the
request body. The receiver answers 200 at once and keeps one `Completion` per callback, stamped
with CLOCK_MONOTONIC (the clock the engine's records are relative to, on this machine) and wall
time, in memory and appended to `completions.jsonl` line by line, so a crash keeps every
completion received before it.

It serves from a thread of its own (an aiohttp server on its own event loop), so it answers
while the engine's processes run and while the caller waits for the last completions.

Closed-loop asynchronous cells keep N outstanding jobs: each user of the engine's worker
processes, once its call is accepted, long-polls `GET /_/wait/<call id>?timeout_s=S` here
(`wait_url`, on this machine's loopback) and submits its next call when that answers 200 (the
call completed) or 204 (`S` passed first). Each waiting request holds one future, dropped when
it is answered, so what the receiver keeps for waiters is bounded by the users waiting.

Where nothing calls back (OpenWhisk), the receiver is given the platform's `CompletionLookup`
and looks up each call someone waits for, one request at a time, at most `LOOKUP_RATE` a second
in all and each call at most every `LOOKUP_INTERVAL_S`; a call nobody waits for any more is not
looked up. What the look-ups cost is `lookup_stats()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from aiohttp import web

from loadgen.completions.addresses import CALLBACK_PATH
from loadgen.results.completions import COMPLETIONS_FILE, Completion, PollStats

if TYPE_CHECKING:
    from loadgen.platforms.base import CompletionLookup

#: Bodies above this are counted but not parsed for the meta envelope.
META_BODY_LIMIT = 64 * 1024
#: Callback bodies the receiver accepts (a function's whole response comes back).
MAX_BODY = 32 * 1024 * 1024
#: Where a user waiting for its call's completion long-polls: `WAIT_PATH/<call id>`.
WAIT_PATH = "/_/wait"
#: The longest one long-poll may wait (a user waits longer by asking again).
MAX_WAIT_S = 3600.0
#: Look-ups of waited-for calls (listing platforms): at most this many a second in all...
LOOKUP_RATE = 20.0
#: ...and each call at most once in this many seconds.
LOOKUP_INTERVAL_S = 0.5


class ReceiverError(RuntimeError):
    """The receiver could not listen where it was asked to."""


def parse_completion(
    headers: dict[str, str], body: bytes, received_ns: int, wall_ns: int
) -> Completion | None:
    """A callback's completion, or None when it carries no `X-Call-Id` (nothing to join)."""
    lower = {k.lower(): v for k, v in headers.items()}
    call_id = lower.get("x-call-id", "").strip()
    if not call_id:
        return None
    meta = _meta(body)
    return Completion(
        call_id=call_id,
        received_ns=received_ns,
        received_wall_ns=wall_ns,
        function=lower.get("x-function-name") or None,
        function_status=_int(lower.get("x-function-status")),
        duration_s=_float(lower.get("x-duration-seconds")),
        cold=meta.get("cold") if isinstance(meta.get("cold"), bool) else None,
        instance=meta.get("instance") if isinstance(meta.get("instance"), str) else None,
    )


class CallbackReceiver:
    """Listens on `host:port` (0: any free port) until closed; `url` is what callers put in
    `X-Callback-Url` (`advertise` overrides it, e.g. an address the platform can reach)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        advertise: str | None = None,
        out_dir: Path | None = None,
        lookup: CompletionLookup | None = None,
    ) -> None:
        self.host, self.port, self.advertise, self.out_dir = host, port, advertise, out_dir
        self.lookup = lookup
        #: Calls to look up (with `lookup`), by id: when each is due next (loop time).
        self._due: dict[str, float] = {}
        self._lookup_task: asyncio.Task[None] | None = None
        self._lookup_started: float | None = None
        self._lookup_ended: float | None = None
        self.lookup_errors = 0
        self.url = ""
        self.wait_url = ""
        """`WAIT_PATH/` on this machine's loopback (or the listening host): where users wait."""
        self.invalid = 0
        """Callbacks without an `X-Call-Id`: answered, counted, not kept."""
        self._completions: list[Completion] = []
        self._ids: set[str] = set()
        #: The ids `wait_for` still waits for; each callback takes its own out, in O(1).
        self._missing: set[str] = set()
        self._arrived = threading.Condition()
        #: Long-polls waiting, by call id (touched on the server's loop only).
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._file: IO[str] | None = None

    def __enter__(self) -> CallbackReceiver:
        if self.out_dir is not None:
            self._file = (self.out_dir / COMPLETIONS_FILE).open("a", encoding="utf-8")
        self._thread = threading.Thread(target=self._serve, name="callback-receiver", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.__exit__(None, None, None)
            raise ReceiverError(
                f"cannot listen for callbacks on {self.host}:{self.port}: {self._error}"
            ) from None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if self._file is not None:
            self._file.close()
            self._file = None

    def lookup_stats(self) -> PollStats | None:
        """What looking calls up cost the platform (None without a `lookup`)."""
        if self.lookup is None:
            return None
        requests = self.lookup.requests
        started, ended = self._lookup_started, self._lookup_ended
        elapsed = (ended - started) if started is not None and ended is not None else 0.0
        return PollStats(
            polls=requests,
            requests=requests,
            elapsed_s=round(elapsed, 3),
            rate_per_s=round(requests / elapsed, 3) if elapsed > 0 else float(requests),
            min_interval_s=LOOKUP_INTERVAL_S,
        )

    def completions(self) -> list[Completion]:
        with self._arrived:
            return list(self._completions)

    def wait_for(self, call_ids: set[str], timeout_s: float) -> set[str]:
        """Wait until every id in `call_ids` has completed or `timeout_s` passed; the ids still
        missing."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            self._missing = call_ids - self._ids
            while self._missing:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            missing, self._missing = self._missing, set()
            return missing

    # The server thread ------------------------------------------------------------------------

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        try:
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            loop.run_until_complete(site.start())
            server = site._server  # the bound socket: the port actually given
            sockets = getattr(server, "sockets", None) or []
            bound_host, bound_port = sockets[0].getsockname()[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            self.url = self.advertise or f"http://{shown}:{bound_port}{CALLBACK_PATH}"
            local = _LOOPBACK.get(bound_host, shown)
            self.wait_url = f"http://{local}:{bound_port}{WAIT_PATH}/"
        except OSError as exc:
            self._error = exc
            self._ready.set()
            with contextlib.suppress(Exception):
                loop.run_until_complete(runner.cleanup())
            loop.close()
            return
        self._ready.set()
        if self.lookup is not None:
            self._lookup_task = loop.create_task(self._look_up(self.lookup))
        try:
            loop.run_forever()
        finally:
            if self._lookup_task is not None:
                self._lookup_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(self._lookup_task)
            if self.lookup is not None:
                loop.run_until_complete(self.lookup.aclose())
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(CALLBACK_PATH, self._receive)
        app.router.add_post(CALLBACK_PATH + "/{tail:.*}", self._receive)
        app.router.add_get(WAIT_PATH + "/{call_id}", self._wait)
        return app

    async def _wait(self, request: web.Request) -> web.Response:
        """200 once the call has completed, 204 when `timeout_s` passed first."""
        call_id = request.match_info["call_id"]
        try:
            timeout_s = float(request.query.get("timeout_s", ""))
        except ValueError:
            return web.Response(status=400, text="timeout_s: a number of seconds\n")
        if not 0 <= timeout_s <= MAX_WAIT_S:
            return web.Response(status=400, text=f"timeout_s: 0 to {MAX_WAIT_S:g} seconds\n")
        with self._arrived:
            if call_id in self._ids:
                return web.Response(status=200)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(call_id, []).append(future)
        if self.lookup is not None:
            self._due.setdefault(call_id, 0.0)
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            return web.Response(status=204)
        finally:
            # A completion took the list already; a timeout or a dropped poll leaves its own.
            waiting = self._waiters.get(call_id)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._waiters[call_id]
            if call_id not in self._waiters:
                self._due.pop(call_id, None)  # nobody waits for it any more
        return web.Response(status=200)

    async def _look_up(self, lookup: CompletionLookup) -> None:
        """Look up the calls waited for, due first, one at a time, `LOOKUP_RATE` at most."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            due = [call_id for call_id, at in self._due.items() if at <= now]
            if not due:
                soonest = min(self._due.values(), default=now + 1 / LOOKUP_RATE)
                await asyncio.sleep(max(1 / LOOKUP_RATE, soonest - now))
                continue
            for call_id in sorted(due, key=self._due.__getitem__):
                if call_id not in self._due:
                    continue
                self._due[call_id] = loop.time() + LOOKUP_INTERVAL_S
                if self._lookup_started is None:
                    self._lookup_started = time.monotonic()
                try:
                    completion = await lookup.completion(call_id)
                except Exception:  # an unreachable controller: counted, looked up again
                    self.lookup_errors += 1
                    completion = None
                self._lookup_ended = time.monotonic()
                if completion is not None:
                    self._due.pop(call_id, None)
                    self._record(completion)
                await asyncio.sleep(1 / LOOKUP_RATE)

    async def _receive(self, request: web.Request) -> web.Response:
        received_ns, wall_ns = time.monotonic_ns(), time.time_ns()
        body = await request.read()
        completion = parse_completion(dict(request.headers), body, received_ns, wall_ns)
        if completion is None:
            with self._arrived:
                self.invalid += 1
        else:
            self._record(completion)
        return web.Response(status=200)

    def _record(self, completion: Completion) -> None:
        """Keep `completion` (on the server's loop) and wake whoever waits for it."""
        with self._arrived:
            self._completions.append(completion)
            self._ids.add(completion.call_id)
            if self._file is not None:
                self._file.write(completion.model_dump_json() + "\n")
                self._file.flush()
            self._missing.discard(completion.call_id)
            if not self._missing:
                self._arrived.notify_all()
        for future in self._waiters.pop(completion.call_id, []):
            if not future.done():
                future.set_result(None)


#: Where a user on this machine reaches a receiver listening on every address.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104


def _meta(body: bytes) -> dict[str, Any]:
    if not body or len(body) > META_BODY_LIMIT:
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    meta = document.get("meta") if isinstance(document, dict) else None
    return meta if isinstance(meta, dict) else {}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
