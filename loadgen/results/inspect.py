"""`loadgen inspect RESULTS_DIR`: whether a campaign finished and every cell's records are whole.

A campaign is complete when its manifest has an end time (the run was not interrupted), every
cell finished (`cell.json` status `complete` or `invalid`: measured, with validity warnings)
and every cell's records pass `inspect_run` (one whole file per process of each of its engine
runs, segments included).
"""

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from loadgen.record.inspect import NoRecordsError, inspect_run
from loadgen.results.tree import open_results

#: Where `loadgen run` keeps the cell it is measuring (experiments/results_dir.py's INCOMPLETE).
IN_PROGRESS = ".incomplete"


class CellInspection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    status: str
    records: int
    segments: int
    complete: bool
    problems: list[str]


class CampaignInspection(BaseModel):
    """`loadgen inspect RESULTS_DIR --json`."""

    model_config = ConfigDict(extra="forbid")

    campaign: str
    complete: bool
    cells: int
    complete_cells: int
    records: int
    started: str
    ended: str | None
    tool_version: str
    cell_reports: list[CellInspection]
    problems: list[str]


def is_campaign(directory: str | os.PathLike[str]) -> bool:
    return (Path(directory) / "manifest.json").is_file()


def inspect_campaign(directory: str | os.PathLike[str]) -> CampaignInspection:
    """Raises `ResultsError` (naming the file) when the tree itself cannot be read."""
    tree = open_results(directory)
    problems: list[str] = []
    if tree.manifest.ended is None:
        problems.append(
            "the campaign did not finish (interrupted, or still running): "
            "`loadgen run --resume` completes it"
        )
    in_progress = tree.root / IN_PROGRESS
    if in_progress.is_dir() and any(in_progress.iterdir()):
        names = ", ".join(sorted(p.name for p in in_progress.iterdir()))
        problems.append(f"cells being measured or abandoned mid-way in {IN_PROGRESS}/: {names}")
    reports: list[CellInspection] = []
    for cell in tree.cells:
        cell_problems: list[str] = []
        records = segments = 0
        if cell.info.status == "failed":
            cell_problems.append(f"failed: {cell.info.reason or 'no reason recorded'}")
        elif cell.info.status == "partial":
            cell_problems.append(f"partial: {cell.info.reason or 'no reason recorded'}")
        if cell.records_dir.is_dir():
            try:
                run = inspect_run(cell.records_dir)
            except NoRecordsError:
                if cell.info.status != "failed":
                    cell_problems.append("no record files in records/")
            else:
                records, segments = run.records, run.segments
                cell_problems.extend(run.problems)
        elif cell.info.status != "failed":
            cell_problems.append("no records/ directory")
        reports.append(
            CellInspection(
                id=cell.info.id,
                status=cell.info.status,
                records=records,
                segments=segments,
                complete=not cell_problems,
                problems=cell_problems,
            )
        )
        problems.extend(f"cell {cell.info.id}: {problem}" for problem in cell_problems)
    return CampaignInspection(
        campaign=tree.manifest.campaign,
        complete=not problems,
        cells=len(reports),
        complete_cells=sum(report.complete for report in reports),
        records=sum(report.records for report in reports),
        started=tree.manifest.started,
        ended=tree.manifest.ended,
        tool_version=tree.manifest.tool_version,
        cell_reports=reports,
        problems=problems,
    )
