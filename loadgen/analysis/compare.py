"""`loadgen compare`: each campaign against the first, per function and sweep point.

Every test compares run-level values (one per run: its p50, its p99, its throughput), because
runs, not requests, are independent. Mann–Whitney U (two-sided, exact with ties for up to 100
runs in all: `loadgen.analysis.stats.mann_whitney`) tests each pair, Holm's method controls the
family-wise error over every test of the comparison, and Cliff's delta says how large the
difference is. Each side's median over runs carries the interval `aggregate` gives it (none
with too few runs). A verdict is `+` (better than the baseline), `o` (no significant
difference) or `-` (worse).

Where a group has cold requests (on either side), latency is compared for the warm and the cold
requests apart (`subset`), never pooled: a platform with more cold starts would otherwise look
slower at whatever it is compared on.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from loadgen.analysis.aggregate import Aggregate, group_label, group_sort_key
from loadgen.analysis.stats import (
    RankTest,
    cliffs_delta,
    holm,
    mann_whitney,
    median_interval,
)
from loadgen.analysis.table import GroupKey, row_key
from loadgen.results.models import CampaignManifest


@dataclass(frozen=True)
class MetricSpec:
    name: str
    metric: str
    stat: str
    lower_is_better: bool
    subsets: tuple[str, ...] = ()
    """Where a group has cold requests, compare these subsets apart instead of `all` (none:
    the statistic belongs to the whole run, as throughput does)."""


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("p50", "latency_ms", "p50", lower_is_better=True, subsets=("warm", "cold")),
    # A run holds a few cold requests at most: they have no p99 to compare.
    MetricSpec("p99", "latency_ms", "p99", lower_is_better=True, subsets=("warm",)),
    MetricSpec("throughput", "throughput_rps", "value", lower_is_better=False),
)
"""Run-level statistics compared, read from each cell's rows."""


@dataclass(frozen=True)
class Test:
    """One campaign against the baseline at one group and one metric."""

    baseline: str
    campaign: str
    key: GroupKey
    metric: str
    baseline_values: tuple[float, ...]
    values: tuple[float, ...]
    baseline_median: float
    baseline_ci: tuple[float, float] | None
    median: float
    ci: tuple[float, float] | None
    u: float
    p_value: float
    p_holm: float
    delta: float
    verdict: str
    subset: str = "all"
    """Which requests' values: `all`, or `warm` / `cold` where the group has cold requests."""


@dataclass(frozen=True)
class _Pending:
    """A test whose p-value awaits Holm's adjustment over the whole family."""

    campaign: str
    key: GroupKey
    spec: MetricSpec
    baseline_values: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    test: RankTest
    subset: str = "all"


@dataclass
class Comparison:
    baseline: str
    campaigns: list[str]
    alpha: float
    level: float
    """Confidence level of the medians' intervals."""
    tests: list[Test] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_values(
    result: Aggregate, spec: MetricSpec, subset: str = "all"
) -> dict[GroupKey, list[float]]:
    """One value per aggregated run (cell) of each group, in run order, of the `subset`'s
    requests (a run without requests in the subset has no value)."""
    found: dict[GroupKey, list[tuple[int, float]]] = {}
    for row in result.rows:
        if (
            row["level"] != "cell"
            or row["subset"] != subset
            or row["metric"] != spec.metric
            or row["stat"] != spec.stat
            or row["value"] is None
        ):
            continue
        found.setdefault(row_key(row), []).append((_int(row["run"]), _float(row["value"])))
    return {key: [v for _, v in sorted(pairs)] for key, pairs in found.items()}


def cold_groups(result: Aggregate) -> set[GroupKey]:
    """The groups with a cold request in any run."""
    return {
        row_key(row)
        for row in result.rows
        if row["level"] == "cell"
        and row["subset"] == "cold"
        and row["metric"] == "requests"
        and row["stat"] == "ok"
        and _float(row["value"]) > 0
    }


def paired_values(
    base: Aggregate, other: Aggregate, spec: MetricSpec
) -> list[tuple[GroupKey, str, list[float], list[float]]]:
    """(group, subset, baseline's run values, other's run values) for every group both have:
    `all` where neither side has cold requests in the group, else each of `spec.subsets`
    (where at least one side has values), so warm is compared with warm and cold with cold."""
    split = cold_groups(base) | cold_groups(other) if spec.subsets else set()
    pooled = (run_values(base, spec), run_values(other, spec))
    by_subset = {
        subset: (run_values(base, spec, subset), run_values(other, spec, subset))
        for subset in spec.subsets
    }
    pairs = []
    for key in sorted(set(pooled[0]) & set(pooled[1]), key=group_sort_key):
        if key not in split:
            pairs.append((key, "all", pooled[0][key], pooled[1][key]))
            continue
        for subset, (left, right) in by_subset.items():
            if key in left or key in right:
                pairs.append((key, subset, left.get(key, []), right.get(key, [])))
    return pairs


def _float(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


_MANIFEST_FIELDS = {
    "gateway version": lambda m: m.platform.versions.gateway,
    "provider version": lambda m: m.platform.versions.provider,
    "node roles": lambda m: m.node_roles,
    "instance types": lambda m: m.instance_types,
    "cold-start methods": lambda m: sorted(m.cold_start_methods),
}


def manifest_differences(baseline: CampaignManifest, other: CampaignManifest) -> list[str]:
    """What differs between two campaigns' setups beyond the platform under test."""
    found = []
    for label, read in _MANIFEST_FIELDS.items():
        left, right = read(baseline), read(other)
        if left != right:
            found.append(
                f"{other.campaign} differs from {baseline.campaign} in {label}: "
                f"{json.dumps(right, sort_keys=True)} vs {json.dumps(left, sort_keys=True)}"
            )
    return found


def _verdict(p_holm: float, delta: float, alpha: float, lower_is_better: bool) -> str:
    if p_holm >= alpha or delta == 0:
        return "o"
    other_higher = delta > 0
    return "-" if other_higher == lower_is_better else "+"


def compare(
    results: Sequence[Aggregate], *, alpha: float = 0.05, metrics: Sequence[MetricSpec] = METRICS
) -> Comparison:
    """Test every other campaign against `results[0]` wherever both have the group."""
    if len(results) < 2:
        raise ValueError("compare needs at least two campaigns")
    names = [r.tree.manifest.campaign for r in results]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"campaign names must differ; repeated: {', '.join(duplicates)}")
    base = results[0]
    settings = base.settings
    comparison = Comparison(names[0], names[1:], alpha, settings.level)
    pending: list[_Pending] = []
    for other in results[1:]:
        comparison.warnings.extend(manifest_differences(base.tree.manifest, other.tree.manifest))
        for spec in metrics:
            for key, subset, base_values, other_values in paired_values(base, other, spec):
                a = np.asarray(base_values)
                b = np.asarray(other_values)
                if a.size < 2 or b.size < 2:
                    what = spec.name if subset == "all" else f"{spec.name} ({subset})"
                    comparison.warnings.append(
                        f"{group_label(key)} {what}: {a.size} vs {b.size} run(s); "
                        "not tested (each side needs at least 2)"
                    )
                    continue
                pending.append(
                    _Pending(
                        other.tree.manifest.campaign, key, spec, a, b, mann_whitney(b, a), subset
                    )
                )
    adjusted = holm([item.test.p_value for item in pending])
    for item, p_holm in zip(pending, adjusted, strict=True):
        delta = cliffs_delta(item.values, item.baseline_values)
        comparison.tests.append(
            Test(
                baseline=comparison.baseline,
                campaign=item.campaign,
                key=item.key,
                metric=item.spec.name,
                baseline_values=tuple(item.baseline_values.tolist()),
                values=tuple(item.values.tolist()),
                baseline_median=float(np.median(item.baseline_values)),
                baseline_ci=median_interval(item.baseline_values, settings.level),
                median=float(np.median(item.values)),
                ci=median_interval(item.values, settings.level),
                u=item.test.u,
                p_value=item.test.p_value,
                p_holm=float(p_holm),
                delta=delta,
                verdict=_verdict(float(p_holm), delta, alpha, item.spec.lower_is_better),
                subset=item.subset,
            )
        )
    comparison.warnings.extend(_out_of_reach(pending, alpha))
    return comparison


def _out_of_reach(pending: Sequence[_Pending], alpha: float) -> list[str]:
    """Tests that cannot be significant whatever their data, from each test's exact floor.

    Holm's adjusted p-value of a test is at least its own p-value, and the smallest p-value of
    the family must be below alpha ÷ (number of tests) for anything to be significant.
    """
    if not pending:
        return []
    family = len(pending)
    best = min(pending, key=lambda item: item.test.floor)
    floor = best.test.floor
    if floor * family >= alpha:
        return [
            f"with {best.values.size} vs {best.baseline_values.size} runs the smallest two-sided "
            f"p-value is {floor:.2g}, {floor * family:.2g} after Holm's correction over "
            f"{family} tests: no difference can be significant at {alpha:g}; more runs are needed"
        ]
    return [
        f"{group_label(item.key)} {_what(item)}: with {item.values.size} vs "
        f"{item.baseline_values.size} runs the smallest two-sided p-value these values allow "
        f"is {item.test.floor:.2g}: this test cannot be significant at {alpha:g}"
        for item in pending
        if item.test.floor >= alpha
    ]


def _what(item: _Pending) -> str:
    """The statistic tested, with its subset where it is not the whole run (as elsewhere)."""
    return item.spec.name if item.subset == "all" else f"{item.spec.name} ({item.subset})"
