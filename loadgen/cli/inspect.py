"""`loadgen inspect`: how many records a run left and whether every process finished."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.params import usage_error
from loadgen.record.inspect import NoRecordsError, RunInspection, inspect_run


def register(app: typer.Typer) -> None:
    app.command("inspect", no_args_is_help=True)(inspect)


def inspect(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Records directory (hit --records).", metavar="DIRECTORY", show_default=False
        ),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: records, complete, ...")
    ] = False,
) -> None:
    """Count the records of a run and check every file is intact and finished."""
    if not directory.is_dir():
        raise usage_error("DIRECTORY", f"not a directory: {directory}")
    try:
        report = inspect_run(directory)
    except NoRecordsError as exc:
        raise usage_error("DIRECTORY", str(exc)) from None
    if json_output:
        sys.stdout.write(json.dumps(report.model_dump()) + "\n")
    else:
        sys.stdout.write(_render(report) + "\n")


def _render(report: RunInspection) -> str:
    lines = [
        f"Run:        {report.run_id or 'mixed'}",
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
