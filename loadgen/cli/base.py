"""The `loadgen` Typer app without its commands: its settings and the `--version` option.

`loadgen.cli.application` registers every command on one; `loadgen.cli.main` registers only
the command being run when that is one of the light ones (`hit`, `inspect`, `export`), so
`loadgen hit` does not import the campaign loop, the platforms or the analysis.
"""

from typing import Annotated

import typer

from loadgen.cli.errors import LoadgenGroup


def _show_version(value: bool) -> None:
    if value:
        from loadgen.version import loadgen_version

        typer.echo(f"loadgen {loadgen_version()}")
        raise typer.Exit(0)


def _options(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    """Load generator for benchmarking serverless platforms."""


def new_app() -> typer.Typer:
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
    app.callback()(_options)
    return app
