"""What the coordinator tells each worker, and what each worker reports back."""

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from loadgen.engine import EngineName, EngineOptions, RequestSpec
from loadgen.record.format import Reason
from loadgen.workload.jobs import JobWait
from loadgen.workload.schedule import process_schedule
from loadgen.workload.spec import ClosedLoop, OpenLoop, Workload
from loadgen.workload.split import closed_share


class RunPlan(BaseModel):
    """Everything a worker needs; identical for every worker but its index.

    A run spread over several loaders (`loadgen.loaders`) gives each loader's coordinator a
    plan for its own `processes`, numbered from `first_index` among `all_processes` in all:
    a worker's share of the workload and its record file follow its index in the whole run.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    request: RequestSpec
    options: EngineOptions
    workload: Workload
    engine: EngineName = "http1"
    processes: int = Field(ge=1)
    out_dir: str | None = None
    monotonic_epoch_ns: int
    wall_anchor_ns: int
    live_percentiles: bool = False
    first_index: int = Field(0, ge=0)
    all_processes: int | None = Field(None, ge=1)
    #: Closed loop of asynchronous calls: each user waits for its call's completion before its
    #: next submission (`loadgen.workload.jobs`); None: the next goes once the last answered.
    jobs: JobWait | None = None

    @property
    def run_processes(self) -> int:
        """How many processes share the workload across every loader of the run."""
        return self.all_processes if self.all_processes is not None else self.processes


def users_of(plan: RunPlan, index: int) -> tuple[int, int | None]:
    """Closed loop: (users, total) of the plan's process `index` (its share of the run)."""
    assert isinstance(plan.workload, ClosedLoop)
    return closed_share(plan.workload, plan.first_index + index, plan.run_processes)


def schedule_of(plan: RunPlan, index: int) -> Iterator[int]:
    """Open loop: the send offsets of the plan's process `index` (its share of the run)."""
    assert isinstance(plan.workload, OpenLoop)
    return process_schedule(plan.workload, plan.first_index + index, plan.run_processes)


class WorkerReport(BaseModel):
    """One worker's counters and encoded histograms; the coordinator merges these."""

    model_config = ConfigDict(extra="forbid")

    index: int
    reason: Reason
    requests: int
    ok: int
    warmup: int
    dropped: int
    errors: dict[str, int]
    first_intended_ns: int | None
    last_end_ns: int | None
    first_send_ns: int | None
    last_send_ns: int | None
    latency_hdr: str
    service_hdr: str
    sched_lag_hdr: str
    histogram_overflow: int
    latency_sum_ns: int
    latency_max_ns: int
    service_sum_ns: int
    service_max_ns: int
    sched_lag_max_ns: int
    cpu_s: float
    wall_s: float
    records: int | None
    record_path: str | None
    record_error: str | None
    resolve_error: str | None
    connections_opened: int
    queued_max: int
    max_rss_kib: int
    """Peak resident memory of the worker process."""
    earliest_intended_ns: int | None = None
    """Of the request with the earliest intended send, warm-up included: that instant..."""
    earliest_send_ns: int | None = None
    """...and when it actually left (how late the process started, for loaders' start skew)."""
