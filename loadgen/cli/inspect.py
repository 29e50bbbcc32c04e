"""`loadgen inspect`: whether a run's records, or a whole campaign, are complete and intact."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.params import usage_error
from loadgen.record.inspect import NoRecordsError, RunInspection, inspect_run
from loadgen.results.inspect import CampaignInspection, inspect_campaign, is_campaign
from loadgen.results.tree import ResultsError

#: A run or campaign that is not complete (a torn or unfinished file, a missing process file,
#: a failed cell, an interrupted campaign).
INCOMPLETE_EXIT = 1


def register(app: typer.Typer) -> None:
    app.command("inspect", no_args_is_help=True)(inspect)


def inspect(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Records directory (hit --records), a campaign cell, or a campaign results "
            "directory.",
            metavar="DIRECTORY",
            show_default=False,
        ),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: records, complete, ...")
    ] = False,
) -> None:
    """Check every record file is intact and finished; exit 1 if the run or campaign is not
    complete."""
    if not directory.is_dir():
        raise usage_error("DIRECTORY", f"not a directory: {directory}")
    report: RunInspection | CampaignInspection
    if is_campaign(directory):
        try:
            report = inspect_campaign(directory)
        except ResultsError as exc:
            raise usage_error("DIRECTORY", str(exc)) from None
        text = _render_campaign(report)
    else:
        records = directory / "records"
        try:
            report = inspect_run(records if records.is_dir() else directory)
        except NoRecordsError as exc:
            raise usage_error("DIRECTORY", str(exc)) from None
        text = _render(report)
    sys.stdout.write((json.dumps(report.model_dump()) if json_output else text) + "\n")
    sys.stdout.flush()
    if not report.complete:
        raise typer.Exit(INCOMPLETE_EXIT)


def _render(report: RunInspection) -> str:
    run = report.run_id or "–"
    if report.segments:
        run = (
            "1 segment, one engine run"
            if report.segments == 1
            else f"{report.segments} segments, one engine run each"
        )
    lines = [
        f"Run:        {run}",
        f"Records:    {report.records:,}",
        f"Complete:   {'yes' if report.complete else 'NO'}",
        f"Processes:  {report.processes}",
        f"Started:    {report.started or '–'}",
        f"Ended:      {report.ended or '–'}",
        "",
    ]
    for file in report.files:
        state = "complete" if file.complete else "INCOMPLETE"
        lines.append(f"  {Path(file.path).name}  {file.records:>12,}  {state}  {file.reason or ''}")
    lines.extend(f"  ! {problem}" for problem in report.problems)
    return "\n".join(lines)


def _render_campaign(report: CampaignInspection) -> str:
    lines = [
        f"Campaign:   {report.campaign}",
        f"Cells:      {report.complete_cells} of {report.cells} complete",
        f"Records:    {report.records:,}",
        f"Complete:   {'yes' if report.complete else 'NO'}",
        f"Started:    {report.started}",
        f"Ended:      {report.ended or '– (did not finish)'}",
    ]
    if report.problems:
        lines.append("")
        lines.extend(f"  ! {problem}" for problem in report.problems)
    return "\n".join(lines)
