"""Per-instance state and the `meta` contract every adapter shares.

An instance is one process (an OpenFaaS replica's server, a warm OpenWhisk container's action
loop). It gets a random id and its wall-clock start time once; its first invocation, and only
that one, is reported `cold`. `invoke` runs a handler, times it, and turns parameter errors and
failures into error documents (never a traceback to the client), so the HTTP server and the
OpenWhisk entry point produce the same documents:

    {"result": ..., "meta": {...}}            status 200
    {"error": "message", "meta": {...}}       status 400 (bad parameter) or 500 (failure)

A handler may time stages of its own work by returning `Timed(result, timings)` (stage name ->
milliseconds): the document carries `result`, and `meta.timings` the stages. Other handlers get
the same meta as ever, field for field.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._params import FunctionError, ParamError, Timed
from ._registry import Handler

#: The suite's version, reported in every response so results can be tied to the code that ran.
VERSION = "1.1.0"
#: The language this runtime is written in; the node, go and java runtimes report their own.
LANGUAGE = "python"


class _Instance:
    """Identity and cold flag of this process; reset in a forked child, which is a new instance."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.id = os.urandom(8).hex()
        self.started_ns = time.time_ns()
        self.cold_pending = True

    def take_cold(self) -> bool:
        """True exactly once per instance, even under concurrent first calls."""
        with self.lock:
            cold = self.cold_pending
            self.cold_pending = False
            return cold


_INSTANCE = _Instance()
os.register_at_fork(after_in_child=_INSTANCE.reset)


def instance_id() -> str:
    return _INSTANCE.id


def instance_started_ns() -> int:
    return _INSTANCE.started_ns


def checked_timings(timings: object) -> dict[str, float]:
    """`Timed.timings` as meta carries them: names to finite, non-negative milliseconds."""
    if not isinstance(timings, Mapping) or not all(
        isinstance(name, str)
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
        for name, value in timings.items()
    ):
        raise TypeError(f"timings must map stage names to milliseconds, got {timings!r}")
    return {name: float(value) for name, value in timings.items()}


@dataclass(frozen=True)
class Outcome:
    """A response document and the HTTP status it maps to (200, 400 or 500)."""

    status: int
    document: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200


def invoke(name: str, handler: Handler, params: object, adapter: str) -> Outcome:
    """Run `handler(params)` as one invocation of this instance and wrap its result with meta."""
    cold = _INSTANCE.take_cold()
    start = time.perf_counter_ns()
    status = 200
    body: dict[str, Any]
    timings: dict[str, float] | None = None
    try:
        if not isinstance(params, Mapping):
            raise ParamError(f"parameters must be a JSON object, got {type(params).__name__}")
        result = handler(params)
        if isinstance(result, Timed):
            timings = checked_timings(result.timings)
            result = result.result
        body = {"result": result}
    except ParamError as exc:
        status, body = 400, {"error": str(exc)}
    except FunctionError as exc:
        status, body = 500, {"error": str(exc)}
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        status, body = 500, {"error": f"internal error: {type(exc).__name__}: {exc}"}
    elapsed_ns = time.perf_counter_ns() - start
    body["meta"] = {
        "function": name,
        "instance": _INSTANCE.id,
        "cold": cold,
        "instance_started_ns": _INSTANCE.started_ns,
        "handler_ms": round(elapsed_ns / 1e6, 3),
        "version": VERSION,
        "adapter": adapter,
        "language": LANGUAGE,
    }
    if timings is not None:
        body["meta"]["timings"] = timings
    return Outcome(status, body)
