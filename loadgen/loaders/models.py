"""What the driver sends each loader, what a loader sends back, and what the run's summary
says about the loaders."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loadgen.loaders.clock import ClockOffset
from loadgen.metrics.summary import HostLoad, LagStats, Summary
from loadgen.processes.plan import RunPlan, WorkerReport

LoaderStatus = Literal["completed", "lost", "failed"]
"""Completed its share; lost (its worker left the cluster); failed (its agent reported an
error)."""


class LoaderAssignment(BaseModel):
    """One loader's part of a run: its plan (its processes, numbered within the run; the
    driver's epoch in the loader's clock) and whether to keep records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_key: str
    name: str
    plan: RunPlan
    clock: ClockOffset
    records: bool
    records_dir: str | None = None
    """Where the processes write records on the loader (the loader's task sets it)."""
    ready_timeout_s: float = Field(gt=0)


class LoaderReady(BaseModel):
    """A loader whose processes are started, connected and waiting for the start instant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    hostname: str
    pid: int


class LoaderOutcome(BaseModel):
    """What a loader measured: its processes' reports (instants in its own clock), its host's
    load, the start instant in its clock, and its record files (name → bytes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    hostname: str
    t0_ns: int
    reports: list[WorkerReport]
    host: HostLoad
    records: dict[str, bytes] = {}


class LoaderStats(BaseModel):
    """One loader in the run's summary (`loaders[]`)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    address: str
    hostname: str | None
    status: LoaderStatus
    reason: str | None = None
    processes: int
    first_process: int
    clock_offset_ms: float
    """The loader's clock minus the driver's (CLOCK_MONOTONIC)."""
    clock_uncertainty_ms: float
    """The true offset is within ± this (half the best round trip)."""
    clock_rtt_ms: float
    start_skew_ms: float | None
    """Its first send vs the run's start instant (T0), in the driver's clock; None when it
    sent nothing."""
    requests: int
    ok: int
    client_cpu: list[float]
    sched_lag_ms: LagStats | None
    host: HostLoad | None
    behind: bool
    """Whether it could not keep up (named in the run's warnings)."""


class DistributedSummary(Summary):
    """The summary of a run over a loader pool: `Summary`'s keys, then the loaders'."""

    loaders_spec: str
    loaders: list[LoaderStats]
    start_skew_ms: float | None
    """The latest loader's start skew (the largest |skew|); None when no loader sent."""
    clock_uncertainty_ms: float
    """The largest loader's clock uncertainty: skews are known to within ± this."""
    partial: bool
    """Some loader was lost or failed: the figures are the surviving loaders'."""
    partial_reason: str | None
