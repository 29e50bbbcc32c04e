"""What the coordinator tells each worker, and what each worker reports back."""

from pydantic import BaseModel, ConfigDict, Field

from loadgen.engine import EngineName, EngineOptions, RequestSpec
from loadgen.record.format import Reason
from loadgen.workload.spec import Workload


class RunPlan(BaseModel):
    """Everything a worker needs; identical for every worker but its index."""

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
