"""The `loadgen` command line: one module per command, registered on one Typer app.

The app is built in `loadgen.cli.application` on first use, not when this package is imported:
the console script imports `main` from here, and every worker process the runner spawns
re-imports the parent's main module (multiprocessing's spawn start method), so a heavy import
here would be paid again before every measured segment.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loadgen.cli.application import app as app


def main() -> None:
    """Console-script entry point."""
    from loadgen.cli.application import app

    app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from loadgen.cli.application import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
