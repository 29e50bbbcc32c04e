"""The Typer app of `loadgen`: every command module registered on it, in a group
(`loadgen.cli.errors.LoadgenGroup`) that maps what escapes a command to an exit status."""

from typing import Annotated

import typer

from loadgen.cli import (
    aggregate,
    compare,
    doctor,
    export,
    hit,
    inspect,
    local,
    report,
    run,
    validate,
)
from loadgen.cli.errors import LoadgenGroup

app = typer.Typer(
    name="loadgen",
    cls=LoadgenGroup,
    help="Load generator for benchmarking serverless platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from loadgen.version import loadgen_version

        typer.echo(f"loadgen {loadgen_version()}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Load generator for benchmarking serverless platforms."""


hit.register(app)
inspect.register(app)
export.register(app)
aggregate.register(app)
compare.register(app)
report.register(app)
validate.register(app)
run.register(app)
doctor.register(app)
local.register(app)
