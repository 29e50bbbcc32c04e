"""How long a campaign will take, from its cells (`loadgen estimate`).

Per cell: the reset (deploy and ready: an assumption, `deploy_s`), then each segment:
- an open loop or a closed loop with a duration: its duration (plus a closed loop's warm-up);
- a closed loop with a request count: requests ÷ users × the assumed latency (`latency_s`);
- an idle trace minute: its length;
- a multi-trace group (its functions replayed side by side): once, as one cell;
- before a forced cold start: the assumed control-plane cost (`cold_s`);
- before a natural cold start: the segment's `inactivity_s`, else the platform's idle timeout
  (`idle_timeout_s`) plus the campaign loop's margin.
Between runs: `delay_between_runs_s`. Everything assumed is printed with the estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadgen.experiments.campaign import IDLE_MARGIN_S
from loadgen.experiments.cells import CellPlan
from loadgen.experiments.config import ExperimentConfig
from loadgen.workload.spec import ClosedLoop


@dataclass(frozen=True)
class Assumptions:
    latency_s: float = 0.1
    """Response time of one request in a closed loop with a request count."""
    deploy_s: float = 30.0
    """Resetting the platform before a cell: remove, deploy, wait until ready."""
    cold_s: float = 30.0
    """The control-plane work of one forced cold start (scale to zero, redeploy)."""
    idle_timeout_s: float = 600.0
    """The platform's idle timeout, for natural cold starts without `inactivity_s`."""


@dataclass
class Estimate:
    total_s: float = 0.0
    cells: int = 0
    by_experiment: dict[str, float] = field(default_factory=dict)
    between_runs_s: float = 0.0


def segment_seconds(cell: CellPlan, assume: Assumptions) -> float:
    seconds = 0.0
    for segment in cell.segments:
        if segment.before == "force_cold":
            seconds += assume.cold_s
        elif segment.before == "idle":
            seconds += segment.idle_s or assume.idle_timeout_s + IDLE_MARGIN_S
        workload = segment.workload
        if workload is None:
            seconds += segment.duration_s
        elif isinstance(workload, ClosedLoop):
            seconds += workload.warmup_s or 0.0
            if workload.duration_s is not None:
                seconds += workload.duration_s
            else:
                assert workload.total is not None
                seconds += workload.total / workload.users * assume.latency_s
        elif workload.duration_s is not None:
            seconds += workload.duration_s
        else:
            assert workload.total is not None
            seconds += workload.total / workload.rate
    return seconds


def estimate(config: ExperimentConfig, cells: list[CellPlan], assume: Assumptions) -> Estimate:
    result = Estimate(cells=len(cells))
    groups: set[str] = set()
    for cell in cells:
        if cell.group is not None:
            # A group's cells run side by side: its time counts once.
            if cell.group in groups:
                continue
            groups.add(cell.group)
        seconds = assume.deploy_s + segment_seconds(cell, assume)
        result.by_experiment[cell.experiment] = (
            result.by_experiment.get(cell.experiment, 0.0) + seconds
        )
        result.total_s += seconds
    result.between_runs_s = config.delay_between_runs_s * (config.runs - 1)
    result.total_s += result.between_runs_s
    return result


def duration_text(seconds: float) -> str:
    """1 h 02 min, 3 min 20 s, 45 s."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
