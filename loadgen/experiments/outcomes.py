"""What a campaign reports as it runs: each cell's outcome, the campaign's report, the
listener the CLI implements to show them, and the error that stops a campaign."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen.experiments.cells import CellPlan
from loadgen.processes.counters import ProgressSnapshot


class CampaignError(RuntimeError):
    """The campaign cannot start or go on (the message says why)."""


@dataclass
class CellOutcome:
    cell: CellPlan
    status: str
    reason: str | None = None
    requests: int = 0
    errors: int = 0
    p99_ms: float | None = None


@dataclass
class CampaignReport:
    results_dir: Path
    outcomes: list[CellOutcome] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False


class CellListener:
    """What the CLI shows: cells done, and the engine's live counters of the current cell."""

    def cell_started(self, cell: CellPlan, index: int, total: int) -> None:
        del cell, index, total

    def cell_finished(self, outcome: CellOutcome) -> None:
        del outcome

    def engine_progress(self, snapshot: ProgressSnapshot, elapsed_s: float) -> None:
        del snapshot, elapsed_s

    def note(self, message: str) -> None:
        del message


def outcome_of(cell: CellPlan, events: list[dict[str, Any]]) -> CellOutcome:
    """A measured cell's outcome from its segments' events: partial when a segment says so,
    failed when no request succeeded. Nothing measured is not a result: a cell whose every
    request failed (bad params, a function that is down) or that sent none (a trace function
    idle through the whole window) must not pass for a complete one."""
    summaries = [e["summary"] for e in events if "summary" in e]
    requests = sum(s["requests"] for s in summaries)
    errors = sum(sum(s["errors"].values()) for s in summaries)
    ok = sum(s["ok"] for s in summaries)
    partial = [f"segment {e['segment']}: {e['partial']}" for e in events if "partial" in e]
    status, reason = ("partial", "; ".join(partial)) if partial else ("complete", None)
    if ok == 0:
        status = "failed"
        reason = (
            f"no request succeeded ({requests:,} sent, {errors:,} errors)"
            if requests
            else "no request was sent"
        )
    return CellOutcome(
        cell,
        status,
        reason=reason,
        requests=requests,
        errors=errors,
        p99_ms=max((s["latency_ms"]["p99"] or 0 for s in summaries), default=None),
    )
