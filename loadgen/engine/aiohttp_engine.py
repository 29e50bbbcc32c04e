"""Reference engine on aiohttp, behind the same interface as the HTTP/1.1 engine.

About ten times slower, but built on a widely used client: tests run both engines against the
same servers and require the same counts and statuses, which keeps the fast engine honest.
"""

import asyncio
import ssl

import aiohttp
from aiohttp.http_exceptions import ContentLengthError

from loadgen.engine.clock import now_ns
from loadgen.engine.errors import ErrorKind
from loadgen.engine.interface import Captured, ResultSink
from loadgen.engine.meta import MAX_META_BODY, extract_meta
from loadgen.engine.options import EngineOptions
from loadgen.engine.request import USER_AGENT, RequestSpec
from loadgen.engine.tls import client_context


def _closed_early(exc: aiohttp.ClientPayloadError) -> bool:
    """The body ended because the connection closed (aiohttp wraps ContentLengthError)."""
    causes = [exc.__cause__, *exc.args]
    return any(isinstance(cause, ContentLengthError) for cause in causes)


def _classify(exc: BaseException) -> ErrorKind:
    """Map aiohttp's exceptions onto the classes the HTTP/1.1 engine reports."""
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return ErrorKind.TLS
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return ErrorKind.CONNECT
    if isinstance(exc, asyncio.TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.ClientPayloadError) and _closed_early(exc):
        return ErrorKind.RESET
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ErrorKind.PROTOCOL
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        return ErrorKind.RESET
    return ErrorKind.PROTOCOL


class AiohttpEngine:
    """One task per request on a shared `aiohttp.ClientSession` with an unlimited pool."""

    def __init__(self, request: RequestSpec, options: EngineOptions, sink: ResultSink) -> None:
        self.inflight = 0
        # aiohttp's pool opens connections and resolves names out of sight: neither is tracked.
        self.connections_opened = 0
        self.resolve_error: str | None = None
        self._request = request
        self._options = options
        self._sink = sink
        self._capture = {name: index for index, name in enumerate(options.capture_headers)}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        given = {name.lower() for name, _ in request.headers}
        headers = dict(request.headers)
        if "user-agent" not in given:
            headers["User-Agent"] = USER_AGENT
        self._headers = headers

    async def start(self) -> None:
        tls: ssl.SSLContext | bool = (
            client_context(self._options.verify_tls) if self._request.is_tls else False
        )
        connector = aiohttp.TCPConnector(limit=0, ssl=tls, force_close=False)
        timeout = aiohttp.ClientTimeout(
            total=self._options.timeout_s,
            sock_connect=self._options.effective_connect_timeout_s,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding"),
        )

    async def prewarm(self, count: int) -> int:
        """aiohttp opens connections on demand; the reference engine does not pre-open any."""
        return 0

    def send(self, intended_ns: int) -> None:
        self.inflight += 1
        task = asyncio.get_running_loop().create_task(self._one(intended_ns, now_ns()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _one(self, intended_ns: int, send_ns: int) -> None:
        session = self._session
        assert session is not None, "start() the engine before sending"
        request = self._request
        status = 0
        nbytes = 0
        captured: Captured = None
        meta: bytes | None = None
        error = ErrorKind.NONE
        try:
            async with session.request(
                request.method,
                request.url,
                headers=self._headers,
                data=request.body if request.body else None,
                allow_redirects=False,
            ) as response:
                status = response.status
                for name, value in response.raw_headers:
                    slot = self._capture.get(name.decode("latin-1").lower())
                    if slot is not None:
                        captured = [*(captured or []), (slot, value)]
                body = await response.read()
                nbytes = len(body)
                if self._options.parse_meta and nbytes <= MAX_META_BODY:
                    meta = extract_meta(body)
            if status not in self._options.ok_statuses:
                error = ErrorKind.HTTP
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = _classify(exc)
            meta = None
        end = now_ns()
        self.inflight -= 1
        self._sink.on_result(
            intended_ns, send_ns, end, status, nbytes, int(error), False, captured, meta
        )

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.inflight = 0
        if self._session is not None:
            await self._session.close()
            self._session = None
