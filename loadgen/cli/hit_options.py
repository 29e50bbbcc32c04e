"""`loadgen hit`'s options turned into the engine's models (request, workload, engine options,
thresholds), each problem named by the option that set it."""

import secrets
from dataclasses import dataclass
from typing import Literal

import typer
from pydantic import ValidationError

from loadgen.cli.params import callback_endpoint, parse_header, parse_seconds, usage_error
from loadgen.engine import CORRELATION_HEADERS, EngineOptions, RequestSpec
from loadgen.metrics.thresholds import Threshold, ThresholdError, parse_threshold
from loadgen.processes.coordinator import capacity_problem, default_processes
from loadgen.userfiles import excerpt
from loadgen.workload.spec import ClosedLoop, OpenLoop

DEFAULT_USERS = 50
DEFAULT_TOTAL = 200

_REQUEST_FIELD_OPTIONS = {"url": "URL", "method": "--method", "headers": "--header"}
#: The option that set each field of the workload and engine models (their bounds are
#: `loadgen.bounds`'s, shared with campaign files).
_FIELD_OPTIONS = {
    "users": "--users",
    "total": "--requests",
    "duration_s": "--duration",
    "warmup_s": "--warmup",
    "rate": "--rate",
    "seed": "--seed",
    "max_inflight": "--max-inflight",
    "timeout_s": "--timeout",
    "connect_timeout_s": "--connect-timeout",
    "capture_headers": "--capture-header",
    "processes": "--processes",
}


@dataclass(frozen=True)
class AsyncOptions:
    """--callback, --callback-url and --completion-deadline, checked."""

    listen: tuple[str, int]
    url: str | None
    deadline_s: float

    @classmethod
    def of(cls, callback: str, url: str | None, deadline: str) -> "AsyncOptions":
        listen, url = callback_endpoint(callback, url)
        deadline_s = parse_seconds(deadline, "--completion-deadline")
        if deadline_s is None or deadline_s <= 0:
            raise usage_error("--completion-deadline", "must be more than 0 s")
        return cls(listen, url, deadline_s)


def check_capacity(workload: ClosedLoop | OpenLoop, processes: int | None) -> None:
    """Refuse a workload the processes cannot drive, naming the option to change."""
    problem = capacity_problem(workload, processes or default_processes())
    if problem is not None:
        field, message = problem
        raise usage_error(_FIELD_OPTIONS.get(field, "--processes"), message)


def _invalid(exc: ValidationError) -> typer.BadParameter:
    """The first problem of a workload or engine model, named by the option that set it."""
    error = exc.errors(include_input=False)[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return usage_error(_FIELD_OPTIONS.get(field, "--requests"), message)


def parse_thresholds(expressions: list[str]) -> list[Threshold]:
    """The --threshold expressions."""
    try:
        return [parse_threshold(expression) for expression in expressions]
    except ThresholdError as exc:
        raise usage_error("--threshold", str(exc)) from None


def request_spec(url: str, method: str, headers: list[str], body: bytes) -> RequestSpec:
    """The request URL, --method, --header and the body make."""
    parsed = tuple(parse_header(text) for text in headers)
    try:
        return RequestSpec(url=url, method=method, headers=parsed, body=body)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "headers"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise usage_error(_REQUEST_FIELD_OPTIONS.get(field, "--header"), message) from None


def workload_of(
    *,
    users: int | None,
    total: int | None,
    rate: float | None,
    duration: float | None,
    warmup: float,
    arrival: Literal["constant", "poisson"] | None,
    seed: int | None,
    max_inflight: int | None,
    on_saturation: Literal["queue", "drop"] | None,
) -> ClosedLoop | OpenLoop:
    """The closed loop (-c/-n/--duration) or the open loop (--rate) the options describe."""
    if total is not None and duration is not None:
        raise usage_error("--duration", "give either -n/--requests or --duration, not both")
    if duration is not None and duration <= 0:
        raise usage_error("--duration", "must be more than zero")
    if rate is not None and not rate > 0:
        raise usage_error("--rate", "must be more than zero")
    if rate is None:
        open_only = {
            "--arrival": arrival,
            "--seed": seed,
            "--max-inflight": max_inflight,
            "--on-saturation": on_saturation,
        }
        for option, value in open_only.items():
            if value is not None:
                raise usage_error(option, "applies to the open loop only; add --rate")
        if total is None and duration is None:
            total = max(DEFAULT_TOTAL, users or 0)
        if users is None:
            users = DEFAULT_USERS if total is None else min(DEFAULT_USERS, total)
        elif total is not None and users > total:
            raise usage_error(
                "--users",
                f"{users} users > {total} requests: a closed loop cannot keep more users busy "
                "than it has requests",
            )
        try:
            return ClosedLoop(users=users, total=total, duration_s=duration, warmup_s=warmup)
        except ValidationError as exc:
            raise _invalid(exc) from None
    if users is not None:
        raise usage_error("--users", "is for the closed loop; --rate selects the open loop")
    if total is None and duration is None:
        raise usage_error("--rate", "needs --duration or -n/--requests to know when to stop")
    try:
        return OpenLoop(
            rate=rate,
            total=total,
            duration_s=duration,
            arrival=arrival or "constant",
            seed=seed if seed is not None else secrets.randbelow(2**31),
            max_inflight=max_inflight or OpenLoop.model_fields["max_inflight"].default,
            on_saturation=on_saturation or "queue",
            warmup_s=warmup,
        )
    except ValidationError as exc:
        raise _invalid(exc) from None


def engine_options(
    *,
    timeout: float | None,
    connect_timeout: float | None,
    insecure: bool,
    capture: list[str],
    ok: frozenset[int] | None = None,
) -> EngineOptions:
    """The engine's timeouts, TLS, captured headers and ok statuses."""
    if timeout is None or timeout <= 0:
        raise usage_error("--timeout", "must be more than zero")
    if connect_timeout is not None and connect_timeout <= 0:
        raise usage_error("--connect-timeout", "must be more than zero")
    for name in capture:
        if not name.strip() or ":" in name:
            raise usage_error("--capture-header", f"expected a header name, got {excerpt(name)}")
    try:
        return EngineOptions(
            timeout_s=timeout,
            connect_timeout_s=connect_timeout,
            verify_tls=not insecure,
            capture_headers=(*CORRELATION_HEADERS, *capture),
            **({} if ok is None else {"ok_statuses": ok}),
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
