"""How an engine treats responses: timeouts, TLS verification, what is ok, what to capture."""

import re
from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loadgen.bounds import TimeoutSeconds
from loadgen.userfiles import excerpt

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

CORRELATION_HEADERS: tuple[str, ...] = ("x-call-id", "x-openwhisk-activation-id")
"""Captured on every run: OpenFaaS and OpenWhisk ids that join requests to platform records."""

OkPredicate = Callable[[int], bool]

STATUS_RANGE = range(100, 1000)


def ok_statuses(predicate: OkPredicate) -> frozenset[int]:
    """Tabulate a status predicate so it can cross process boundaries and cost one lookup."""
    return frozenset(status for status in STATUS_RANGE if predicate(status))


def is_2xx(status: int) -> bool:
    return 200 <= status < 300


class EngineOptions(BaseModel):
    """Per-run engine settings, shared verbatim by every worker process."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: TimeoutSeconds = 30.0
    """Whole-request limit, from send (including any connect) to the last response byte."""
    connect_timeout_s: TimeoutSeconds | None = None
    """Limit on establishing a connection; defaults to `timeout_s`."""
    verify_tls: bool = True
    ok_statuses: frozenset[int] = Field(default_factory=lambda: ok_statuses(is_2xx))
    capture_headers: tuple[str, ...] = CORRELATION_HEADERS
    parse_meta: bool = True
    max_connecting: int = Field(default=256, ge=1)
    """Connections being opened at once; further requests wait for a free or new connection."""

    @field_validator("capture_headers")
    @classmethod
    def _normalise_capture(cls, names: Iterable[str]) -> tuple[str, ...]:
        seen: list[str] = []
        for name in names:
            key = name.strip().lower()
            if not key:
                raise ValueError("empty header name to capture")
            if not _TOKEN.fullmatch(key):
                raise ValueError(f"{excerpt(name)} is not a header name")
            if key not in seen:
                seen.append(key)
        if len(seen) > 255:
            raise ValueError("at most 255 headers can be captured")
        return tuple(seen)

    @property
    def effective_connect_timeout_s(self) -> float:
        if self.connect_timeout_s is None:
            return self.timeout_s
        return min(self.connect_timeout_s, self.timeout_s)
