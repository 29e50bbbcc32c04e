"""What one cold start cost, part by part: the components, the part that holds the boot, each
cold start's parts from the campaign loop's segment events, and their rows of the table."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from loadgen.analysis.requests import COLD, UNKNOWN, WARM, Requests
from loadgen.analysis.stats import exact_percentile
from loadgen.analysis.table import Rows
from loadgen.metrics.summary import NS_PER_MS
from loadgen.results.models import CellSummary

COLD_START_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("to_ready", "deploy/scale → ready"),
    ("ready_to_send", "ready → first request sent"),
    ("first_latency", "first response's latency"),
    ("init", "platform-reported init"),
)
"""A cold start's components (metric `cold_start_<name>_ms`), each measured on its own."""
BOOT_IN: dict[str, str] = {
    "redeploy": "to_ready",
    "delete-pods": "to_ready",
    "scale-to-zero": "first_latency",
    "action-update": "first_latency",
    "natural": "first_latency",
}
"""Which component holds the new instance's boot, by cold-start method: a redeploy, and
Knative's pod deletion, wait for the new instance before it is ready; scaling to zero, an
action update and an idle reap leave the boot to the next request (scale from zero, container
creation and init)."""


@dataclass(frozen=True)
class ColdStartParts:
    """One cold start of a segment (forced, or an idle wait), component by component, in ms;
    None where that part did not happen, was not recorded, or does not count."""

    to_ready: float | None
    """The control-plane work of a forced cold start (`cost_s`): deploy or scale to ready."""
    ready_to_send: float | None
    """From ready (`effective_ns`) to the send of the segment's first request."""
    first_latency: float | None
    """That first request's latency: ok, and not reported warm."""
    init: float | None
    """The init time the platform reported for that same request."""
    sent: bool
    """The segment's first request was recorded (results from before it was are not)."""
    ok: bool
    flag: int
    """COLD, WARM or UNKNOWN: what the first request reported."""


def cold_start_parts(segments: CellSummary | None, requests: Requests) -> list[ColdStartParts]:
    """Each cold start of a cell, from the campaign loop's segment events and the cell's records.

    A forced cold start gives `to_ready`; the first request after it (or after an idle wait)
    gives `ready_to_send` (forced only), its latency and the platform's init time. The first
    request is found among the records by its correlation id for its cold flag; its latency
    counts only when it succeeded and did not report itself warm (a warm first request means
    the cold start did not happen)."""
    if segments is None:
        return []
    by_id = {
        str(call_id): index for index, call_id in enumerate(requests.ids) if call_id is not None
    }
    platform = {record.id: record for record in requests.platform}
    cold = requests.cold
    found: list[ColdStartParts] = []
    for event in segments.segments:
        forced = event.cold_start
        first = event.first_request
        if forced is None and first is None:
            continue  # neither a forced cold start nor an idle wait before a workload
        to_ready = None if forced is None else forced.cost_s * 1000
        if first is None:
            found.append(ColdStartParts(to_ready, None, None, None, False, False, UNKNOWN))
            continue
        index = by_id.get(first.id) if first.id is not None else None
        flag = int(cold[index]) if index is not None else UNKNOWN
        ready_to_send = None
        if forced is not None:
            ready_to_send = (first.send_ns - forced.effective_ns) / NS_PER_MS
        counts = first.ok and flag != WARM
        record = platform.get(first.id) if first.id is not None else None
        init = record.init_ms if counts and record is not None else None
        latency = (first.end_ns - first.send_ns) / NS_PER_MS if counts else None
        found.append(ColdStartParts(to_ready, ready_to_send, latency, init, True, first.ok, flag))
    return found


def cold_start_cost_rows(rows: Rows, parts: Sequence[ColdStartParts]) -> None:
    """Each component of the cold starts on its own (count, mean, p50, max): never summed, as
    only some of them happen within one request (docs/statistics.md)."""
    if not parts:
        return
    rows.add("cold_start_first", "count", len(parts), "1")
    rows.add("cold_start_first", "sent", sum(p.sent for p in parts), "1")
    rows.add("cold_start_first", "ok", sum(p.ok for p in parts), "1")
    for name, flag in (("cold", COLD), ("warm", WARM), ("unknown", UNKNOWN)):
        rows.add("cold_start_first", name, sum(p.ok and p.flag == flag for p in parts), "1")
    for name, _ in COLD_START_COMPONENTS:
        values = np.asarray(
            [v for p in parts if (v := getattr(p, name)) is not None], dtype=np.float64
        )
        metric = f"cold_start_{name}_ms"
        rows.add(metric, "count", int(values.size), "1")
        if values.size:
            rows.add(metric, "mean", float(values.mean()), "ms")
            rows.add(metric, "p50", exact_percentile(values, 50), "ms")
            rows.add(metric, "max", float(values.max()), "ms")
