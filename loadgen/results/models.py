"""The results tree a campaign leaves behind, as validated models.

The campaign loop writes exactly these files; `aggregate`, `compare` and `report` read them.
Models are frozen and reject unknown keys, so a writer that drifts from the contract fails
loudly instead of being half-read.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loadgen.metrics.summary import HostLoad
from loadgen.results.completions import PollStats

_STRICT = ConfigDict(frozen=True, extra="forbid")


class ClockInfo(BaseModel):
    """Where the load generator's wall clock came from and whether it was synchronised."""

    model_config = _STRICT

    source: str
    synced: bool


class PlatformVersions(BaseModel):
    model_config = _STRICT

    gateway: str | None = None
    provider: str | None = None


class PlatformInfo(BaseModel):
    """What was benchmarked: the (cloud, orchestrator, framework) combination."""

    model_config = _STRICT

    cloud: str
    orchestrator: str
    framework: str
    versions: PlatformVersions = PlatformVersions()

    @property
    def label(self) -> str:
        return f"{self.framework}/{self.orchestrator}/{self.cloud}"


class LoaderClock(BaseModel):
    """One loader in one engine run of a campaign over a loader pool: its clock offset to the
    driver (and how well it is known) and how late it started after the run's T0."""

    model_config = _STRICT

    cell: str
    segment: int = Field(ge=0)
    name: str
    address: str
    hostname: str | None
    status: str
    clock_offset_ms: float
    clock_uncertainty_ms: float
    start_skew_ms: float | None


class LoadersInfo(BaseModel):
    """Where a campaign's load came from (`--loaders`), and every loader's clock per run."""

    model_config = _STRICT

    spec: str
    runs: list[LoaderClock] = []


class CampaignManifest(BaseModel):
    """`manifest.json`: one campaign (one platform, many cells)."""

    model_config = _STRICT

    campaign: str
    config_hash: str
    config: dict[str, object]
    tool_version: str
    packages: dict[str, str] = {}
    """Python and the packages on the measurement path, with their versions."""
    started: str
    ended: str | None = None
    seed: int | None = None
    host: str
    clock: ClockInfo
    platform: PlatformInfo
    node_roles: dict[str, object] = {}
    instance_types: dict[str, str] = {}
    cpu_credits: str | None = None
    cold_start_methods: list[str] = []
    outputs: dict[str, object] = {}
    """Stack outputs with every secret removed."""
    loaders: LoadersInfo | None = None
    """Present only for a campaign run with `--loaders` (left out of the file otherwise)."""
    inputs: dict[str, str] | None = None
    """`sha256:<hex>` of each trace file by the field naming it (`experiments.N.file`, ...);
    present only for a campaign with trace or multi-trace experiments, which `--resume`
    continues only with the same files."""

    def document(self) -> dict[str, object]:
        """The manifest as its JSON document (`loaders` only when there are loaders, `inputs`
        only when there are trace files, so other campaigns write the same manifest as ever)."""
        absent = {name for name in ("loaders", "inputs") if getattr(self, name) is None}
        return self.model_dump(mode="json", exclude=absent or None)


Mode = Literal["closed", "open", "cold", "trace"]
SweepName = Literal["users", "replicas", "rate", "stage", "none"]
CellStatus = Literal["complete", "invalid", "partial", "failed"]
"""`partial`: a loader of the pool was lost mid-cell; the data are the surviving loaders'."""


class Sweep(BaseModel):
    """Which swept parameter this cell measured, and at what value."""

    model_config = _STRICT

    name: SweepName
    value: float | int | None = None

    @model_validator(mode="after")
    def _value_matches_name(self) -> "Sweep":
        if self.name == "none" and self.value is not None:
            raise ValueError("sweep 'none' takes no value")
        if self.name != "none" and self.value is None:
            raise ValueError(f"sweep {self.name!r} needs a value")
        return self


class CellInfo(BaseModel):
    """`cells/<id>/cell.json`: one run of one function at one sweep point."""

    model_config = _STRICT

    id: str
    function: str
    mode: Mode
    sweep: Sweep
    run: int = Field(ge=0)
    cold_method: str | None = None
    #: sync, async or web (`invocation` of the experiment); results written before it: sync.
    invocation: Literal["sync", "async", "web"] = "sync"
    #: The implementation measured (`languages`); results written before it: python.
    language: Literal["python", "node", "go", "java"] = "python"
    #: The function's memory limit in MiB (`memory_mb`); results written before it: 256, the
    #: limit the campaign always deployed.
    memory_mb: int = Field(256, ge=1)
    #: Bytes sent as the `input_size` parameter (`input_sizes`); None: not a dimension.
    input_size: int | None = Field(None, ge=1)
    status: CellStatus
    reason: str | None = None
    started: str
    ended: str | None = None


class PlatformRecord(BaseModel):
    """One line of `platform.jsonl`: what the platform says about one invocation.

    Platform adapters (`loadgen.platforms`) return these from `records()` and the campaign loop
    writes them as they are. `id` is the correlation id the engine captured (X-Call-Id, OpenWhisk
    activation id) or, for Kubernetes pod events, the pod name. Times are milliseconds; null where
    the platform does not say. `phases` holds named durations (Kubernetes pod phases, OpenWhisk
    wait/init/run live in their own fields).
    """

    model_config = _STRICT

    id: str
    cold: bool | None = None
    wait_ms: float | None = None
    init_ms: float | None = None
    run_ms: float | None = None
    phases: dict[str, float] = {}


class ColdStartEvent(BaseModel):
    """A forced cold start, as the platform adapter reported it (`ColdStart`)."""

    model_config = _STRICT

    method: str
    effective_ns: int = Field(description="wall clock (Unix ns) when the function was ready")
    cost_s: float = Field(ge=0, description="the control-plane work: deploy or scale to ready")
    activator_in_path: bool | None = Field(
        None,
        description="Knative: the activator proxied the revision's traffic (its "
        "ServerlessService in Proxy mode) when the cold start took effect; absent elsewhere",
    )


class FirstRequest(BaseModel):
    """The first measured request of a segment, read from its records right after it ran.

    Times are wall-clock Unix ns (each record file's anchor plus the record's monotonic offset),
    the clock `ColdStartEvent.effective_ns` uses.
    """

    model_config = _STRICT

    send_ns: int
    end_ns: int
    ok: bool
    id: str | None = Field(None, description="the correlation id captured (platform records)")

    @model_validator(mode="after")
    def _ordered(self) -> "FirstRequest":
        if self.end_ns < self.send_ns:
            raise ValueError("end_ns precedes send_ns")
        return self


class Series(BaseModel):
    """One resource time series: points are [unix seconds, value]."""

    model_config = _STRICT

    name: str
    unit: str
    labels: dict[str, str] = {}
    points: list[tuple[float, float]]


class MetricsFile(BaseModel):
    """`metrics.json`: resource usage collected while the cell ran."""

    model_config = _STRICT

    series: list[Series]


_PROJECTION = ConfigDict(frozen=True, extra="ignore")


class SegmentLoad(BaseModel):
    """Of one engine run's summary (`loadgen.metrics.summary.Summary`, whose keys are added,
    never renamed): which run it was and how busy the loader and its host were. Only these
    keys are read, so a summary with keys added later still reads."""

    model_config = _PROJECTION

    run_id: str
    client_cpu: list[float]
    """Each loader process's CPU time ÷ wall time."""
    host: HostLoad | None = None
    """None in summaries written before the host's load was recorded."""


class SegmentEvent(BaseModel):
    """One entry of a cell's `summary.json`: a segment, what came before its workload (a forced
    cold start, an idle wait) and what it led to (the first request), and its engine run's
    summary when it sent requests (an idle trace minute has none)."""

    model_config = _PROJECTION

    segment: int = Field(ge=0)
    cold_start: ColdStartEvent | None = None
    """A forced cold start made just before the workload."""
    idle_s: float | None = None
    """An idle wait before the workload (natural cold start), or a gap without requests."""
    first_request: FirstRequest | None = None
    """After a forced cold start or an idle wait: the workload's first request."""
    summary: SegmentLoad | None = None
    completions: dict[str, Any] | None = None
    """invocation: async: the segment's calls from submission to completion (the shape of
    `loadgen.completions.summary.CompletionSummary`)."""
    listing: PollStats | None = None
    """What listing the platform's records to find completions cost (OpenWhisk)."""


class CellSummary(BaseModel):
    """`cells/<id>/summary.json`, as the campaign loop writes it: `{"segments": [...]}`."""

    model_config = _PROJECTION

    segments: list[SegmentEvent]

    def loads(self) -> list[SegmentLoad]:
        """Each engine run's loader CPU and host load, in segment order."""
        return [event.summary for event in self.segments if event.summary is not None]
