"""One run of a group: a complete cell's requests, latencies, spans, loads and cold starts."""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loadgen.analysis.cold_starts import ColdStartParts, cold_start_parts
from loadgen.analysis.requests import Requests, load_requests
from loadgen.analysis.stats import active_s, duration_s
from loadgen.metrics.summary import NS_PER_MS
from loadgen.results.models import SegmentLoad
from loadgen.results.tree import Cell


@dataclass(frozen=True)
class Run:
    cell: Cell
    requests: Requests
    latency_ms: npt.NDArray[np.float64]
    """ok requests only, in intended-send order."""
    duration_s: float
    """Wall span: first intended send to last completion, gaps between segments included."""
    active_s: float
    """The union of the engine runs' spans (each its first intended send to its last
    completion): what throughput divides by."""
    loads: tuple[SegmentLoad, ...] = ()
    """Loader CPU and host load of the cell's engine runs (from its summary.json)."""
    cold_starts: tuple[ColdStartParts, ...] = ()
    """Each cold start of the cell, component by component (from its summary.json)."""


def to_ms(values_ns: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return values_ns.astype(np.float64) / NS_PER_MS


def load_run(cell: Cell) -> Run:
    requests = load_requests(cell.record_paths(), cell.platform_records())
    latency = to_ms(requests.latency_ns[requests.ok])
    if requests.count:
        seconds = duration_s(int(requests.intended_ns.min()), int(requests.end_ns.max()))
    else:
        seconds = duration_s(None, None)
    active = active_s((run.first_intended_ns, run.last_end_ns) for run in requests.engine_runs)
    recorded = {run.run_id for run in requests.engine_runs}
    segments = cell.segments()
    # One read of the cell's summary.json serves both its loads and its cold starts.
    loaded = [] if segments is None else segments.loads()
    loads = tuple(load for load in loaded if load.run_id in recorded)
    parts = tuple(cold_start_parts(segments, requests))
    return Run(cell, requests, latency, seconds, active, loads, parts)
