"""`completions.jsonl`: one line per completed asynchronous call, written as each completes
(by the callback receiver, or from the platform's activation records)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

COMPLETIONS_FILE = "completions.jsonl"


class Completion(BaseModel):
    """One callback, as `completions.jsonl` holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str
    #: CLOCK_MONOTONIC when the call completed (ns): a callback's arrival, or an activation's
    #: end mapped onto this machine's clock.
    received_ns: int
    #: The same instant as Unix time (ns).
    received_wall_ns: int
    function: str | None = None
    #: The function's HTTP status (`X-Function-Status`); None when the platform sent none.
    function_status: int | None = None
    #: The call's duration as the platform measured it (`X-Duration-Seconds`).
    duration_s: float | None = None
    #: From the suite's meta envelope in the body, or the platform's own record.
    cold: bool | None = None
    instance: str | None = None
    #: Where it came from: a callback the platform POSTed, or an activation record it listed
    #: (OpenWhisk), whose end is the platform's clock, not this machine's.
    source: Literal["callback", "activation"] = "callback"
    #: Platform-side phases, where the platform records them (OpenWhisk `waitTime`,
    #: `initTime`).
    wait_ms: float | None = None
    init_ms: float | None = None


class PollStats(BaseModel):
    """What listing a platform's records to find completions cost it (a segment's `listing`)."""

    model_config = ConfigDict(frozen=True)

    polls: int
    requests: int
    elapsed_s: float
    #: Listing requests per second over the wait.
    rate_per_s: float
    min_interval_s: float


def read_completions(path: Path) -> list[Completion]:
    """`completions.jsonl` as written (a torn last line, from a crash, is left out)."""
    completions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            completions.append(Completion.model_validate_json(line))
        except ValueError:
            continue
    return completions
