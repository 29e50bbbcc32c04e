"""Engines: the hot path that sends requests and reports each outcome to a sink."""

from typing import Literal

from loadgen.engine.errors import ErrorKind, error_class
from loadgen.engine.http1 import Http1Engine
from loadgen.engine.interface import Captured, Engine, ResultSink
from loadgen.engine.options import CORRELATION_HEADERS, EngineOptions, is_2xx, ok_statuses
from loadgen.engine.request import RequestSpec

EngineName = Literal["http1", "aiohttp"]


def create_engine(
    name: EngineName, request: RequestSpec, options: EngineOptions, sink: ResultSink
) -> Engine:
    """Build the named engine; `http1` is the measuring engine, `aiohttp` the reference.

    aiohttp is imported only when asked for: it adds nearly half a second to every worker's start.
    """
    if name == "http1":
        return Http1Engine(request, options, sink)
    if name == "aiohttp":
        from loadgen.engine.aiohttp_engine import AiohttpEngine

        return AiohttpEngine(request, options, sink)
    raise ValueError(f"unknown engine {name!r}")


__all__ = [
    "CORRELATION_HEADERS",
    "Captured",
    "Engine",
    "EngineName",
    "EngineOptions",
    "ErrorKind",
    "Http1Engine",
    "RequestSpec",
    "ResultSink",
    "create_engine",
    "error_class",
    "is_2xx",
    "ok_statuses",
]
