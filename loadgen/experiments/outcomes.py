"""What a campaign reports as it runs: each cell's outcome, the campaign's report, the
listener the CLI implements to show them, and the error that stops a campaign."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
