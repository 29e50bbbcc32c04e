"""The experiment file (YAML): what a campaign runs, validated before anything starts.

It covers what faas-exp's configuration did (runs, delays, user and replica sweeps, random
matrix sizes, cold-start chunks after inactivity) and adds open-loop rates, stage ramps, trace
replay and forced cold starts. Every model forbids unknown keys, so a typo is an error naming
its path, never a silently ignored setting. docs/experiments.md is the reference.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from functions._registry import FUNCTION_NAMES

_STRICT = ConfigDict(frozen=True, extra="forbid")
_NAME = r"^[a-z][a-z0-9-]{0,39}$"
#: Functions that call others through the gateway, and what they call by default.
DEFAULT_DEPENDENCIES = {"chain": ("matrix",)}


class RandomInt(BaseModel):
    """A value drawn per cell, uniformly in [min, max], from the campaign's seed (faas-exp's
    matrix `param` min/max): every run of a cell sends the same value, cells differ."""

    model_config = _STRICT

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> RandomInt:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


ParamValue = str | int | float | bool | None | RandomInt


class FunctionConfig(BaseModel):
    """One function of the suite as the campaign deploys and calls it."""

    model_config = _STRICT

    params: dict[str, ParamValue] = {}
    body: str | None = Field(None, description="raw request body instead of params as JSON")
    env: dict[str, str] = {}
    depends_on: list[str] | None = Field(
        None, description="functions deployed with this one (chain: matrix by default)"
    )
    sequence: bool = Field(
        False,
        description="chain on OpenWhisk: a native sequence of depends_on instead of nested calls",
    )

    @model_validator(mode="after")
    def _params_or_body(self) -> FunctionConfig:
        if self.body is not None and self.params:
            raise ValueError("give params or body, not both")
        return self


class Timeouts(BaseModel):
    model_config = _STRICT

    deploy_s: float = Field(300, gt=0, le=3600)
    ready_s: float = Field(300, gt=0, le=3600)
    request_s: float = Field(330, gt=0, le=3600)


class _Experiment(BaseModel):
    model_config = _STRICT

    name: Annotated[str, Field(pattern=_NAME)]
    functions: list[str] = Field(min_length=1)
    replicas: int = Field(1, ge=1, le=1000, description="replicas while the experiment runs")


class ClosedSweep(_Experiment):
    """Closed loop: each users value for `requests` requests in total (faas-exp's user sweep)."""

    kind: Literal["users"]
    users: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(min_length=1)
    requests: int = Field(ge=1)
    warmup_s: float = Field(0, ge=0)


class ReplicaSweep(_Experiment):
    """Fixed replicas with autoscaling off, each replicas value under the same closed load."""

    kind: Literal["replicas"]
    replicas: list[Annotated[int, Field(ge=1, le=1000)]] = Field(min_length=1)  # type: ignore[assignment]
    users: int = Field(ge=1)
    requests: int = Field(ge=1)


class Autoscaling(_Experiment):
    """Closed load with the platform's autoscaler on, starting from `replicas`."""

    kind: Literal["autoscaling"]
    users: int = Field(ge=1)
    duration_s: float = Field(gt=0)


class OpenRates(_Experiment):
    """Open loop: each rate (requests/s) for `duration_s`, constant or Poisson arrivals."""

    kind: Literal["rates"]
    rates: list[Annotated[float, Field(gt=0, le=1_000_000)]] = Field(min_length=1)
    duration_s: float = Field(gt=0)
    arrival: Literal["constant", "poisson"] = "poisson"


class Stage(BaseModel):
    model_config = _STRICT

    rate: float = Field(gt=0, le=1_000_000)
    duration_s: float = Field(gt=0)


class Stages(_Experiment):
    """An open-loop ramp: stages back to back, no reset between them."""

    kind: Literal["stages"]
    stages: list[Stage] = Field(min_length=1)
    arrival: Literal["constant", "poisson"] = "poisson"


class Trace(_Experiment):
    """Replay of per-minute invocation counts (Azure Functions 2019 layout): each trace
    function drives one suite function, minutes scaled and cut to a window."""

    kind: Literal["trace"]
    file: Path
    mapping: dict[str, str] = Field(
        min_length=1, description="suite function -> HashFunction of a trace row"
    )
    scale: float = Field(1.0, gt=0, le=1000)
    start_minute: int = Field(1, ge=1, le=1440)
    minutes: int = Field(ge=1, le=1440)
    minute_s: float = Field(60, gt=0, le=60, description="seconds a trace minute lasts")

    @model_validator(mode="after")
    def _mapping_matches_functions(self) -> Trace:
        if set(self.mapping) != set(self.functions):
            raise ValueError("mapping must name exactly the experiment's functions")
        if self.start_minute + self.minutes - 1 > 1440:
            raise ValueError("the window ends after minute 1440 of the trace day")
        return self


class ColdStarts(_Experiment):
    """Cold starts: `forced` (the platform adapter's method, `count` times a run) or
    `natural` (idle for the platform's reaping timeout, then a chunk of requests, `chunks`
    times: faas-exp's chunks_number / inactivity_duration)."""

    kind: Literal["cold"]
    method: Literal["forced", "natural"]
    count: int = Field(5, ge=1, le=1000, description="forced: cold starts per run")
    chunks: int = Field(3, ge=1, le=1000, description="natural: chunks per run")
    chunk_requests: int = Field(1, ge=1, le=100_000)
    inactivity_s: float | None = Field(
        None, gt=0, description="natural: idle time; default the platform's timeout + 30 s"
    )


Experiment = Annotated[
    ClosedSweep | ReplicaSweep | Autoscaling | OpenRates | Stages | Trace | ColdStarts,
    Field(discriminator="kind"),
]


class ExperimentConfig(BaseModel):
    """A campaign: functions, experiments, repetitions."""

    model_config = _STRICT

    name: Annotated[str, Field(pattern=_NAME)]
    runs: int = Field(1, ge=1, le=1000, alias="number_of_runs")
    delay_between_runs_s: float = Field(0, ge=0, le=86_400)
    seed: int = 0
    order: Literal["sequential", "shuffled"] = "sequential"
    results_dir: Path | None = None
    processes: int | None = Field(None, ge=1, le=1024, description="default: one per core")
    timeouts: Timeouts = Timeouts()
    functions: dict[str, FunctionConfig] = Field(min_length=1)
    experiments: list[Experiment] = Field(min_length=1)

    @field_validator("functions")
    @classmethod
    def _suite_functions(cls, value: dict[str, FunctionConfig]) -> dict[str, FunctionConfig]:
        unknown = sorted(set(value) - set(FUNCTION_NAMES))
        if unknown:
            raise ValueError(
                f"unknown function(s) {', '.join(unknown)}; the suite has "
                f"{', '.join(sorted(FUNCTION_NAMES))}"
            )
        return value

    @model_validator(mode="after")
    def _references(self) -> ExperimentConfig:
        names = [e.name for e in self.experiments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"experiment names must be unique: {', '.join(duplicates)}")
        for experiment in self.experiments:
            missing = [f for f in experiment.functions if f not in self.functions]
            if missing:
                raise ValueError(
                    f"experiment {experiment.name} uses {', '.join(missing)}, not listed under "
                    "functions"
                )
        for name, function in self.functions.items():
            if function.sequence and name != "chain":
                raise ValueError(f"functions.{name}.sequence: only chain can be a sequence")
            for dependency in self.dependencies(name):
                if dependency not in FUNCTION_NAMES:
                    raise ValueError(f"function {name} depends on unknown {dependency}")
        return self

    def dependencies(self, function: str) -> tuple[str, ...]:
        configured = self.functions[function].depends_on
        if configured is not None:
            return tuple(configured)
        return DEFAULT_DEPENDENCIES.get(function, ())


KINDS = frozenset({"users", "replicas", "autoscaling", "rates", "stages", "trace", "cold"})


def config_problems(error: Any) -> list[str]:
    """pydantic's errors as `path: message` lines, the path as the YAML spells it (without
    the experiment kind pydantic inserts after a list index of a tagged union)."""
    lines = []
    for problem in error.errors():
        parts: list[str] = []
        loc = list(problem["loc"])
        for index, part in enumerate(loc):
            after_item = (
                index >= 2 and loc[index - 2] == "experiments" and isinstance(loc[index - 1], int)
            )
            if after_item and part in KINDS:
                continue
            parts.append(str(part))
        message = re.sub(r"^(Value|Assertion) error, ", "", problem["msg"])
        lines.append(f"{'.'.join(parts) or '(top level)'}: {message}")
    return lines
