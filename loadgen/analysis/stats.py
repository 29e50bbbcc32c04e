"""The statistics behind `aggregate` and `compare`, vectorised with numpy.

Percentiles are exact and nearest-rank (numpy's `inverted_cdf`): the smallest observed value
with at least p% of the values at or below it. `loadgen hit` reads the same rank
(`loadgen.metrics.histogram.nearest_rank`) from its HdrHistograms and reports the top of the
bucket holding it, with the bucket's bounds, so `hit` and `aggregate` agree on what "p99" means
to within the bucket.

Uncertainty treats the run as the experimental unit: requests of one run share the run's
cluster state, so they are not independent and a request-level interval would be far too
narrow. A group's estimate is the median of its run values, and its interval the
distribution-free order-statistic (sign-test) interval for a median with Hettmansperger and
Sheather's interpolation (`median_interval`); where too few runs make every such interval fall
short of the level, there is none. `runs_for_precision` predicts from the same interval how many
runs would make it narrow enough. Two campaigns' run values are compared with an exact
Mann–Whitney test that accounts for ties (`mann_whitney`). docs/statistics.md explains each
choice, with references.
"""

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as scipy_stats

from loadgen.metrics.histogram import PERCENTILES

PERCENTILE_METHOD = "inverted_cdf"
PERCENTILE_KEYS: tuple[str, ...] = (*PERCENTILES, "max")
"""p50 p90 p95 p99 p999 max: the keys every file format uses."""
DISTRIBUTION_KEYS: tuple[str, ...] = (*PERCENTILE_KEYS, "mean", "std")

FloatArray = npt.NDArray[np.float64]

LEVEL_TOLERANCE = 1e-12
"""A coverage within this of the level counts as reaching it (binomial sums in floating point)."""
MAX_ADVISED_RUNS = 1000
"""`runs_for_precision` searches up to this many runs, and says "more" beyond."""
EXACT_TEST_MAX_RUNS = 100
"""`mann_whitney` enumerates the exact distribution up to this many runs in all, beyond which it
uses the normal approximation with tie and continuity corrections (then accurate)."""


def exact_percentile(values: npt.ArrayLike, percent: float) -> float:
    return float(
        np.percentile(np.asarray(values, dtype=np.float64), percent, method=PERCENTILE_METHOD)
    )


def distribution(values: npt.ArrayLike) -> dict[str, float | None]:
    """p50 … p999, max, mean and sample std (ddof=1); None for what an empty sample lacks."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return dict.fromkeys(DISTRIBUTION_KEYS)
    points = np.percentile(data, list(PERCENTILES.values()), method=PERCENTILE_METHOD)
    result: dict[str, float | None] = {
        key: float(value) for key, value in zip(PERCENTILES, points, strict=True)
    }
    result["max"] = float(data.max())
    result["mean"] = float(data.mean())
    result["std"] = float(data.std(ddof=1)) if data.size > 1 else None
    return result


def duration_s(first_intended_ns: int | None, last_end_ns: int | None) -> float:
    """First intended send to last completion, as `loadgen hit` defines it (0 when empty)."""
    if first_intended_ns is None or last_end_ns is None:
        return 0.0
    return max(last_end_ns - first_intended_ns, 0) / 1e9


def throughput(ok: int, seconds: float) -> float:
    """ok ÷ duration; 0 when the duration is 0, as in `loadgen hit`."""
    return ok / seconds if seconds > 0 else 0.0


def active_s(intervals: Iterable[tuple[int, int]]) -> float:
    """Seconds covered by the union of [start_ns, end_ns] intervals (overlaps counted once):
    the time a cell's engine runs were active, without the gaps between them (0 when empty).

    With one interval it is `duration_s` of that interval, so a single-segment cell's
    throughput is `loadgen hit`'s rps."""
    total = 0
    open_start: int | None = None
    open_end = 0
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if open_start is None or start > open_end:
            if open_start is not None:
                total += open_end - open_start
            open_start, open_end = start, end
        else:
            open_end = max(open_end, end)
    if open_start is not None:
        total += open_end - open_start
    return total / 1e9


def coefficient_of_variation(values: npt.ArrayLike) -> float | None:
    """Sample std ÷ mean across runs; None with fewer than two runs or a zero mean."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size < 2:
        return None
    mean = float(data.mean())
    if mean == 0:
        return None
    return float(data.std(ddof=1) / abs(mean))


def sign_coverage(runs: int, depth: npt.ArrayLike) -> FloatArray:
    """P(x_(d) ≤ median ≤ x_(n−d+1)) for n runs from any continuous distribution:
    1 − 2·P(B ≤ d − 1), B ~ Binomial(n, ½), for each depth d."""
    depths = np.asarray(depth, dtype=np.float64)
    return np.asarray(1 - 2 * scipy_stats.binom.cdf(depths - 1, runs, 0.5), dtype=np.float64)


def min_runs(level: float) -> int:
    """Fewest runs for which a distribution-free interval for a median reaches `level`.

    All n runs fall on one side of the true median with probability 2·0.5^n, so the widest
    interval, [x_(1), x_(n)], covers it with probability 1 − 2·0.5^n; below this many runs no
    interval from the runs alone has the requested coverage (6 runs at 95 %, 8 at 99 %).
    """
    if not 0 < level < 1:
        raise ValueError(f"confidence level {level} outside (0, 1)")
    runs = 1
    while float(sign_coverage(runs, 1)) < level - LEVEL_TOLERANCE:
        runs += 1
    return runs


@functools.lru_cache(maxsize=8192)
def interval_plan(runs: int, level: float) -> tuple[int, float] | None:
    """Where the interval for the median of `runs` values lies: (d, λ), or None if none reaches
    `level`.

    d is the deepest order statistic whose interval [x_(d), x_(n−d+1)] still covers the median
    with probability γ_d ≥ level; the next one in, [x_(d+1), x_(n−d)], covers it with
    γ_(d+1) < level. Hettmansperger and Sheather (1986) interpolate between the two, weight
    λ = (n − d)·I / (d + (n − 2d)·I) with I = (γ_d − level)/(γ_d − γ_(d+1)), so the coverage
    is close to the level rather than γ_d. λ = 0 where γ_d equals the level, and where the
    next interval would be empty (2d ≥ n: only at levels of ½ or less, with a handful of runs).
    """
    if runs < 1:
        return None
    depths = np.arange(1, runs // 2 + 2)
    coverage = sign_coverage(runs, depths)
    reach = np.flatnonzero(coverage >= level - LEVEL_TOLERANCE)
    if reach.size == 0:
        return None
    depth = int(depths[reach[-1]])
    outer = float(coverage[reach[-1]])
    inner = float(sign_coverage(runs, depth + 1))
    if 2 * depth >= runs or outer - level <= LEVEL_TOLERANCE:
        return depth, 0.0
    share = (outer - level) / (outer - inner)
    weight = (runs - depth) * share / (depth + (runs - 2 * depth) * share)
    return depth, float(weight)


def median_intervals(samples: npt.ArrayLike, level: float) -> tuple[FloatArray, FloatArray] | None:
    """`median_interval` of each row of a 2-D array (every row has the same number of runs)."""
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError("median_intervals takes one sample per row")
    data = np.sort(data, axis=1)
    runs = data.shape[1]
    plan = interval_plan(runs, level)
    if plan is None:
        return None
    depth, weight = plan
    inward = 1 if 2 * depth < runs else 0
    low = (1 - weight) * data[:, depth - 1] + weight * data[:, depth - 1 + inward]
    high = (1 - weight) * data[:, runs - depth] + weight * data[:, runs - depth - inward]
    return low, high


def median_interval(values: npt.ArrayLike, level: float) -> tuple[float, float] | None:
    """Distribution-free interval for the median of the population the values come from.

    The binomial order-statistic (sign-test) interval with Hettmansperger–Sheather
    interpolation (`interval_plan`); None when there are fewer than `min_runs(level)` values.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    found = median_intervals(data[None, :], level)
    if found is None:
        return None
    low, high = found
    return float(low[0]), float(high[0])


def predicted_half_widths(values: npt.ArrayLike, level: float, runs: npt.ArrayLike) -> FloatArray:
    """Relative half-width the interval would have with each number of runs like `values`.

    The interval at n′ runs interpolates order statistics x_(d′), x_(d′+1) and x_(n′−d′),
    x_(n′−d′+1) (`interval_plan`); the k-th of n′ values sits near the population quantile
    k/(n′ + 1), read here from the observed runs' quantile function interpolated between their
    order statistics at those same positions (Hyndman & Fan's definition 6, numpy "weibull").
    At n′ = n that gives the observed interval exactly. Divided by the observed median; NaN
    where no interval reaches the level at n′.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    center = float(np.median(data))
    if center == 0:
        raise ValueError("relative width of an interval around 0")
    counts = np.atleast_1d(np.asarray(runs, dtype=np.int64))
    widths = np.full(counts.shape, np.nan)
    plans = [interval_plan(int(n), level) for n in counts]
    known = np.array([plan is not None for plan in plans])
    if not known.any():
        return widths
    n = counts[known].astype(np.float64)
    depth = np.array([plan[0] for plan in plans if plan is not None], dtype=np.float64)
    weight = np.array([plan[1] for plan in plans if plan is not None])
    inward = (2 * depth < n).astype(np.float64)
    ranks = np.stack([depth, depth + inward, n - depth + 1, n - depth + 1 - inward])
    points = np.quantile(data, (ranks / (n + 1)).ravel(), method="weibull").reshape(ranks.shape)
    low = (1 - weight) * points[0] + weight * points[1]
    high = (1 - weight) * points[2] + weight * points[3]
    widths[known] = (high - low) / 2 / abs(center)
    return widths


def runs_for_precision(
    values: npt.ArrayLike, level: float, target: float, *, cap: int = MAX_ADVISED_RUNS
) -> int | None:
    """Fewest runs (at least as many as observed) whose predicted interval has a relative
    half-width of at most `target` (`predicted_half_widths`); None if more than `cap` would be
    needed. The observed count itself when its interval already meets the target."""
    data = np.asarray(values, dtype=np.float64).ravel()
    candidates = np.arange(max(data.size, min_runs(level)), cap + 1)
    if candidates.size == 0:
        return None
    widths = predicted_half_widths(data, level, candidates)
    meets = np.flatnonzero(widths <= target)
    return int(candidates[meets[0]]) if meets.size else None


def cliffs_delta(first: npt.ArrayLike, second: npt.ArrayLike) -> float:
    """P(x > y) − P(x < y) for x from `first`, y from `second`; in [-1, 1]."""
    a = np.asarray(first, dtype=np.float64)
    b = np.sort(np.asarray(second, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        raise ValueError("Cliff's delta needs two non-empty samples")
    below = np.searchsorted(b, a, side="left")
    above = b.size - np.searchsorted(b, a, side="right")
    return float((below.sum() - above.sum()) / (a.size * b.size))


def cliffs_magnitude(delta: float) -> str:
    """Romano et al. (2006) thresholds: negligible, small, medium, large."""
    size = abs(delta)
    if size < 0.147:
        return "negligible"
    if size < 0.33:
        return "small"
    if size < 0.474:
        return "medium"
    return "large"


def holm(p_values: npt.ArrayLike) -> FloatArray:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    factors = p.size - np.arange(p.size)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * factors))
    result = np.empty_like(adjusted)
    result[order] = adjusted
    return result


@dataclass(frozen=True)
class RankTest:
    """A two-sided Mann–Whitney test of two samples."""

    u: float
    """U of the first sample: pairs (x, y) with x > y, plus half the ties."""
    p_value: float
    """P(|U − mn/2| ≥ |u − mn/2|) when the two samples come from one population."""
    floor: float
    """The smallest p-value any split of these pooled values into samples of these sizes
    could give: significance below it is out of reach whatever the data."""
    exact: bool
    """Exact permutation distribution (midranks, ties included) or the normal approximation."""


def mann_whitney(first: npt.ArrayLike, second: npt.ArrayLike) -> RankTest:
    """Two-sided Mann–Whitney U test, exact for small samples even with ties.

    Ranks are midranks. Up to EXACT_TEST_MAX_RUNS values in all, the p-value comes from the
    exact permutation distribution of U given the pooled values, ties included (every split of
    the pooled values into samples of these sizes equally likely); beyond, from the normal
    approximation with the tie correction of the variance and a continuity correction of ½.
    """
    x = np.asarray(first, dtype=np.float64).ravel()
    y = np.asarray(second, dtype=np.float64).ravel()
    if x.size == 0 or y.size == 0:
        raise ValueError("Mann–Whitney needs two non-empty samples")
    n, m = x.size, y.size
    ranks = scipy_stats.rankdata(np.concatenate([x, y]))
    u = float(ranks[:n].sum() - n * (n + 1) / 2)
    if n + m <= EXACT_TEST_MAX_RUNS:
        return _exact_rank_test(ranks, n, u)
    return _normal_rank_test(ranks, n, m, u)


def _exact_rank_test(ranks: FloatArray, n: int, u: float) -> RankTest:
    """Counts every split by its doubled rank sum (midranks doubled are integers) with a
    subset-sum recurrence; U and its distance from mn/2 follow from that sum."""
    total = ranks.size
    doubled = np.rint(2 * ranks).astype(np.int64)
    size = min(n, total - n)
    top = int(np.sort(doubled)[total - size :].sum())
    counts = np.zeros((size + 1, top + 1))
    counts[0, 0] = 1.0
    for rank in doubled.tolist():
        grown = counts.copy()
        grown[1:, rank:] += counts[:-1, : top + 1 - rank]
        counts = grown
    sums = np.arange(top + 1)
    weights = counts[size]
    # 2U of the smaller side is its doubled rank sum − size(size + 1); |2U − mn| is the same
    # for either side, so the distance is measured from the smaller side's centre.
    centre = size * (total + 1)
    distance = np.abs(sums - centre)
    observed = abs(int(np.rint(2 * u + n * (n + 1))) - n * (total + 1))
    whole = weights.sum()
    p_value = float(weights[distance >= observed].sum() / whole)
    possible = distance[weights > 0]
    floor = float(weights[distance == possible.max()].sum() / whole)
    return RankTest(u=u, p_value=min(1.0, p_value), floor=min(1.0, floor), exact=True)


def _normal_rank_test(ranks: FloatArray, n: int, m: int, u: float) -> RankTest:
    total = n + m
    _, ties = np.unique(ranks, return_counts=True)
    correction = float((ties**3 - ties).sum()) / (total * (total - 1))
    variance = n * m / 12 * ((total + 1) - correction)
    if variance <= 0:
        return RankTest(u=u, p_value=1.0, floor=1.0, exact=False)
    sd = math.sqrt(variance)

    def two_sided(deviation: float) -> float:
        z = max(deviation - 0.5, 0.0) / sd
        return float(min(1.0, 2 * scipy_stats.norm.sf(z)))

    return RankTest(
        u=u, p_value=two_sided(abs(u - n * m / 2)), floor=two_sided(n * m / 2), exact=False
    )
