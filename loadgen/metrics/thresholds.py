"""Pass/fail conditions on a summary, such as `p99<500ms`, `error_rate<1%`, `dropped==0`.

Grammar: METRIC OP NUMBER[UNIT], OP one of < <= > >= == !=.
- latency: p50 p90 p95 p99 p999 max mean (latency), or latency.pNN, service.pNN,
  sched_lag.p50|p99|max; units us, ms (default), s;
- error_rate: a fraction, or a percentage with %;
- rps, send_rate: per second; requests, ok, errors, dropped: counts.
"""

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

_EXPRESSION = re.compile(
    r"^\s*(?P<metric>[a-z_][a-z0-9_.]*)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)\s*(?P<unit>[a-zµ%]*)\s*$"
)
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_TIME_UNITS_MS: dict[str, tuple[int, int]] = {
    "": (1, 1),
    "ms": (1, 1),
    "us": (1, 1000),
    "µs": (1, 1000),
    "s": (1000, 1),
}
"""Milliseconds per unit as (multiplier, divisor), so that 480000us is exactly 480 ms."""
_LATENCY_KEYS = ("p50", "p90", "p95", "p99", "p999", "max", "mean")
_LAG_KEYS = ("p50", "p99", "max")
_COUNTS = ("requests", "ok", "errors", "dropped")
_RATES = ("rps", "send_rate")


class ThresholdError(ValueError):
    """The expression cannot be parsed or names an unknown metric or unit."""


class ThresholdResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expression: str
    actual: float | None
    passed: bool


@dataclass(frozen=True)
class Threshold:
    expression: str
    path: tuple[str, ...]
    op: str
    limit: float

    def evaluate(self, summary: Mapping[str, Any]) -> ThresholdResult:
        actual = _lookup(summary, self.path)
        passed = actual is not None and _OPERATORS[self.op](float(actual), self.limit)
        return ThresholdResult(
            expression=self.expression,
            actual=None if actual is None else float(actual),
            passed=passed,
        )


def _lookup(summary: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    if path == ("errors",):
        return float(sum(summary["errors"].values()))
    value: Any = summary
    for key in path:
        value = value[key]
    return value


def parse_threshold(expression: str) -> Threshold:
    match = _EXPRESSION.match(expression)
    if match is None:
        raise ThresholdError(
            f"cannot parse {expression!r}: expected METRIC OP NUMBER[UNIT], e.g. 'p99<500ms'"
        )
    metric, op, number, unit = match.group("metric", "op", "number", "unit")
    value = float(number)
    path = _metric_path(metric, expression)
    if path[-1] in _LATENCY_KEYS and path[0].endswith("_ms"):
        if unit not in _TIME_UNITS_MS:
            raise ThresholdError(f"{expression!r}: unknown time unit {unit!r} (use us, ms or s)")
        multiplier, divisor = _TIME_UNITS_MS[unit]
        return Threshold(expression, path, op, value * multiplier / divisor)
    if metric == "error_rate":
        if unit not in ("", "%"):
            raise ThresholdError(f"{expression!r}: error_rate takes a fraction or a percentage")
        return Threshold(expression, path, op, value / 100 if unit == "%" else value)
    if unit:
        raise ThresholdError(f"{expression!r}: {metric} takes no unit")
    return Threshold(expression, path, op, value)


def _metric_path(metric: str, expression: str) -> tuple[str, ...]:
    if metric in _LATENCY_KEYS:
        return ("latency_ms", metric)
    group, _, key = metric.partition(".")
    if key:
        allowed = _LAG_KEYS if group == "sched_lag" else _LATENCY_KEYS
        if group in ("latency", "service", "sched_lag") and key in allowed:
            return (f"{group}_ms", key)
    elif metric in _COUNTS or metric in _RATES or metric == "error_rate":
        return (metric,)
    known = ", ".join(
        [*_LATENCY_KEYS, "latency.*", "service.*", "sched_lag.*", "error_rate", *_RATES, *_COUNTS]
    )
    raise ThresholdError(f"{expression!r}: unknown metric {metric!r} (known: {known})")


def evaluate_all(thresholds: list[Threshold], summary: Mapping[str, Any]) -> list[ThresholdResult]:
    return [threshold.evaluate(summary) for threshold in thresholds]
