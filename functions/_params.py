"""Parameter parsing shared by the functions: strict types, explicit bounds, clear messages.

Values may arrive as JSON numbers (POST bodies, OpenWhisk) or as strings (GET query strings), so
numeric parsers accept both; booleans are never taken for numbers. A bad value raises
`ParamError`, which every adapter turns into a client error (HTTP 400, OpenWhisk `error`) instead
of a traceback.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any


class ParamError(ValueError):
    """The caller sent a missing, mistyped or out-of-range parameter."""


class FunctionError(RuntimeError):
    """The function ran but failed (a download mismatch, an unreachable callee)."""


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
            raise ParamError(f"{name} must be an integer, got {value!r}") from None
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
            raise ParamError(f"{name} must be a number, got {value!r}") from None
    else:
        raise ParamError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(number) or not low <= number <= high:
        raise ParamError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
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
