"""Threshold expressions: parsing, units, and evaluation against a summary."""

import pytest

from loadgen.metrics.thresholds import ThresholdError, parse_threshold

SUMMARY = {
    "requests": 1000,
    "ok": 990,
    "errors": {"http_503": 6, "timeout": 4},
    "dropped": 0,
    "rps": 1980.0,
    "send_rate": 2000.0,
    "error_rate": 0.01,
    "latency_ms": {
        "p50": 1.2,
        "p90": 3.0,
        "p95": 4.0,
        "p99": 480.0,
        "p999": 900.0,
        "max": 1000.0,
        "mean": 2.0,
    },
    "service_ms": {
        "p50": 1.0,
        "p90": 2.0,
        "p95": 3.0,
        "p99": 9.0,
        "p999": 20.0,
        "max": 30.0,
        "mean": 1.5,
    },
    "sched_lag_ms": {"p50": 0.03, "p99": 0.09, "max": 1.0},
}


@pytest.mark.parametrize(
    ("expression", "passed", "actual"),
    [
        ("p99<500ms", True, 480.0),
        ("p99<0.5s", True, 480.0),
        ("p99<480", False, 480.0),
        ("p99<=480", True, 480.0),
        ("p99 <= 480000us", True, 480.0),
        ("p99 < 480000us", False, 480.0),
        ("p999<900µs", False, 900.0),
        ("latency.p50<2ms", True, 1.2),
        ("service.p99>10ms", False, 9.0),
        ("sched_lag.p99<1ms", True, 0.09),
        ("error_rate<1%", False, 0.01),
        ("error_rate<=1%", True, 0.01),
        ("error_rate<0.02", True, 0.01),
        ("dropped==0", True, 0.0),
        ("errors!=0", True, 10.0),
        ("errors<5", False, 10.0),
        ("rps>=1900", True, 1980.0),
        ("requests==1000", True, 1000.0),
        ("mean<2.5ms", True, 2.0),
    ],
)
def test_evaluation(expression: str, passed: bool, actual: float) -> None:
    result = parse_threshold(expression).evaluate(SUMMARY)
    assert result.passed is passed
    assert result.actual == pytest.approx(actual)
    assert result.expression == expression


@pytest.mark.parametrize(
    "expression",
    [
        "p99",
        "p99<",
        "<500ms",
        "p98<500ms",
        "p99<500 parsecs",
        "p99<<5",
        "error_rate<1ms",
        "dropped==0%",
        "latency.p77<1ms",
        "sched_lag.p90<1ms",
        "P99<5ms",
    ],
)
def test_malformed_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ThresholdError):
        parse_threshold(expression)


def test_missing_data_fails_the_threshold() -> None:
    summary = {**SUMMARY, "latency_ms": {**SUMMARY["latency_ms"], "p99": None}}
    result = parse_threshold("p99<500ms").evaluate(summary)
    assert result.passed is False
    assert result.actual is None
