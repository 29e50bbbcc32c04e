"""Finding and reading a results tree: the manifest, its cells and each cell's optional files."""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from loadgen.record.reader import record_files
from loadgen.results.models import (
    CampaignManifest,
    CellInfo,
    CellSummary,
    MetricsFile,
    PlatformRecord,
    SegmentLoad,
)
from loadgen.userfiles import RESULTS_JSON_LIMIT, UserFileError, read_text, shorten

MANIFEST = "manifest.json"
CELLS = "cells"
CELL_INFO = "cell.json"
RECORDS = "records"
PLATFORM = "platform.jsonl"
METRICS = "metrics.json"
CELL_SUMMARY = "summary.json"
SUMMARY = "summary"

ModelT = TypeVar("ModelT", bound=BaseModel)


class ResultsError(ValueError):
    """The directory is not a readable results tree; the message names the bad file."""


def _load(model: type[ModelT], path: Path) -> ModelT:
    if not path.exists() and not path.is_symlink():
        raise ResultsError(f"{path}: missing")
    try:
        text = read_text(path, kind="a results file", limit=RESULTS_JSON_LIMIT)
    except UserFileError as exc:
        raise ResultsError(f"cannot read {exc}") from None
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = shorten(".".join(str(part) for part in first["loc"])) or "(document)"
        raise ResultsError(f"{path}: invalid at {where}: {shorten(first['msg'], 120)}") from None


@dataclass(frozen=True)
class Cell:
    """One cell directory with its parsed `cell.json`."""

    path: Path
    info: CellInfo

    @property
    def records_dir(self) -> Path:
        return self.path / RECORDS

    def record_paths(self) -> list[Path]:
        return record_files(self.records_dir) if self.records_dir.is_dir() else []

    def platform_records(self) -> list[PlatformRecord]:
        """The platform's view of each invocation; empty when the file is absent."""
        path = self.path / PLATFORM
        if not path.is_file():
            return []
        rows: list[PlatformRecord] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(PlatformRecord.model_validate(json.loads(line)))
                except (ValueError, ValidationError) as exc:
                    raise ResultsError(f"{path}:{number}: invalid platform record: {exc}") from None
        return rows

    def metrics(self) -> MetricsFile | None:
        path = self.path / METRICS
        return _load(MetricsFile, path) if path.is_file() else None

    def segments(self) -> CellSummary | None:
        """The campaign loop's `summary.json` (segments: forced cold starts, idle waits, first
        requests, engine summaries); None when absent."""
        path = self.path / CELL_SUMMARY
        return _load(CellSummary, path) if path.is_file() else None

    def segment_loads(self) -> list[SegmentLoad]:
        """Each engine run's loader CPU and host load, from the campaign loop's `summary.json`, in
        segment order; empty when the file is absent."""
        summary = self.segments()
        return [] if summary is None else summary.loads()


@dataclass(frozen=True)
class ResultsTree:
    """A campaign's results directory."""

    root: Path
    manifest: CampaignManifest
    cells: tuple[Cell, ...]

    @property
    def summary_dir(self) -> Path:
        return self.root / SUMMARY


def open_results(root: str | os.PathLike[str]) -> ResultsTree:
    """Read the manifest and every `cell.json`; records are read later, cell by cell."""
    path = Path(root)
    if not path.is_dir():
        raise ResultsError(f"{path}: not a directory")
    manifest = _load(CampaignManifest, path / MANIFEST)
    cells_dir = path / CELLS
    if not cells_dir.is_dir():
        raise ResultsError(f"{cells_dir}: missing (a results tree has a cells/ directory)")
    cells: list[Cell] = []
    for cell_dir in sorted(p for p in cells_dir.iterdir() if p.is_dir()):
        info = _load(CellInfo, cell_dir / CELL_INFO)
        if info.id != cell_dir.name:
            raise ResultsError(
                f"{cell_dir / CELL_INFO}: id {info.id!r} differs from its directory name"
            )
        cells.append(Cell(cell_dir, info))
    return ResultsTree(path, manifest, tuple(cells))
