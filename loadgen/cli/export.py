"""`loadgen export`: records to Parquet or CSV."""

from pathlib import Path
from typing import Annotated

import typer

from loadgen.cli.params import make_output_dir, usage_error
from loadgen.record.format import ExportFormat
from loadgen.record.inspect import NoRecordsError
from loadgen.record.reader import RecordFormatError


def register(app: typer.Typer) -> None:
    app.command("export", no_args_is_help=True)(export)


def export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Records directory (hit --records).", metavar="DIRECTORY", show_default=False
        ),
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="parquet or csv.")] = "parquet",
) -> None:
    """Convert a run's records into one Parquet or CSV file (one row per request)."""
    if not directory.is_dir():
        raise usage_error("DIRECTORY", f"not a directory: {directory}")
    if output.is_dir():
        raise usage_error("--output", f"is a directory: {output}")
    make_output_dir(output.parent)
    try:
        from loadgen.record.export import export_run

        rows = export_run(directory, output, fmt)
    except NoRecordsError as exc:
        raise usage_error("DIRECTORY", str(exc)) from None
    except RecordFormatError as exc:
        typer.echo(f"loadgen export: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{rows} records written to {output}", err=True)
