"""The experiment kinds of a campaign file (users, replicas, autoscaling, rates, stages, trace,
multi-trace, cold, enqueue) and the field types they share with the file's model (`config.py`)."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from functions._registry import Language
from loadgen.bounds import (
    InactivitySeconds,
    Rate,
    Requests,
    Seconds,
    Seed,
    Users,
    WarmupSeconds,
)
from loadgen.experiments.multitrace import MAX_SAMPLE, MIN_MEMORY_MB
from loadgen.userfiles import excerpt

STRICT = ConfigDict(frozen=True, extra="forbid")
#: Campaign and experiment names.
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
MAX_LIST = 1000
"""Sweep values and functions per experiment, experiments per campaign."""


Count = Annotated[int, Field(strict=True, ge=1, le=1000)]
Replicas = Annotated[int, Field(strict=True, ge=1, le=1000)]
ChunkRequests = Annotated[int, Field(strict=True, ge=1, le=100_000)]
Minute = Annotated[int, Field(strict=True, ge=1, le=1440)]


def _unique(values: list[Any]) -> list[Any]:
    """Sweep values become cell ids: the same value twice would be one cell measured twice."""
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise ValueError(f"values must be unique: {excerpt(value)} appears twice")
        seen.append(value)
    return values


def Unique(item: Any, *, min_length: int = 1) -> Any:
    """A list of `item`, at least `min_length` long, at most MAX_LIST, no value twice."""
    return Annotated[
        list[item],  # type: ignore[valid-type]
        Field(min_length=min_length, max_length=MAX_LIST),
        AfterValidator(_unique),
    ]


def path_text(value: object) -> str:
    """A path from the file, as text: not empty, no NUL, not longer than a path may be."""
    if not isinstance(value, str):
        raise ValueError(f"expected a path (text), got {type(value).__name__}")
    if not value.strip():
        raise ValueError("must not be empty")
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    if len(value) > 4096 or any(len(part) > 255 for part in PurePath(value).parts):
        raise ValueError("is too long for a path")
    return value


FilePath = Annotated[Path, BeforeValidator(path_text)]


#: How the experiment's cells invoke their functions (`loadgen.platforms.base.Invocation`).
InvocationKey = Literal["sync", "async", "web"]
#: How long after a segment's last submission its asynchronous calls may still complete.
CompletionDeadline = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=3600)]
#: A function's memory limit in MiB (OpenWhisk action memory, the Kubernetes memory limit of
#: OpenFaaS, Knative and KEDA functions); what the campaign deployed before the key existed.
MemoryMb = Annotated[int, Field(strict=True, ge=64, le=65_536)]
DEFAULT_MEMORY_MB = 256
DEFAULT_LANGUAGE: Language = "python"
#: Bytes of input a function is given through its `input_size` parameter.
InputSize = Annotated[int, Field(strict=True, ge=1, le=1 << 30)]


class _Experiment(BaseModel):
    model_config = STRICT

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    functions: Unique(str)  # type: ignore[valid-type]
    replicas: Replicas = Field(1, description="replicas while the experiment runs")
    invocation: InvocationKey = Field(
        "sync",
        description="sync: wait for the result; async: submit, measure to completion; "
        "web: OpenWhisk's web-action path",
    )
    completion_deadline_s: CompletionDeadline = Field(
        60, description="async: how long after a segment's last submission calls may complete"
    )
    languages: Unique(Language) = Field(  # type: ignore[valid-type]
        [DEFAULT_LANGUAGE],
        description="the implementations measured (a cell each): python, node, go, java",
    )
    memory_mb: Unique(MemoryMb) = Field(  # type: ignore[valid-type]
        [DEFAULT_MEMORY_MB], description="the function's memory limits in MiB (a cell each)"
    )
    input_sizes: Unique(InputSize) | None = Field(  # type: ignore[valid-type]
        None,
        description="bytes given as the function's `input_size` parameter (a cell each); "
        "only for functions that declare it",
    )

    @model_serializer(mode="wrap")
    def _without_default_dimensions(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The dimensions at their defaults are left out of the dump, so a file without them
        keeps the settings, and the config hash a campaign resumes by, it always had."""
        data = handler(self)
        for key, default in (
            ("languages", [DEFAULT_LANGUAGE]),
            ("memory_mb", [DEFAULT_MEMORY_MB]),
            ("input_sizes", None),
            ("max_memory_mb", None),
        ):
            if key in data and data[key] == default:
                del data[key]
        return data


def _users_within_requests(users: list[int], requests: int) -> None:
    larger = [value for value in users if value > requests]
    if larger:
        raise ValueError(
            f"users {larger[0]} > requests {requests}: a closed loop cannot keep more users "
            "busy than it has requests"
        )


class ClosedSweep(_Experiment):
    """Closed loop: each users value for `requests` requests in total (faas-exp's user sweep)."""

    kind: Literal["users"]
    users: Unique(Users)  # type: ignore[valid-type]
    requests: Requests
    warmup_s: WarmupSeconds = 0

    @model_validator(mode="after")
    def _enough_requests(self) -> ClosedSweep:
        _users_within_requests(self.users, self.requests)
        return self


class ReplicaSweep(_Experiment):
    """Fixed replicas with autoscaling off, each replicas value under the same closed load."""

    kind: Literal["replicas"]
    replicas: Unique(Replicas)  # type: ignore[valid-type, assignment]
    users: Users
    requests: Requests

    @model_validator(mode="after")
    def _enough_requests(self) -> ReplicaSweep:
        _users_within_requests([self.users], self.requests)
        return self


class Autoscaling(_Experiment):
    """Closed load with the platform's autoscaler on, starting from `replicas`."""

    kind: Literal["autoscaling"]
    users: Users
    duration_s: Seconds


def _sends_something(rate: float, duration_s: float) -> None:
    if rate * duration_s < 1:
        raise ValueError(
            f"rate {rate:g}/s for {duration_s:g} s is less than one request: raise the rate "
            "or the duration"
        )


class OpenRates(_Experiment):
    """Open loop: each rate (requests/s) for `duration_s`, constant or Poisson arrivals."""

    kind: Literal["rates"]
    rates: Unique(Rate)  # type: ignore[valid-type]
    duration_s: Seconds
    arrival: Literal["constant", "poisson"] = "poisson"

    @model_validator(mode="after")
    def _each_rate_sends(self) -> OpenRates:
        _sends_something(min(self.rates), self.duration_s)
        return self


class Stage(BaseModel):
    model_config = STRICT

    rate: Rate
    duration_s: Seconds

    @model_validator(mode="after")
    def _sends(self) -> Stage:
        _sends_something(self.rate, self.duration_s)
        return self


class Stages(_Experiment):
    """An open-loop ramp: stages back to back, no reset between them."""

    kind: Literal["stages"]
    stages: list[Stage] = Field(min_length=1, max_length=MAX_LIST)
    arrival: Literal["constant", "poisson"] = "poisson"


class Trace(_Experiment):
    """Replay of per-minute invocation counts (Azure Functions 2019 layout): each trace
    function drives one suite function, minutes scaled and cut to a window."""

    kind: Literal["trace"]
    file: FilePath
    mapping: dict[str, Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        min_length=1, description="suite function -> HashFunction of a trace row"
    )
    scale: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1000)] = 1.0
    start_minute: Minute = 1
    minutes: Minute
    minute_s: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=60)] = Field(
        60, description="seconds a trace minute lasts"
    )

    @model_validator(mode="after")
    def _mapping_matches_functions(self) -> Trace:
        if set(self.mapping) != set(self.functions):
            raise ValueError("mapping must name exactly the experiment's functions")
        if self.start_minute + self.minutes - 1 > 1440:
            raise ValueError("the window ends after minute 1440 of the trace day")
        return self


class MultiTrace(_Experiment):
    """Many trace functions at once (Azure Functions 2019 layout): `sample` functions drawn
    evenly from `strata` invocation-count strata, each deployed as its own `synthetic`
    function (its durations and memory from the trace), their per-minute counts replayed
    concurrently, minute by minute (`loadgen.experiments.multitrace`)."""

    kind: Literal["multi-trace"]
    functions: Unique(str) = ["synthetic"]  # type: ignore[valid-type]
    invocations: FilePath = Field(description="invocations_per_function_md.anon.d<NN>.csv")
    durations: FilePath = Field(description="function_durations_percentiles.anon.d<NN>.csv")
    memory: FilePath = Field(description="app_memory_percentiles.anon.d<NN>.csv")
    sample: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLE)] = Field(
        description="trace functions deployed and replayed at once"
    )
    strata: Annotated[int, Field(strict=True, ge=1, le=MAX_SAMPLE)] = Field(
        4, description="invocation-count strata the sample is spread evenly over"
    )
    seed: Seed | None = Field(None, description="the sample's seed; default the campaign's")
    scale: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=1000)] = 1.0
    start_minute: Minute = 1
    minutes: Minute
    minute_s: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=1, le=60)] = Field(
        60, description="seconds a trace minute lasts"
    )
    max_memory_mb: MemoryMb | None = Field(
        None,
        description="the most memory (MiB) a sampled function is deployed with; those the trace "
        "gives more get this, their calls allocating at most this less the runtime's 64 MB",
    )

    @model_validator(mode="after")
    def _consistent(self) -> MultiTrace:
        if list(self.functions) != ["synthetic"]:
            raise ValueError("functions: a multi-trace experiment deploys synthetic only")
        if self.strata > self.sample:
            raise ValueError(
                f"strata {self.strata} > sample {self.sample}: every stratum needs a function"
            )
        if self.start_minute + self.minutes - 1 > 1440:
            raise ValueError("the window ends after minute 1440 of the trace day")
        if self.invocation != "sync":
            raise ValueError("invocation: a multi-trace experiment replays sync calls only")
        if list(self.languages) != [DEFAULT_LANGUAGE]:
            raise ValueError("languages: a multi-trace experiment deploys synthetic in python")
        if list(self.memory_mb) != [DEFAULT_MEMORY_MB]:
            raise ValueError(
                "memory_mb: a multi-trace experiment takes each function's memory from the trace"
            )
        if self.input_sizes is not None:
            raise ValueError("input_sizes: synthetic declares no input_size")
        if self.max_memory_mb is not None and self.max_memory_mb < MIN_MEMORY_MB:
            raise ValueError(
                f"max_memory_mb: {self.max_memory_mb} MiB < {MIN_MEMORY_MB} MiB, the least a "
                "sampled function is deployed with"
            )
        return self


class Enqueue(_Experiment):
    """An open loop of jobs into a queue (KEDA's queue mode): each rate (jobs/s) for
    `duration_s`, then up to `drain_s` for the last completions; enqueue → completion latency
    per job, losses counted, backlog and replicas sampled every `sample_interval_s`."""

    kind: Literal["enqueue"]
    rates: Unique(Rate)  # type: ignore[valid-type]
    duration_s: Seconds
    arrival: Literal["constant", "poisson"] = "poisson"
    drain_s: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=0, le=3600)] = 120.0
    sample_interval_s: Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0, le=60)] = 1.0

    @model_validator(mode="after")
    def _each_rate_sends(self) -> Enqueue:
        _sends_something(min(self.rates), self.duration_s)
        return self


class ColdStarts(_Experiment):
    """Cold starts: `forced` (the platform adapter's method, `count` times a run) or
    `natural` (idle for the platform's reaping timeout, then a chunk of requests, `chunks`
    times: faas-exp's chunks_number / inactivity_duration)."""

    kind: Literal["cold"]
    method: Literal["forced", "natural"]
    count: Count = Field(5, description="forced: cold starts per run")
    chunks: Count = Field(3, description="natural: chunks per run")
    chunk_requests: ChunkRequests = 1
    inactivity_s: InactivitySeconds | None = Field(
        None, description="natural: idle time; default the platform's timeout + 30 s"
    )


Experiment = Annotated[
    ClosedSweep
    | ReplicaSweep
    | Autoscaling
    | OpenRates
    | Stages
    | Trace
    | MultiTrace
    | ColdStarts
    | Enqueue,
    Field(discriminator="kind"),
]


KINDS = frozenset(
    {
        "users",
        "replicas",
        "autoscaling",
        "rates",
        "stages",
        "trace",
        "multi-trace",
        "cold",
        "enqueue",
    }
)
