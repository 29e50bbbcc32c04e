"""`synthetic`: durations drawn from the trace's percentiles (reproducible per seed and call),
the memory held, every parameter bounded."""

from __future__ import annotations

import statistics

import pytest

from functions import synthetic
from functions._params import ParamError

QUANTILE_NAMES = ("p0_ms", "p1_ms", "p25_ms", "p50_ms", "p75_ms", "p99_ms", "p100_ms")


def points(*values: float) -> dict[str, float]:
    return dict(zip(QUANTILE_NAMES, values, strict=True))


SPREAD = (1.0, 2.0, 10.0, 20.0, 40.0, 100.0, 200.0)


def test_draws_invert_the_piecewise_linear_cdf() -> None:
    draws = [synthetic.draw_ms(SPREAD, seed=7, call=call) for call in range(20_000)]
    assert min(draws) >= SPREAD[0]
    assert max(draws) <= SPREAD[-1]
    # Each quantile of the draws lands near its percentile point (the CDF passes through it).
    ordered = sorted(draws)
    for quantile, value in zip(synthetic.QUANTILES[1:-1], SPREAD[1:-1], strict=True):
        empirical = ordered[int(quantile * len(ordered))]
        low = SPREAD[synthetic.QUANTILES.index(quantile) - 1]
        high = SPREAD[synthetic.QUANTILES.index(quantile) + 1]
        # Within the neighbouring points, and close to this one in CDF terms.
        assert low <= empirical <= high
        below = sum(d <= value for d in draws) / len(draws)
        assert below == pytest.approx(quantile, abs=0.01)
    # Between p25 and p50 the density is flat: the median of that stretch is its midpoint.
    stretch = [d for d in draws if SPREAD[2] <= d <= SPREAD[3]]
    assert statistics.median(stretch) == pytest.approx((SPREAD[2] + SPREAD[3]) / 2, rel=0.05)


def test_the_same_seed_and_call_draw_the_same_duration() -> None:
    assert synthetic.draw_ms(SPREAD, 3, 11) == synthetic.draw_ms(SPREAD, 3, 11)
    assert synthetic.draw_ms(SPREAD, 3, 11) != synthetic.draw_ms(SPREAD, 4, 11)
    assert synthetic.draw_ms(SPREAD, 3, 11) != synthetic.draw_ms(SPREAD, 3, 12)
    params = {**points(*SPREAD), "seed": 3, "call": 11, "mode": "sleep"}
    first, second = synthetic.main(params), synthetic.main(params)
    assert first["duration_ms"] == second["duration_ms"]
    assert first["duration_ms"] == round(synthetic.draw_ms(SPREAD, 3, 11), 3)


def test_without_a_call_index_each_call_takes_the_next_one() -> None:
    params = {**points(*[0.0] * 7), "mode": "sleep"}
    first = synthetic.main(params)["call"]
    assert synthetic.main(params)["call"] == first + 1


@pytest.mark.parametrize("mode", ["spin", "sleep"])
def test_a_call_runs_at_least_its_drawn_time_and_holds_its_memory(mode: str) -> None:
    result = synthetic.main({**points(*[30.0] * 7), "memory_mb": 8, "mode": mode})
    assert result["duration_ms"] == 30.0
    assert result["ran_ms"] >= 30.0
    assert result["memory_mb"] == 8
    block = synthetic.hold_memory(2)
    assert len(block) == 2 * synthetic.MIB
    assert all(block[offset] == 1 for offset in range(0, len(block), synthetic.PAGE))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({**points(1, 2, 3, 2, 5, 6, 7)}, "p50_ms (2) must not be below p25_ms (3)"),
        ({"p99_ms": synthetic.MAX_MS + 1}, "p99_ms must be between 0 and 240000"),
        ({"p0_ms": -1}, "p0_ms must be between 0"),
        ({"memory_mb": synthetic.MAX_MEMORY_MB + 1}, "memory_mb must be between 0 and 4096"),
        ({"seed": -1}, "seed must be between 0"),
        ({"call": -2}, "call must be between -1"),
        ({"mode": "nap"}, "mode must be one of spin, sleep"),
    ],
)
def test_every_parameter_is_bounded(params: dict[str, object], message: str) -> None:
    with pytest.raises(ParamError, match=message.replace("(", r"\(").replace(")", r"\)")):
        synthetic.main(params)
