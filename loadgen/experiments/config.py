"""The campaign file's model: what a campaign runs (functions, experiments, repetitions),
validated before anything starts.

It covers what faas-exp's configuration did (runs, delays, user and replica sweeps, random
matrix sizes, cold-start chunks after inactivity) and adds open-loop rates, stage ramps, trace
replay and forced cold starts. Every model forbids unknown keys, so a typo is an error naming
its path, never a silently ignored setting. The experiment kinds are in `kinds.py`;
docs/experiments.md is the reference.
"""

from __future__ import annotations

import math
import re
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    field_validator,
    model_validator,
)

from contract.keda_objects import Scaling
from contract.knative import KnativeKnobs
from functions._params import ParamError
from functions._registry import FUNCTION_NAMES, LANGUAGE_FUNCTIONS, parameters
from loadgen.bounds import (
    Flag,
    IdleSeconds,
    Processes,
    Seed,
    TimeoutSeconds,
)
from loadgen.experiments.kinds import (
    KINDS,
    MAX_LIST,
    NAME_PATTERN,
    STRICT,
    Count,
    Experiment,
    Unique,
    path_text,
)
from loadgen.userfiles import excerpt, shorten

#: The parameter an experiment's `input_sizes` sets, in bytes.
INPUT_SIZE_PARAM = "input_size"
#: Functions that call others through the gateway, and what they call by default.
DEFAULT_DEPENDENCIES = {"chain": ("matrix",)}
#: What the platforms accept as an environment variable's name (POSIX, portable).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ENV_VARIABLES = 64
MAX_ENV_VALUE = 32 * 1024
MAX_BODY = 1024 * 1024
MAX_PARAM_TEXT = 64 * 1024
MAX_INT64 = 2**63 - 1


def _relative_inside(value: object) -> str:
    """A results directory from the file: relative, and no `..` (it stays in the working
    directory; `loadgen run --results` may point anywhere)."""
    text = path_text(value)
    path = PurePath(text)
    if path.is_absolute() or text.startswith("~"):
        raise ValueError(
            "must be a relative path inside the working directory (use --results for another place)"
        )
    if ".." in path.parts:
        raise ValueError("must stay inside the working directory: no '..'")
    return text


ResultsDir = Annotated[Path, BeforeValidator(_relative_inside)]


class RandomInt(BaseModel):
    """A value drawn per cell, uniformly in [min, max], from the campaign's seed (faas-exp's
    matrix `param` min/max): every run of a cell sends the same value, cells differ."""

    model_config = STRICT

    min: Annotated[int, Field(strict=True, ge=-MAX_INT64, le=MAX_INT64)]
    max: Annotated[int, Field(strict=True, ge=-MAX_INT64, le=MAX_INT64)]

    @model_validator(mode="after")
    def _ordered(self) -> RandomInt:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


def _param_value(value: object) -> object:
    """One error for a bad value (not one per branch of a union)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if len(value) > MAX_PARAM_TEXT:
            raise ValueError(f"text longer than {MAX_PARAM_TEXT} characters")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value}")
        return value
    if isinstance(value, RandomInt):
        return value
    if isinstance(value, dict):
        if set(value) != {"min", "max"}:
            raise ValueError(
                "a range is {min: INTEGER, max: INTEGER}, got keys "
                f"{shorten(', '.join(map(str, value)))}"
            )
        low, high = value["min"], value["max"]
        for bound in (low, high):
            if isinstance(bound, bool) or not isinstance(bound, int):
                raise ValueError(f"a range's min and max are integers, got {excerpt(bound)}")
            if abs(bound) > MAX_INT64:
                raise ValueError(f"a range's min and max must be within ±{MAX_INT64}")
        if low > high:
            raise ValueError(f"min {low} is greater than max {high}")
        return RandomInt(min=low, max=high)
    raise ValueError(
        "expected a string, number, boolean, null or a range {min, max}, got a "
        f"{type(value).__name__}"
    )


ParamValue = Annotated[
    Any,
    PlainValidator(_param_value),
    PlainSerializer(
        lambda value: value.model_dump() if isinstance(value, RandomInt) else value,
        return_type=Any,
    ),
]


def _env(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping NAME: value, got a {type(value).__name__}")
    if len(value) > MAX_ENV_VARIABLES:
        raise ValueError(f"at most {MAX_ENV_VARIABLES} variables")
    for name, text in value.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name) or len(name) > 128:
            raise ValueError(
                f"variable name {excerpt(name)} is not a POSIX name "
                "(letters, digits and _, not starting with a digit)"
            )
        if not isinstance(text, str):
            raise ValueError(f"{name}: the value must be text (quote it), got {excerpt(text)}")
        if "\x00" in text:
            raise ValueError(f"{name}: the value must not contain a NUL character")
        if len(text) > MAX_ENV_VALUE:
            raise ValueError(f"{name}: the value is longer than {MAX_ENV_VALUE} characters")
    return value


class FunctionConfig(BaseModel):
    """One function of the suite as the campaign deploys and calls it."""

    model_config = STRICT

    params: dict[str, ParamValue] = Field({}, max_length=100)
    body: Annotated[str, Field(max_length=MAX_BODY)] | None = Field(
        None, description="raw request body instead of params as JSON"
    )
    env: Annotated[dict[str, str], PlainValidator(_env)] = {}
    depends_on: Unique(str, min_length=0) | None = Field(  # type: ignore[valid-type]
        None, description="functions deployed with this one (chain: matrix by default)"
    )
    sequence: Flag = Field(
        False,
        description="chain on OpenWhisk: a native sequence of depends_on instead of nested calls",
    )
    knative: KnativeKnobs | None = Field(
        None, description="Knative: the Service's autoscaling knobs (class, scale, target, ...)"
    )

    @model_validator(mode="after")
    def _params_or_body(self) -> FunctionConfig:
        if self.body is not None and self.params:
            raise ValueError("give params or body, not both")
        return self


class Timeouts(BaseModel):
    model_config = STRICT

    deploy_s: TimeoutSeconds = 300
    ready_s: TimeoutSeconds = 300
    request_s: TimeoutSeconds = 330


class ExperimentConfig(BaseModel):
    """A campaign: functions, experiments, repetitions."""

    model_config = STRICT

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    runs: Count = Field(1, alias="number_of_runs")
    delay_between_runs_s: IdleSeconds = 0
    seed: Seed = 0
    order: Literal["sequential", "shuffled"] = "sequential"
    results_dir: ResultsDir | None = None
    processes: Processes | None = Field(None, description="default: one per core")
    timeouts: Timeouts = Timeouts()
    functions: dict[str, FunctionConfig] = Field(min_length=1)
    experiments: list[Experiment] = Field(min_length=1, max_length=MAX_LIST)
    keda: Scaling | None = Field(
        None, description="framework keda: how KEDA scales each function (polling, cooldown...)"
    )

    @field_validator("functions")
    @classmethod
    def _suite_functions(cls, value: dict[str, FunctionConfig]) -> dict[str, FunctionConfig]:
        unknown = sorted(set(value) - set(FUNCTION_NAMES))
        if unknown:
            raise ValueError(
                f"unknown function(s) {shorten(', '.join(unknown))}; the suite has "
                f"{', '.join(sorted(FUNCTION_NAMES))}"
            )
        return value

    @model_validator(mode="after")
    def _references(self) -> ExperimentConfig:
        """Rules across fields; every problem on its own line, each naming its path."""
        problems: list[str] = []
        names = [e.name for e in self.experiments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(
                f"experiments: experiment names must be unique: {', '.join(duplicates)}"
            )
        for index, experiment in enumerate(self.experiments):
            missing = [f for f in experiment.functions if f not in self.functions]
            if missing:
                problems.append(
                    f"experiments.{index}.functions: experiment {experiment.name} uses "
                    f"{shorten(', '.join(missing))}, not listed under functions"
                )
            problems += self._dimension_problems(index)
        for name, function in self.functions.items():
            if function.sequence and name != "chain":
                problems.append(f"functions.{name}.sequence: only chain can be a sequence")
            for dependency in function.depends_on or ():
                if dependency not in FUNCTION_NAMES:
                    problems.append(
                        f"functions.{name}.depends_on: unknown function {excerpt(dependency)}"
                    )
            problems += param_problems(name, function)
        if not problems:
            problems += self._cycles()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _dimension_problems(self, index: int) -> list[str]:
        """`languages` each function is written in; `input_sizes` for functions that declare an
        `input_size` parameter accepting every size, and take it from nowhere else."""
        experiment = self.experiments[index]
        problems = []
        for language in experiment.languages:
            unwritten = [
                f
                for f in experiment.functions
                if f in FUNCTION_NAMES and f not in LANGUAGE_FUNCTIONS[language]
            ]
            if unwritten:
                problems.append(
                    f"experiments.{index}.languages: {language} has no implementation of "
                    f"{', '.join(unwritten)} ({language} has "
                    f"{', '.join(LANGUAGE_FUNCTIONS[language])})"
                )
        if experiment.input_sizes is None:
            return problems
        where = f"experiments.{index}.input_sizes"
        for function in experiment.functions:
            if function not in FUNCTION_NAMES:
                continue  # reported above as not a suite function
            param = next(
                (p for p in parameters(function) or () if p.name == INPUT_SIZE_PARAM), None
            )
            if param is None:
                problems.append(
                    f"{where}: {function} declares no {INPUT_SIZE_PARAM} parameter "
                    "(input sizes apply only to functions that take one)"
                )
                continue
            configured = self.functions.get(function)
            if configured is not None and configured.body is not None:
                problems.append(f"{where}: {function} sends a raw body, which has no parameters")
            elif configured is not None and INPUT_SIZE_PARAM in configured.params:
                problems.append(
                    f"{where}: functions.{function}.params sets {INPUT_SIZE_PARAM} too: "
                    "give one or the other"
                )
            for size in experiment.input_sizes:
                try:
                    param.check(size)
                except ParamError as exc:
                    problems.append(f"{where}: {function}: {exc}")
                    break
        return problems

    def _cycles(self) -> list[str]:
        """A function that depends, directly or not, on itself would be deployed forever."""
        problems = []
        for name in self.functions:
            path = self._cycle_from(name)
            if path:
                problems.append(
                    f"functions.{name}.depends_on: a dependency cycle: {' -> '.join(path)}"
                )
        return problems

    def _cycle_from(self, start: str) -> list[str] | None:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        seen: set[str] = set()
        while stack:
            current, path = stack.pop()
            for dependency in self._direct(current):
                if dependency == start:
                    return [*path, dependency]
                if dependency not in seen:
                    seen.add(dependency)
                    stack.append((dependency, [*path, dependency]))
        return None

    def _direct(self, function: str) -> tuple[str, ...]:
        configured = self.functions.get(function)
        if configured is not None and configured.depends_on is not None:
            return tuple(configured.depends_on)
        return DEFAULT_DEPENDENCIES.get(function, ())

    def dependencies(self, function: str) -> tuple[str, ...]:
        return self._direct(function)


def param_problems(name: str, function: FunctionConfig) -> list[str]:
    """`functions.<name>.params` against what the function declares (functions/<name>.py):
    unknown parameters, wrong types, values or random ranges out of bounds."""
    declared = parameters(name)
    if declared is None or not function.params:
        return []
    by_name = {param.name: param for param in declared}
    problems = []
    for key, value in function.params.items():
        where = f"functions.{name}.params.{shorten(key, 40)}"
        param = by_name.get(key)
        if param is None:
            takes = ", ".join(sorted(by_name)) or "none"
            problems.append(f"{where}: {name} takes no such parameter (it takes {takes})")
            continue
        if isinstance(value, RandomInt):
            if not param.integer:
                problems.append(f"{where}: a random range needs an integer parameter")
                continue
            candidates: list[object] = [value.min, value.max]
        else:
            candidates = [value]
        for candidate in candidates:
            try:
                param.check(candidate)
            except ParamError as exc:
                problems.append(f"{where}: {exc}")
                break
    return problems


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
        if parts and parts[-1] == "[key]":  # a mapping's key, not its value
            parts.pop()
            message = f"as a name: {message}"
        where = shorten(".".join(parts), 120)
        for line in message.splitlines() or [""]:
            if not where and _NAMES_ITS_PATH.match(line):
                lines.append(shorten(line, 300))
            else:
                lines.append(f"{where or '(top level)'}: {shorten(line, 300)}")
    return lines


#: A model-level message that starts with the path it is about (`functions.echo.sequence: ...`).
_NAMES_ITS_PATH = re.compile(r"^(functions|experiments)[.:]")
