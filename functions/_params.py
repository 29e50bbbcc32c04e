"""Parameter parsing shared by the functions: strict types, explicit bounds, clear messages.

Values may arrive as JSON numbers (POST bodies, OpenWhisk) or as strings (GET query strings), so
numeric parsers accept both; booleans are never taken for numbers. A bad value raises
`ParamError`, which every adapter turns into a client error (HTTP 400, OpenWhisk `error`) instead
of a traceback.

Each function declares the parameters it reads as `PARAMS`, a tuple of `Param` objects (or None:
any parameters, as `echo` takes), and reads them through those objects, so the declaration is the
parser: the load generator checks a campaign's `params` against the same objects before anything
is deployed (`loadgen validate`), and a parameter no function reads is refused there.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: How much of a bad value a message quotes.
_SHOWN = 60


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, (list, dict)) else type(value).__name__
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


class ParamError(ValueError):
    """The caller sent a missing, mistyped or out-of-range parameter."""


class FunctionError(RuntimeError):
    """The function ran but failed (a download mismatch, an unreachable callee)."""


@dataclass(frozen=True)
class Timed:
    """A handler's result with the time its stages took (name -> milliseconds); the runtime
    returns `result` and puts `timings` in `meta.timings`."""

    result: Any
    timings: Mapping[str, float]


def int_param(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """`params[name]` as an int in [low, high], or `default` when absent or null."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        raise ParamError(f"{name} must be an integer, got a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value.strip(), 10)
        except ValueError:
            raise ParamError(f"{name} must be an integer, got {_show(value)}") from None
    else:
        raise ParamError(f"{name} must be an integer, got {type(value).__name__}")
    if not low <= number <= high:
        raise ParamError(f"{name} must be between {low} and {high}, got {number}")
    return number


def float_param(
    params: Mapping[str, Any], name: str, default: float, low: float, high: float
) -> float:
    """`params[name]` as a finite float in [low, high], or `default` when absent or null."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        raise ParamError(f"{name} must be a number, got a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ParamError(f"{name} must be a number, got {_show(value)}") from None
    else:
        raise ParamError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(number) or not low <= number <= high:
        raise ParamError(f"{name} must be between {low:g} and {high:g}, got {_show(value)}")
    return number


def str_param(
    params: Mapping[str, Any], name: str, env: str | None = None, default: str | None = None
) -> str | None:
    """`params[name]`, else the environment variable `env`, else `default`; params override the
    environment so one deployment can be pointed elsewhere per call."""
    value = params.get(name)
    if value is None and env is not None:
        value = os.environ.get(env)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ParamError(f"{name} must be a string, got {type(value).__name__}")
    return value


def required(value: str | None, name: str, env: str | None = None) -> str:
    """`value`, or a `ParamError` saying where it could have come from."""
    if value is None or value == "":
        where = f"parameter {name!r}" + (f" or environment variable {env}" if env else "")
        raise ParamError(f"missing {where}")
    return value


class Param:
    """One parameter a function reads: `read` parses it from a call's parameters (its default
    when absent), `check` tells whether a value would be accepted."""

    kind = "any"
    #: Whether a random integer range (a campaign's `{min, max}`) can supply it.
    integer = False

    def __init__(self, name: str) -> None:
        self.name = name

    def read(self, params: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def check(self, value: Any) -> None:
        """`ParamError` when `value`, sent as this parameter, would be refused."""
        self.read({self.name: value})

    def describe(self) -> str:
        return f"{self.name} ({self.kind})"


class IntParam(Param):
    kind = "integer"
    integer = True

    def __init__(self, name: str, default: int, low: int, high: int) -> None:
        super().__init__(name)
        self.default, self.low, self.high = default, low, high

    def read(self, params: Mapping[str, Any]) -> int:
        return int_param(params, self.name, self.default, self.low, self.high)

    def describe(self) -> str:
        return f"{self.name} (integer {self.low}..{self.high}, default {self.default})"


class FloatParam(Param):
    kind = "number"

    def __init__(self, name: str, default: float, low: float, high: float) -> None:
        super().__init__(name)
        self.default, self.low, self.high = default, low, high

    def read(self, params: Mapping[str, Any]) -> float:
        return float_param(params, self.name, self.default, self.low, self.high)

    def describe(self) -> str:
        return f"{self.name} (number {self.low:g}..{self.high:g}, default {self.default:g})"


class TextParam(Param):
    """A string, else the environment variable `env`, else `default`; `choices` or `pattern`
    (described by `rule`) restrict it; control characters are always refused."""

    kind = "string"

    def __init__(
        self,
        name: str,
        env: str | None = None,
        default: str | None = None,
        choices: Sequence[str] = (),
        pattern: str | None = None,
        rule: str | None = None,
        max_length: int = 4096,
    ) -> None:
        super().__init__(name)
        self.env, self.default, self.choices = env, default, tuple(choices)
        self.pattern = re.compile(pattern) if pattern is not None else None
        self.rule = rule or (f"text matching {pattern}" if pattern is not None else "text")
        self.max_length = max_length

    def read(self, params: Mapping[str, Any]) -> str | None:
        value = str_param(params, self.name, self.env, self.default)
        if value is None:
            return None
        if len(value) > self.max_length:
            raise ParamError(f"{self.name} must be at most {self.max_length} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ParamError(f"{self.name} must not contain control characters")
        if self.choices and value not in self.choices:
            raise ParamError(
                f"{self.name} must be one of {', '.join(self.choices)}, got {_show(value)}"
            )
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ParamError(f"{self.name} must be {self.rule}, got {_show(value)}")
        return value

    def describe(self) -> str:
        if self.choices:
            return f"{self.name} (one of {', '.join(self.choices)})"
        return f"{self.name} (string)"


_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no", "")


class FlagParam(Param):
    """A boolean, or its spelling as a string (`true`, `1`, `yes`; `false`, `0`, `no`)."""

    kind = "boolean"

    def __init__(self, name: str, env: str | None = None, default: bool = False) -> None:
        super().__init__(name)
        self.env, self.default = env, default

    def read(self, params: Mapping[str, Any]) -> bool:
        value = params.get(self.name)
        if value is None and self.env is not None:
            value = os.environ.get(self.env)
        if value is None:
            return self.default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ParamError(f"{self.name} must be true or false, got {_show(value)}")
