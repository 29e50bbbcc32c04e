"""Run-level statistics of a group: the median over runs of each run's percentiles and
throughput, with distribution-free intervals, coefficients of variation, and the warnings
about too few runs, too few requests and too wide intervals."""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from loadgen.analysis.caveats import Caveat
from loadgen.analysis.requests import COLD, WARM
from loadgen.analysis.runs import Run
from loadgen.analysis.stats import (
    MAX_ADVISED_RUNS,
    coefficient_of_variation,
    exact_percentile,
    median_interval,
    min_runs,
    runs_for_precision,
    throughput,
)
from loadgen.analysis.table import Rows

#: Ok requests per run under which tail percentiles get a warning.
TAIL_REQUESTS = 1000

#: `ci_method` of every interval: over runs, for their median (`stats.median_interval`).
CI_METHOD = "hettmansperger-sheather"


class IntervalSettings(Protocol):
    """What the run-level statistics read of `aggregate.Settings`."""

    @property
    def level(self) -> float:
        """Confidence level of every interval."""
        ...

    @property
    def precision(self) -> float:
        """Warn when an interval's half-width exceeds this share of its estimate."""
        ...


def _run_percentiles(
    rows: Rows,
    per_run_ms: Sequence[npt.NDArray[np.float64]],
    percentiles: Sequence[tuple[str, float]],
    settings: IntervalSettings,
    label: str,
    warnings: list[Caveat],
    *,
    subset: str = "all",
    warn: bool = True,
    metric: str = "latency_ms",
) -> None:
    """Median over runs of each run's percentiles of one subset, with interval and CV."""
    measured = [values for values in per_run_ms if values.size]
    for name, percent in percentiles:
        per_run = np.asarray([exact_percentile(values, percent) for values in measured])
        if not measured:
            rows.add(metric, f"run_median_{name}", None, "ms", subset=subset)
            continue
        stat = f"run_median_{name}"
        ci = _median_over_runs(rows, metric, stat, "ms", per_run, settings, subset=subset)
        rows.add(metric, f"run_cv_{name}", coefficient_of_variation(per_run), "1", subset=subset)
        if warn:
            what = name if subset == "all" else f"{subset} {name}"
            _precision_warning(per_run, ci, settings, label, what, warnings)


def completion_run_level(
    rows: Rows,
    per_run_ms: Sequence[npt.NDArray[np.float64]],
    settings: IntervalSettings,
    label: str,
    warnings: list[Caveat],
) -> None:
    """Median over runs of each run's completion p50 and p99 (asynchronous cells)."""
    percentiles = (("p50", 50.0), ("p99", 99.0))
    _run_percentiles(
        rows, per_run_ms, percentiles, settings, f"{label} completion", warnings,
        metric="completion_ms",
    )  # fmt: skip


def run_level(
    rows: Rows,
    runs: Sequence[Run],
    settings: IntervalSettings,
    label: str,
    warnings: list[Caveat],
    *,
    tail: bool = True,
) -> None:
    """Median over runs of per-run p50, p99 and throughput, with intervals over runs and CV;
    the latency percentiles also for the warm and the cold requests apart (subsets `warm` and
    `cold`, where the group has them).

    Without `tail` (a cold-start group: each run holds only the cold starts it forced, one by
    default), a run has no tail to estimate: only p50 is computed, and the tail-percentile rule
    does not apply. Cold requests are a few per run wherever they occur, so their subset gets
    p50 only, everywhere."""
    percentiles = (("p50", 50.0), ("p99", 99.0)) if tail else (("p50", 50.0),)
    _run_percentiles(rows, [run.latency_ms for run in runs], percentiles, settings, label, warnings)
    fewest = min((int(r.requests.ok.sum()) for r in runs), default=0)
    for subset, flag in (("warm", WARM), ("cold", COLD)):
        per_run = [run.latency_ms[run.requests.cold[run.requests.ok] == flag] for run in runs]
        if not any(values.size for values in per_run):
            continue
        chosen = percentiles if subset == "warm" else percentiles[:1]
        # Where a subset is every request of every run, its warnings are those of `all`.
        part = any(v.size != run.latency_ms.size for v, run in zip(per_run, runs, strict=True))
        _run_percentiles(rows, per_run, chosen, settings, label, warnings, subset=subset, warn=part)
        if len(chosen) > 1 and fewest > 0:
            fewest = min(fewest, min(v.size for v in per_run if v.size))
    rates = np.asarray([throughput(int(r.requests.ok.sum()), r.active_s) for r in runs])
    total_ok = sum(int(r.requests.ok.sum()) for r in runs)
    rows.add("throughput_rps", "pooled", throughput(total_ok, sum(r.active_s for r in runs)), "1/s")
    if rates.size:
        _median_over_runs(rows, "throughput_rps", "run_median", "1/s", rates, settings)
        rows.add("throughput_rps", "run_cv", coefficient_of_variation(rates), "1")
    rows.add("duration_s", "total", sum(r.duration_s for r in runs), "s")
    rows.add("active_s", "total", sum(r.active_s for r in runs), "s")
    if tail and 0 < fewest < TAIL_REQUESTS:
        # Nearest-rank p99 of n values is the ceil(0.99 n)-th: with few values it is one of the
        # last handful, and it reads low (about 5% at 400). Say so beside the number.
        warnings.append(
            Caveat(
                f"p99 from fewer than {TAIL_REQUESTS} ok requests in a run: a tail percentile "
                "then rests on a handful of requests and reads low",
                label,
                f"as few as {fewest}",
            )
        )
    needed_runs = min_runs(settings.level)
    if len(runs) < needed_runs:
        warnings.append(
            Caveat(
                f"too few runs for a {_level_text(settings.level)} interval: none reported",
                label,
                f"{len(runs)} run(s), {needed_runs} needed",
            )
        )


def _level_text(level: float) -> str:
    """A confidence level as a percentage: 95%, 97.5%."""
    return f"{level * 100:g}%"


def _median_over_runs(
    rows: Rows,
    metric: str,
    stat: str,
    unit: str,
    values: npt.NDArray[np.float64],
    settings: IntervalSettings,
    *,
    subset: str = "all",
) -> tuple[float, float] | None:
    """The median of one value per run, with its distribution-free interval when there are
    enough runs for one (`stats.median_interval`); returns the interval."""
    ci = median_interval(values, settings.level)
    method = CI_METHOD if ci is not None else None
    rows.add(metric, stat, float(np.median(values)), unit, subset=subset, ci=ci, ci_method=method)
    return ci


def _precision_warning(
    values: npt.NDArray[np.float64],
    ci: tuple[float, float] | None,
    settings: IntervalSettings,
    label: str,
    name: str,
    warnings: list[Caveat],
) -> None:
    """Warn when the interval is wider than ±precision of its estimate, with the runs the
    interval itself predicts would narrow it enough (`stats.runs_for_precision`)."""
    estimate = float(np.median(values))
    if ci is None or estimate <= 0:
        return
    half = (ci[1] - ci[0]) / 2 / estimate
    if half <= settings.precision:
        return
    needed = runs_for_precision(values, settings.level, settings.precision)
    advice = f"about {needed}" if needed is not None else f"more than {MAX_ADVISED_RUNS}"
    warnings.append(
        Caveat(
            f"{_level_text(settings.level)} interval wider than ±{settings.precision:.0%} of "
            "its estimate",
            label,
            f"{name} ±{half:.0%} from {values.size} run(s), {advice} would reach "
            f"±{settings.precision:.0%}",
        )
    )
